"""The embedded default: the built-in sandbox, logged in as the demo customer.

Used when no API URL is configured anywhere, so `moncompte invoices` shows something useful
on first run. Two ways to run it (`MONCOMPTE_SANDBOX`):

- `background` (the default): one `python -m server background` process per user and
  sandbox database, started by the first command that needs it and found by the next ones
  through its state file (`cli.sandbox.background`). This process only talks HTTP to it
  and never imports the server stack: a command costs what it costs against a real API.
- `inprocess`: the server started inside this process for the one command, stopped after
  it (`cli.sandbox.inprocess`); for environments that forbid background processes.

The server lives in the `sandbox` extra; without it we say how to get it instead of
failing with an ImportError.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cli.errors import UsageError

if TYPE_CHECKING:
    from cli.context import Env
    from cli.credentials import SandboxStore
    from cli.errors import NetworkError

DEMO_CUSTOMER = "demo"
DEMO_STAFF = "agent"
MODE_VAR = "MONCOMPTE_SANDBOX"
MODES = ("background", "inprocess")
# What the server stack is made of; an ImportError naming one of these means the extra
# is missing, anything else is a real bug and must surface as such.
STACK = ("fastapi", "sqlalchemy", "uvicorn", "fpdf")
EXTRA_HINT = "the built-in sandbox needs the sandbox extra: pip install 'moncompte[sandbox]'"


def db_path(environ: Mapping[str, str]) -> Path:
    override = environ.get("MONCOMPTE_SANDBOX_DB")
    if override:
        return Path(os.path.expanduser(override))  # ~nosuchuser: kept as typed
    import platformdirs

    return Path(platformdirs.user_data_dir("moncompte")) / "sandbox.db"


def database_url(path: Path) -> str:
    return f"sqlite:///{path}"


def mode(environ: Mapping[str, str]) -> str:
    value = environ.get(MODE_VAR, "").strip().lower() or "background"
    if value not in MODES:
        raise UsageError(
            f"{MODE_VAR}={environ.get(MODE_VAR)!r} is not a sandbox mode",
            hint=f"use {' or '.join(MODES)}",
        )
    return value


def check_extra() -> None:
    """A clear usage error, before starting anything, when the sandbox extra is missing."""
    import importlib.util

    missing = [name for name in STACK if importlib.util.find_spec(name) is None]
    if missing or importlib.util.find_spec("server") is None:
        raise UsageError(f"{EXTRA_HINT} (missing: {', '.join(missing or ['server'])})")


@dataclass
class Sandbox:
    """A running sandbox as a command sees it: where, how to log in, what to send."""

    url: str
    store: SandboxStore
    kind: str  # background | inprocess
    # Sent with every request (the background server's secret); never logged.
    headers: dict[str, str] = field(default_factory=dict)
    # Called when the server stopped answering mid-command: the error to raise instead.
    lost: Callable[[NetworkError], NetworkError] | None = None
    _stop: Callable[[], None] | None = field(default=None, repr=False)

    @property
    def private(self) -> bool:
        """Requests go straight to it, never through a proxy: they carry its secret."""
        return bool(self.headers)

    def stop(self) -> None:
        """End of the command: the in-process server stops; a background one stays."""
        if self._stop is not None:
            self._stop()
            self._stop = None


def connect(env: Env, *, username: str = DEMO_CUSTOMER) -> Sandbox:
    """The sandbox for this command, started if need be, in the mode the environment asks."""
    if mode(env.environ) == "inprocess":
        from cli.sandbox.inprocess import start

        return start(env, username=username)
    from cli.sandbox.background import connect as connect_background

    return connect_background(env, username=username)
