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

from cli.sandbox.common import (
    DEMO_CUSTOMER,
    DEMO_STAFF,
    EXTRA_HINT,
    MODE_VAR,
    MODES,
    STACK,
    Sandbox,
    SandboxEnv,
    check_extra,
    database_url,
    db_path,
    mode,
)

__all__ = [
    "DEMO_CUSTOMER",
    "DEMO_STAFF",
    "EXTRA_HINT",
    "MODES",
    "MODE_VAR",
    "STACK",
    "Sandbox",
    "SandboxEnv",
    "check_extra",
    "connect",
    "database_url",
    "db_path",
    "mode",
]


def connect(env: SandboxEnv, *, username: str = DEMO_CUSTOMER) -> Sandbox:
    """The sandbox for this command, started if need be, in the mode the environment asks."""
    if mode(env.environ) == "inprocess":
        from cli.sandbox.inprocess import start

        return start(env, username=username)
    from cli.sandbox.background import connect as connect_background

    return connect_background(env, username=username)
