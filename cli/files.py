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
