"""The background sandbox: one `python -m server background` per user and database.

The first command that needs the sandbox starts the server detached (127.0.0.1, a port the
OS picks, over the user's sandbox database) and waits until it answers; the server writes
its state file (0600: pid, url, version, database, pinned date, a random secret) in the
user's state dir. Later commands read that file and talk HTTP, presenting the secret; this
module imports nothing of the server stack. The server stops by itself after an idle time
(15 min by default, `MONCOMPTE_SANDBOX_IDLE_TIMEOUT`).

Exactly one server per database: starting is done under a file lock, and whoever gets the
lock first looks again before starting one. A state file is stale when its pid is dead,
when whatever listens on its port does not know its secret, or when it names another
moncompte version (an upgrade: that server runs the old code) or another pinned date; a
stale server that still answers is asked to stop, then a new one is started.

Requests to it never go through a proxy: they carry the secret.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cli import __version__
from cli.credentials import SandboxStore
from cli.errors import MoncompteError, NetworkError, register_secret
from cli.files import os_reason
from cli.i18n import _
from cli.sandbox.common import (
    DEMO_CUSTOMER,
    Sandbox,
    SandboxEnv,
    check_extra,
    db_path,
    no_such_user,
    pinned_today,
)
from cli.sandbox.process import detached, server_environ
from cli.sandbox.state import (
    CHECK_TIMEOUT_S,
    IDLE_VAR,
    LOCK_TIMEOUT_S,
    SECRET_HEADER,
    START_TIMEOUT_S,
    STOP_TIMEOUT_S,
    State,
    Unanswered,
    last_log_line,
    parse_idle_timeout,
    pid_alive,
    reap,
    state_dir,
)

__all__ = [
    "SECRET_HEADER",
    "Launcher",
    "State",
    "connect",
    "parse_idle_timeout",
    "pid_alive",
    "server_environ",
    "stop_state_file",
]


class Launcher:
    """The background server of one sandbox database: find, start, stop, describe."""

    def __init__(
        self,
        environ: Mapping[str, str],
        database: Path,
        *,
        today: str | None = None,
        idle_timeout: float | None = None,
        log: Any = None,
    ) -> None:
        self.environ = environ
        self.database = database.expanduser().resolve()
        self.today = today
        self.idle_timeout = idle_timeout
        self._log = log
        key = hashlib.sha256(str(self.database).encode()).hexdigest()[:16]
        directory = state_dir()
        self.state_path = directory / f"{key}.json"
        self.lock_path = directory / f"{key}.lock"
        self.log_path = directory / f"{key}.log"

    @classmethod
    def for_env(cls, env: SandboxEnv) -> Launcher:
        raw = env.environ.get(IDLE_VAR, "").strip()
        idle = parse_idle_timeout(raw, IDLE_VAR) if raw else None
        pinned = pinned_today(env)
        today = pinned.isoformat() if pinned else None
        return cls(env.environ, db_path(env.environ), today=today, idle_timeout=idle,
                   log=env.debug)  # fmt: skip

    def _debug(self, message: str) -> None:
        if self._log is not None:
            self._log(message)

    # -- reading the state ----------------------------------------------------------------

    def read(self) -> State | None:
        return State.read(self.state_path)

    def mismatch(self, state: State) -> str | None:
        """Why this server will not do for us, or None when it will."""
        if state.version != __version__:
            return f"it runs moncompte {state.version}, this is {__version__}"
        if state.database != f"sqlite:///{self.database}":
            return f"it serves {state.database}"
        if state.today != self.today:
            return f"its date is pinned to {state.today or 'today'}, not {self.today or 'today'}"
        return None

    def running(self) -> State | None:
        """The server of the state file when it is alive and answers with our secret."""
        state = self.read()
        if state is None or not pid_alive(state.pid):
            return None
        try:
            self.request(state, "GET", "/_sandbox/info")
        except Unanswered:
            return None
        return state

    # -- talking to it ------------------------------------------------------------------

    def request(
        self, state: State, method: str, path: str, body: Any = None, *, timeout: float = 0
    ) -> Any:
        """One request with the secret, straight to it (no proxy); the JSON answer.

        `Unanswered` when nothing that knows the secret answers there; a 4xx is returned
        as {"status": N, ...} for the caller to judge."""
        from cli.httpx_lite import httpx

        # Plain http:// on loopback: no certificate store to load (about 20-40 ms).
        transport = httpx.HTTPTransport(verify=False, trust_env=False)
        try:
            with httpx.Client(transport=transport, trust_env=False) as client:
                response = client.request(
                    method,
                    state.url + path,
                    json=body,
                    headers={SECRET_HEADER: state.secret},
                    timeout=timeout or CHECK_TIMEOUT_S,
                    follow_redirects=False,
                )
        except httpx.HTTPError as exc:
            raise Unanswered(f"{type(exc).__name__}: {exc}") from None
        if response.status_code in (401, 403):  # not ours, or not our secret
            raise Unanswered(f"answered {response.status_code}")
        if response.status_code >= 500:  # ours, in trouble: starting another would not help
            raise NetworkError(
                _("the sandbox server answered {status} to {request}").format(
                    status=response.status_code, request=f"{method} {path}"
                ),
                hint=_("try again; its log: {path}").format(path=self.log_path),
            )
        try:
            data = response.json()
        except ValueError:
            raise Unanswered(_("answered something that is not JSON")) from None
        if not isinstance(data, dict):
            raise Unanswered(_("answered something that is not a JSON object"))
        if response.status_code >= 400:
            data["status"] = response.status_code
        return data

    def token(self, state: State, username: str) -> str:
        data = self.request(state, "GET", f"/_sandbox/token?username={quote(username)}")
        if data.get("status") == 404:
            raise no_such_user(username)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise Unanswered(_("answered a token request without a token"))
        return token

    # -- starting and stopping ----------------------------------------------------------

    def find(self) -> State | None:
        """The state file's server when it is for us and certainly ours, without a request:
        its pid is alive and is the `python -m server background` of this state file
        (Linux, through /proc). Elsewhere, or when in doubt, None: `ensure` asks it."""
        state = self.read()
        if state is None or self.mismatch(state) is not None or not pid_alive(state.pid):
            return None
        return state if self._identity(state) else None

    def ensure(self, username: str = DEMO_CUSTOMER) -> tuple[State, str]:
        """A server for us, started if need be, and a token for `username` on it."""
        state = self.read()
        if (
            state is not None
            and self.mismatch(state) is None
            and pid_alive(state.pid)
            and self._identity(state) is not False
        ):
            try:
                return state, self.token(state, username)
            except Unanswered as why:  # killed, hung, or another program on that port
                self._debug(f"sandbox state {self.state_path} is stale: {why}")
        from filelock import FileLock, Timeout

        self._make_state_dir()
        try:
            with FileLock(str(self.lock_path), timeout=LOCK_TIMEOUT_S):
                # Another command may have started it while we waited for the lock.
                state = self.read()
                if state is not None:
                    reason = self.mismatch(state)
                    ours = self._identity(state) is not False
                    if reason is None and pid_alive(state.pid) and ours:
                        with contextlib.suppress(Unanswered):
                            return state, self.token(state, username)
                    elif reason is not None:
                        self._debug(f"restarting the sandbox server: {reason}")
                        self._stop(state)
                    self._forget(state)
                state = self._spawn()
                return state, self.token(state, username)
        except Timeout:
            raise NetworkError(
                _("another moncompte has been starting the sandbox for {seconds} s").format(
                    seconds=f"{LOCK_TIMEOUT_S:.0f}"
                ),
                hint=_("see {log}, or remove {lock} if nothing runs").format(
                    log=self.log_path, lock=self.lock_path
                ),
            ) from None
        except Unanswered as why:
            raise NetworkError(
                _("the sandbox server started but does not answer ({reason})").format(reason=why),
                hint=_("see {path}").format(path=self.log_path),
            ) from None

    def start(self) -> tuple[State, bool]:
        """The running server, or a new one; and whether it was started now."""
        before = self.running()
        if before is not None and self.mismatch(before) is None:
            return before, False
        state, _ = self.ensure()
        return state, True

    def stop(self) -> State | None:
        """Stop the server of this database if one runs; the state it had."""
        from filelock import FileLock

        if self.read() is None:
            return None
        self._make_state_dir()
        with FileLock(str(self.lock_path), timeout=LOCK_TIMEOUT_S):
            state = self.read()
            if state is None:
                return None
            stopped = self._stop(state) if pid_alive(state.pid) else False
            self._forget(state)
            return state if stopped else None

    def _make_state_dir(self) -> None:
        directory = self.state_path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not os.access(directory, os.W_OK):
                raise PermissionError(13, "Permission denied")
        except OSError as exc:
            raise MoncompteError(
                _("cannot keep the sandbox's state in {directory}: {reason}").format(
                    directory=directory, reason=os_reason(exc)
                ),
                hint=_(
                    "set XDG_STATE_HOME to a writable directory, "
                    "or MONCOMPTE_SANDBOX=inprocess to run it inside each command"
                ),
            ) from None

    def _stop(self, state: State) -> bool:
        """Ask it to stop (HTTP, then SIGTERM if it is ours but deaf); wait for its end."""
        try:
            self.request(state, "POST", "/_sandbox/stop")
        except (Unanswered, NetworkError):
            if not self._identity(state):
                return False  # a dead server whose pid went to another program
            with contextlib.suppress(OSError):
                import signal

                os.kill(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while pid_alive(state.pid) and time.monotonic() < deadline:
            reap(state.pid)
            time.sleep(0.02)
        return True

    def _identity(self, state: State) -> bool | None:
        """Whether `state.pid` is the `python -m server background` of this state file:
        True or False on Linux (its /proc cmdline), None where we cannot tell."""
        proc = Path("/proc")
        if not proc.is_dir():
            return None
        try:
            cmdline = (proc / str(state.pid) / "cmdline").read_bytes().split(b"\0")
        except OSError:
            return False if (proc / "self").exists() else None
        return b"background" in cmdline and str(self.state_path).encode() in cmdline

    def _forget(self, state: State) -> None:
        """Remove the state file if it still describes `state`."""
        current = self.read()
        if current is not None and current.pid == state.pid:
            with contextlib.suppress(OSError):
                self.state_path.unlink()

    def _spawn(self) -> State:
        check_extra()
        try:
            self.database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise MoncompteError(
                _("cannot create the sandbox database in {directory}: {reason}").format(
                    directory=self.database.parent, reason=os_reason(exc)
                ),
                hint=_("set MONCOMPTE_SANDBOX_DB to a file in a writable directory"),
            ) from None
        command = [
            sys.executable, "-m", "server", "background",
            "--db", str(self.database),
            "--state-file", str(self.state_path),
            "--client-version", __version__,
        ]  # fmt: skip
        if self.idle_timeout is not None:
            command += ["--idle-timeout", repr(self.idle_timeout)]
        if self.today is not None:
            command += ["--today", self.today]
        environ = server_environ()
        started = time.monotonic()
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=fd,
                stderr=subprocess.STDOUT,
                cwd=str(self.state_path.parent),
                env=environ,
                close_fds=True,
                **detached(),
            )
        finally:
            os.close(fd)
        self._debug(f"started the sandbox server (pid {process.pid}): log {self.log_path}")
        deadline = started + START_TIMEOUT_S
        while True:
            state = self.read()
            if state is not None and state.pid == process.pid:
                self._debug(f"sandbox server ready in {time.monotonic() - started:.2f} s")
                return state
            code = process.poll()
            if code is not None:
                raise MoncompteError(
                    _("the sandbox server did not start (exit {code}): {line}").format(
                        code=code, line=last_log_line(self.log_path)
                    ),
                    hint=_("its log: {path}").format(path=self.log_path),
                )
            if time.monotonic() > deadline:
                process.terminate()
                raise NetworkError(
                    _("the sandbox server did not answer within {seconds} s").format(
                        seconds=f"{START_TIMEOUT_S:.0f}"
                    ),
                    hint=_("its log: {path}").format(path=self.log_path),
                )
            time.sleep(0.01)


def stop_state_file(path: Path) -> int | None:
    """Stop the server a state file names, whatever its database; its pid if it ran."""
    state = State.read(path)
    if state is None or not state.database.startswith("sqlite:///"):
        return None
    launcher = Launcher({}, Path(state.database[len("sqlite:///") :]))
    launcher.state_path = path  # as found, even if the state dir moved since
    launcher.lock_path = path.with_suffix(".lock")
    stopped = launcher.stop()
    return stopped.pid if stopped else None


def connect(env: SandboxEnv, *, username: str = DEMO_CUSTOMER) -> Sandbox:
    """The background sandbox for this command, logged in as `username`.

    When the state file names a live server of ours, no request is made here: the token
    is asked for on the command's own connection, as its first request (one round trip
    and one client fewer than checking first). Otherwise the server is checked, or
    started, under the lock, and the token comes with that check."""
    launcher = Launcher.for_env(env)
    state = launcher.find()
    token: str | None = None
    if state is None:
        state, token = launcher.ensure(username)
    register_secret(state.secret)
    env.debug(f"sandbox server at {state.url} (pid {state.pid}) on {launcher.database}")
    found = state

    def mint() -> str:
        try:
            data = env.api().get("/_sandbox/token", {"username": username}, auth=False)
        except NetworkError:
            raise  # `lost` has said it and forgotten the state
        except MoncompteError as exc:  # 403, 404: whatever listens there is not it
            launcher._forget(found)
            raise NetworkError(
                _("the sandbox server of {path} is not there any more ({reason})").format(
                    path=launcher.state_path, reason=exc.message
                ),
                hint=_("run the command again: it starts a new one over the same data"),
            ) from None
        minted = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(minted, str) or not minted:
            raise NetworkError(_("the sandbox server answered a token request without a token"))
        return minted

    def lost(error: NetworkError) -> NetworkError:
        # Gone mid-command (killed, or stopped): the next command must start a new one,
        # even if its pid is given to another process meanwhile.
        launcher._forget(found)
        stopped = _("the background sandbox server (pid {pid}) stopped answering")
        error.message = stopped.format(pid=found.pid)
        again = _("run the command again: it starts a new one over the same data ({database})")
        error.hint = again.format(database=launcher.database)
        return error

    return Sandbox(
        state.url,
        SandboxStore(token, username, mint=mint),
        "background",
        headers={SECRET_HEADER: state.secret},
        lost=lost,
    )
