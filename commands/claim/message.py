"""What the user gives and gets as files: the message text (option, file, stdin or $EDITOR),
the attachments (read and checked before anything is sent), and the atomic write of a file.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cli.context import Env
from cli.errors import UsageError
from cli.files import cannot_read, cannot_write, os_reason
from cli.i18n import _

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024  # per file, as the server enforces
MAX_ATTACHMENTS = 10
MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
    (b"\xff\xd8\xff", "image/jpeg", "JPEG"),
)
TYPE_NAMES = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG",
              "text/plain": "text"}  # fmt: skip
EXTENSIONS = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".txt": "text/plain",
}


# --- input: message text and attachments --------------------------------------------------


def message_text(env: Env, text: str | None, file: str | None, *, header: str) -> str:
    if text is not None and file is not None:
        raise UsageError(_("give either --message or --message-file, not both"))
    if text is not None:
        body = text
    elif file == "-":
        body = env.read_stdin()
    elif file is not None:
        try:
            body = Path(os.path.expanduser(file)).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UsageError(_("cannot read {file}: not UTF-8 text").format(file=file)) from None
        except OSError as exc:
            raise cannot_read(file, exc) from None
    elif env.can_prompt:
        body = _edit(env, header)
    else:
        raise UsageError(
            _("no message given, and no terminal to open an editor"),
            hint=_("give --message TEXT, or --message-file FILE (- for stdin)"),
        )
    if not body.strip():
        raise UsageError(_("the message is empty: nothing was sent"))
    return body.strip("\n")


def _edit(env: Env, header: str) -> str:
    """Open $VISUAL/$EDITOR on a private temporary file; lines starting with # are dropped."""
    editor = env.environ.get("VISUAL") or env.environ.get("EDITOR") or "vi"
    template = "\n" + _(
        "# {header}\n"
        "# Write your message above. Lines starting with '#' are ignored;\n"
        "# an empty message cancels.\n"
    ).format(header=header)
    fd, name = tempfile.mkstemp(prefix="moncompte-claim-", suffix=".txt")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(template)
        try:
            status = subprocess.call([*shlex.split(editor), name])
        except OSError as exc:
            raise UsageError(
                _("cannot run the editor {editor!r}: {why}").format(
                    editor=editor, why=os_reason(exc)
                ),
                hint=_("set EDITOR, or give --message / --message-file"),
            ) from None
        if status != 0:
            raise UsageError(
                _("the editor exited with status {status}: nothing was sent").format(status=status)
            )
        text = Path(name).read_text(encoding="utf-8")
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


@dataclass(frozen=True)
class _File:
    filename: str
    content_type: str
    data: bytes


def read_attachments(paths: list[str] | None) -> list[dict[str, str]]:
    """Read and check every attachment before anything is sent (exit 2 on the first bad)."""
    paths = paths or []
    if len(paths) > MAX_ATTACHMENTS:
        raise UsageError(_("at most {n} attachments per message").format(n=MAX_ATTACHMENTS))
    files = [_read_attachment(p) for p in paths]
    return [
        {
            "filename": f.filename,
            "content_type": f.content_type,
            "content_base64": base64.b64encode(f.data).decode("ascii"),
        }
        for f in files
    ]


def _read_attachment(text: str) -> _File:
    path = Path(os.path.expanduser(text))
    name = path.name
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise UsageError(_("cannot attach {file}: not a file").format(file=text))
        # Checked before reading: a huge file is refused without loading it.
        if size > MAX_ATTACHMENT_BYTES:
            raise UsageError(
                _("cannot attach {file}: it is {size}, over the 5 MiB limit per file").format(
                    file=text, size=human_size(size)
                ),
                hint=_("compress it, or split it into several files"),
            )
        with path.open("rb") as fh:
            data = fh.read(MAX_ATTACHMENT_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(_("cannot attach {file}: no such file").format(file=text)) from None
    except OSError as exc:
        raise UsageError(
            _("cannot attach {file}: {why}").format(file=text, why=os_reason(exc))
        ) from None
    if len(data) > MAX_ATTACHMENT_BYTES:  # it grew while we looked
        raise UsageError(_("cannot attach {file}: over the 5 MiB limit per file").format(file=text))
    if not data:
        raise UsageError(_("cannot attach {file}: the file is empty").format(file=text))
    detected = _sniff(data)
    if detected is None:
        raise UsageError(
            _(
                "cannot attach {file}: only PDF, PNG, JPEG and plain text files are accepted, "
                "and its content is none of these"
            ).format(file=text)
        )
    claimed = EXTENSIONS.get(path.suffix.lower())
    if claimed is not None and claimed != detected:
        raise UsageError(
            _("cannot attach {file}: its name says {claimed} but its content is {detected}").format(
                file=text, claimed=TYPE_NAMES[claimed], detected=TYPE_NAMES[detected]
            )
        )
    return _File(name, detected, data)


def _sniff(data: bytes) -> str | None:
    """The type by the file's first bytes, as the server checks it; None if not accepted."""
    for magic, content_type, _name in MAGIC:
        if data.startswith(magic):
            return content_type
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(ch) < 32 and ch not in "\t\n\r\f" for ch in text):
        return None  # control characters: a binary file that happens to decode
    return "text/plain"


def human_size(n: int) -> str:
    """`1.5 MiB` (`1,5 Mio` in French: the decimal comma, and French's own unit names)."""
    from cli.i18n import language

    def one_decimal(value: float) -> str:
        text = f"{value:.1f}"
        return text.replace(".", ",") if language() == "fr" else text

    if n >= 1024 * 1024:
        return _("{n} MiB").format(n=one_decimal(n / (1024 * 1024)))
    if n >= 1024:
        return _("{n} KiB").format(n=one_decimal(n / 1024))
    return _("{n} B").format(n=n)


# --- output: files ------------------------------------------------------------------------


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file whole or not at all (a Ctrl-C never leaves half a letter).

    Mode 0600: the letter holds the customer's name, address and claim.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(_("cannot write {path}: no such directory").format(path=path))
    if path.exists() and not path.is_file():
        # A rename would replace a directory entry such as /dev/null with our file.
        raise cannot_write(path, _("not a regular file"))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise cannot_write(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise cannot_write(path, exc) from exc
        raise
