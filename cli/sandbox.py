"""The embedded default: the reference server in-process, logged in as the demo customer.

Used when no API URL is configured anywhere, so `moncompte invoices list` shows something
useful on first run. The server lives in the `sandbox` extra; without it we say how to get
it instead of failing with an ImportError.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.credentials import SandboxStore
from cli.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cli.context import Env

DEMO_CUSTOMER = "demo"
DEMO_STAFF = "agent"
# What the server stack is made of; an ImportError naming one of these means the extra
# is missing, anything else is a real bug and must surface as such.
_STACK = ("fastapi", "sqlalchemy", "uvicorn", "fpdf")
_EXTRA_MODULES = {"server", "fastapi", "starlette", "sqlalchemy", "uvicorn", "fpdf", "pydantic"}


def db_path(environ: Mapping[str, str]) -> Path:
    override = environ.get("MONCOMPTE_SANDBOX_DB")
    if override:
        return Path(os.path.expanduser(override))  # ~nosuchuser: kept as typed
    import platformdirs

    return Path(platformdirs.user_data_dir("moncompte")) / "sandbox.db"


def database_url(path: Path) -> str:
    return f"sqlite:///{path}"


def embedded() -> Any:
    """The `server.embedded` module, or a clear usage error when the extra is missing."""
    # server.embedded imports its stack lazily, so a missing extra would only show later,
    # as a bare ModuleNotFoundError from inside start_background: look for it first.
    import importlib.util

    missing = [name for name in _STACK if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            "the built-in sandbox needs the sandbox extra: pip install 'moncompte[sandbox]'"
            f" (missing: {', '.join(missing)})"
        )
    try:
        module = importlib.import_module("server.embedded")
    except ImportError as exc:
        top = (exc.name or "").split(".")[0]
        if top in _EXTRA_MODULES:
            raise UsageError(
                "the built-in sandbox needs the sandbox extra: pip install 'moncompte[sandbox]'"
            ) from exc
        raise
    return module


@dataclass
class Sandbox:
    url: str
    database_url: str
    store: SandboxStore
    _server: Any

    def stop(self) -> None:
        self._server.stop()


def start_embedded(env: Env, *, username: str = DEMO_CUSTOMER) -> Sandbox:
    """Start the server on 127.0.0.1 (ephemeral port) over the user's sandbox database."""
    module = embedded()
    path = db_path(env.environ)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    today = env.today() if env.environ.get("MONCOMPTE_TODAY") else None
    server = module.start_background(database_url(path), host="127.0.0.1", port=0, today=today)
    try:
        token = module.mint_token(server.database_url, username)
    except BaseException:
        server.stop()
        raise
    env.debug(f"sandbox server at {server.url} on {path}")
    return Sandbox(server.url, server.database_url, SandboxStore(token, username), server)
