"""How a `python -m server` child is started: the same code on its path from anywhere, and
detached so that it outlives the command and ignores the terminal's Ctrl-C."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from cli.errors import UsageError
from cli.i18n import _


def server_environ() -> dict[str, str]:
    """The environment of a `python -m server` child: ours, with the same code on its path
    from any directory, and no DATABASE_URL (`--db` decides; a PostgreSQL URL would win)."""
    environ = dict(os.environ)
    environ.pop("DATABASE_URL", None)
    root = str(_package_root())
    environ["PYTHONPATH"] = os.pathsep.join(p for p in (root, environ.get("PYTHONPATH", "")) if p)
    return environ


def _package_root() -> Path:
    """The directory holding the `server` package (site-packages, or a checkout)."""
    import importlib.util

    spec = importlib.util.find_spec("server")
    if spec is None or spec.origin is None:
        raise UsageError(_("the built-in sandbox needs the sandbox extra"))

    return Path(spec.origin).resolve().parent.parent


def detached() -> dict[str, Any]:
    """Popen options for a process that outlives us and ignores our terminal's Ctrl-C."""
    if os.name == "nt":
        flags = 0
        for name in ("DETACHED_PROCESS", "CREATE_NEW_PROCESS_GROUP", "CREATE_NO_WINDOW"):
            flags |= getattr(subprocess, name, 0)
        return {"creationflags": flags}
    return {"start_new_session": True}
