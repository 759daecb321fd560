"""Atomic, private file writes shared by the config, the credential file and drafts."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def atomic_write_text(path: Path, text: str, *, mode: int = 0o600) -> None:
    """Write `text` to `path` so a reader sees the old file or the new one, never half.

    The temporary file lives in the same directory (os.replace is only atomic within one
    file system) and is created with `mode` from the start, so a secret is never readable
    by others even for a moment. An interrupted write leaves the old file untouched.
    """
    import tempfile  # only when writing: every run reads the config, few write it

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def os_reason(exc: OSError) -> str:
    """Why a file or socket operation failed, in the user's language."""
    english = exc.strerror or str(exc)
    return errno_reason(exc.errno, english) if exc.errno is not None else english


def errno_reason(number: int, english: str) -> str:
    """`english` (the C library's `strerror`, English whatever the locale) in the user's
    language for the common errors; as is in English or for the others."""
    import errno

    from cli.i18n import _, language

    if language() == "en":
        return english
    reasons = {
        errno.ENOENT: _("no such file or directory"),
        errno.EACCES: _("permission denied"),
        errno.EPERM: _("operation not permitted"),
        errno.EISDIR: _("is a directory"),
        errno.ENOTDIR: _("not a directory"),
        errno.EEXIST: _("file exists"),
        errno.ENOSPC: _("no space left on device"),
        errno.EROFS: _("read-only file system"),
        errno.ECONNREFUSED: _("connection refused"),
        errno.ECONNRESET: _("connection reset by peer"),
        errno.ETIMEDOUT: _("connection timed out"),
        errno.ENETUNREACH: _("network is unreachable"),
        errno.EHOSTUNREACH: _("no route to host"),
    }
    import socket

    reasons[socket.EAI_NONAME] = _("unknown host name")
    reasons[socket.EAI_AGAIN] = _("temporary failure in name resolution")
    return reasons.get(number, english)


def cannot_write(path: object, why: OSError | str) -> Exception:
    """The usage error for a file that cannot be written, `why` worded for the user."""
    from cli.errors import UsageError
    from cli.i18n import _

    reason = os_reason(why) if isinstance(why, OSError) else why
    return UsageError(_("cannot write {path}: {why}").format(path=path, why=reason))


def cannot_read(path: object, why: OSError | str) -> Exception:
    """The usage error for a file that cannot be read, `why` worded for the user."""
    from cli.errors import UsageError
    from cli.i18n import _

    reason = os_reason(why) if isinstance(why, OSError) else why
    return UsageError(_("cannot read {file}: {why}").format(file=path, why=reason))


def json_reason(exc: ValueError) -> str:
    """Why a text is not JSON: the json module's own words ("Expecting value: line 1
    column 1 (char 0)") in English, the position alone in another language."""
    import json

    from cli.i18n import _, language

    if language() == "en" or not isinstance(exc, json.JSONDecodeError):
        return str(exc) or type(exc).__name__
    return _("line {line}, column {column}").format(line=exc.lineno, column=exc.colno)
