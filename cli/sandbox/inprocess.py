"""`MONCOMPTE_SANDBOX=inprocess`: the reference server inside this process, for one command.

Every command pays the server's start (about 3 s: FastAPI, SQLAlchemy and uvicorn imported
and booted) but no process outlives it: for environments that forbid background processes.
"""

from __future__ import annotations

import importlib
from typing import Any

from cli.credentials import SandboxStore
from cli.errors import UsageError
from cli.sandbox.common import (
    DEMO_CUSTOMER,
    Sandbox,
    SandboxEnv,
    check_extra,
    database_url,
    db_path,
    extra_hint,
    pinned_today,
)

_EXTRA_MODULES = {"server", "fastapi", "starlette", "sqlalchemy", "uvicorn", "fpdf", "pydantic"}


def embedded() -> Any:
    """The `server.embedded` module, or a clear usage error when the extra is missing."""
    # server.embedded imports its stack lazily, so a missing extra would only show later,
    # as a bare ModuleNotFoundError from inside start_background: look for it first.
    check_extra()
    try:
        return importlib.import_module("server.embedded")
    except ImportError as exc:
        top = (exc.name or "").split(".")[0]
        if top in _EXTRA_MODULES:
            raise UsageError(extra_hint()) from exc
        raise


def start(env: SandboxEnv, *, username: str = DEMO_CUSTOMER) -> Sandbox:
    """Start the server on 127.0.0.1 (ephemeral port) over the user's sandbox database."""
    module = embedded()
    path = db_path(env.environ)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    server = module.start_background(
        database_url(path), host="127.0.0.1", port=0, today=pinned_today(env)
    )
    try:
        token = module.mint_token(server.database_url, username)
    except BaseException:
        server.stop()
        raise
    env.debug(f"sandbox server in this process at {server.url} on {path}")
    return Sandbox(server.url, SandboxStore(token, username), "inprocess", _stop=server.stop)
