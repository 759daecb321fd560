"""The background sandbox's state file, as the CLI reads it, and what decides staleness.

The server writes the file (server/background.py); nothing here talks to it.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cli.errors import UsageError
from cli.i18n import _

SECRET_HEADER = "X-Moncompte-Sandbox"
IDLE_VAR = "MONCOMPTE_SANDBOX_IDLE_TIMEOUT"
DEFAULT_IDLE_TIMEOUT_S = 15 * 60.0
MAX_IDLE_TIMEOUT_S = 7 * 86_400.0
# Seeding a new database takes about a second; a large one (--customers) much longer.
START_TIMEOUT_S = 60.0
LOCK_TIMEOUT_S = START_TIMEOUT_S + 30.0
STOP_TIMEOUT_S = 10.0
CHECK_TIMEOUT_S = 5.0


class Unanswered(Exception):
    """Nothing that knows the secret answered at the state file's address."""


@dataclass(frozen=True)
class State:
    pid: int
    url: str
    version: str
    database: str
    today: str | None
    idle_timeout: float
    started_at: str
    secret: str

    @classmethod
    def read(cls, path: Path) -> State | None:
        """The state file's content, or None when absent, unreadable or malformed."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                pid=int(data["pid"]),
                url=str(data["url"]),
                version=str(data["version"]),
                database=str(data["database"]),
                today=None if data.get("today") is None else str(data["today"]),
                idle_timeout=float(data["idle_timeout"]),
                started_at=str(data["started_at"]),
                secret=str(data["secret"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None


def parse_idle_timeout(text: str, source: str) -> float:
    """Seconds, or a number with s, m or h: `900`, `15m`, `2h`."""
    raw = text.strip().lower()
    factor = {"s": 1, "m": 60, "h": 3600}.get(raw[-1:], 0)
    number = raw[:-1] if factor else raw
    try:
        value = float(number) * (factor or 1)
    except ValueError:
        value = -1.0
    if not 0 < value <= MAX_IDLE_TIMEOUT_S:
        raise UsageError(
            _("invalid idle timeout {value} ({source})").format(value=repr(text), source=source),
            hint=_("give seconds, or minutes or hours with m or h (15m, 2h), at most a week"),
        )

    return value


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C there: the HTTP check decides
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's: not ours
        return True
    return True


def state_dir() -> Path:
    """Where state files live: `$XDG_STATE_HOME/moncompte/sandbox` on Linux."""
    import platformdirs

    return Path(platformdirs.user_state_dir("moncompte")) / "sandbox"


def reap(pid: int) -> None:
    """Collect our own exited child (tests start servers from the test process)."""
    if os.name != "nt":
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


def last_log_line(path: Path) -> str:
    """The last non-blank line of the server's log: why it did not start, usually."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return _("no log")
    return next((line.strip() for line in reversed(lines) if line.strip()), _("empty log"))
