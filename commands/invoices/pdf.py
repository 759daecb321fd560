"""An invoice's PDF: fetched and checked, where `download` writes it (the default file name,
the checks made before any request), and the atomic write (a temporary file beside the
destination, then `os.replace`/`os.link`)."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from cli.context import Env
from cli.errors import UsageError
from cli.files import cannot_write
from cli.i18n import _


def fetch_pdf(env: Env, invoice_id: str) -> bytes:
    data = env.api().get_bytes(f"/v1/invoices/{invoice_id}/pdf")
    if not data.startswith(b"%PDF-"):
        raise UsageError(_("the server did not answer a PDF for {id}").format(id=invoice_id))
    return data


def destination(to: str | None, invoice_id: str, *, force: bool) -> Path:
    """The file `download --to` names (a directory: ID.pdf in it; none: ID.pdf here)."""
    dest = Path(os.path.expanduser(to)) if to else Path(_safe_name(invoice_id) + ".pdf")
    if dest.is_dir():
        dest = dest / (_safe_name(invoice_id) + ".pdf")
    # Checked before the download too, so a refusal costs no request.
    if dest.exists() and not force:
        raise UsageError(
            _("{path} already exists").format(path=dest), hint=_("add --force to replace it")
        )
    if not dest.parent.is_dir():
        raise UsageError(_("no such directory: {path}").format(path=dest.parent))
    if dest.exists() and not dest.is_file():
        # --force replaces a file, never a device such as /dev/full (a rename would).
        raise cannot_write(dest, _("not a regular file"))
    return dest


def _safe_name(invoice_id: str) -> str:
    """The default file name: the id with anything but letters, digits, - and _ replaced."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", invoice_id) or "invoice"


def write_atomically(dest: Path, data: bytes, *, force: bool) -> None:
    """Write `data` to `dest` via a temporary file beside it: readers (and a Ctrl-C) see
    either no file or the whole one. Without `force`, a file that appeared meanwhile is
    not replaced: `os.link` fails on an existing name, where `os.replace` would clobber."""
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        # 0600 from mkstemp: an invoice carries personal data (name, address, amounts).
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, dest)
        else:
            try:
                os.link(tmp, dest)
            except FileExistsError:
                raise UsageError(
                    _("{path} already exists").format(path=dest),
                    hint=_("add --force to replace it"),
                ) from None
            except OSError:  # a file system without hard links: best effort
                if dest.exists():
                    raise UsageError(
                        _("{path} already exists").format(path=dest),
                        hint=_("add --force to replace it"),
                    ) from None
                os.replace(tmp, dest)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
