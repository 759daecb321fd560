"""What the two ways of running the built-in sandbox share: where its database is, which
mode the environment asks for, whether the server's extra is installed, and `Sandbox`, a
running sandbox as a command sees it. `SandboxEnv` is what they need of the Env: they
depend on that shape, not on cli.context, which depends on them."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cli.errors import UsageError
from cli.i18n import N_, _, translated

if TYPE_CHECKING:
    import datetime as dt

    from cli.credentials import SandboxStore
    from cli.errors import NetworkError
    from cli.http import ApiClient


class SandboxEnv(Protocol):
    """The part of `cli.context.Env` the sandbox uses."""

    @property
    def environ(self) -> Mapping[str, str]: ...

    def today(self) -> dt.date: ...

    def debug(self, message: str) -> None: ...

    def api(self) -> ApiClient: ...


DEMO_CUSTOMER = "demo"
DEMO_STAFF = "agent"
MODE_VAR = "MONCOMPTE_SANDBOX"
MODES = ("background", "inprocess")
# What the server stack is made of; an ImportError naming one of these means the extra
# is missing, anything else is a real bug and must surface as such.
STACK = ("fastapi", "sqlalchemy", "uvicorn", "fpdf")
EXTRA_HINT = N_("the built-in sandbox needs the sandbox extra: pip install 'moncompte[sandbox]'")


def extra_hint() -> str:
    """EXTRA_HINT in the user's language."""
    return translated(EXTRA_HINT)


def no_such_user(username: str) -> UsageError:
    return UsageError(_("no sandbox user named {username}").format(username=repr(username)))


def db_path(environ: Mapping[str, str]) -> Path:
    override = environ.get("MONCOMPTE_SANDBOX_DB")
    if override:
        return Path(os.path.expanduser(override))  # ~nosuchuser: kept as typed
    import platformdirs

    return Path(platformdirs.user_data_dir("moncompte")) / "sandbox.db"


def database_url(path: Path) -> str:
    return f"sqlite:///{path}"


def pinned_today(env: SandboxEnv) -> dt.date | None:
    """The date MONCOMPTE_TODAY pins the sandbox's server to, or None for the real date."""
    return env.today() if env.environ.get("MONCOMPTE_TODAY") else None


def mode(environ: Mapping[str, str]) -> str:
    value = environ.get(MODE_VAR, "").strip().lower() or "background"
    if value not in MODES:
        raise UsageError(
            _("{setting} is not a sandbox mode").format(
                setting=f"{MODE_VAR}={environ.get(MODE_VAR)!r}"
            ),
            hint=_("use {modes}").format(modes=_(" or ").join(MODES)),
        )
    return value


def check_extra() -> None:
    """A clear usage error, before starting anything, when the sandbox extra is missing."""
    import importlib.util

    missing = [name for name in STACK if importlib.util.find_spec(name) is None]
    if missing or importlib.util.find_spec("server") is None:
        raise UsageError(
            _("{hint} (missing: {modules})").format(
                hint=extra_hint(), modules=", ".join(missing or ["server"])
            )
        )


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
