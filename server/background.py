"""The built-in sandbox as a background process: `python -m server background`.

The CLI (cli/sandbox/background.py) starts this detached, once, the first time a command
needs the sandbox; later commands find it through the state file this process writes and
only talk HTTP, so no CLI process ever imports FastAPI, SQLAlchemy or uvicorn.

What this process promises its clients:
- it listens on 127.0.0.1 only, on a port the OS picks;
- once it answers, the state file exists (mode 0600): pid, url, version, database, the
  pinned date, the idle timeout, and a random secret; every request must present that
  secret in `X-Moncompte-Sandbox` or is refused with 403, so another local user, who
  cannot read the file, cannot use this server (the demo passwords are public);
- `GET /_sandbox/info`, `GET /_sandbox/token?username=` (a token for any sandbox user, the
  same one while it is valid), `POST /_sandbox/stop` are its own endpoints, outside the API;
- after `idle_timeout` seconds without a request it stops by itself and removes the state
  file, as it does on SIGTERM or Ctrl-C; a state file left by a crash names a dead pid.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

SECRET_HEADER = "x-moncompte-sandbox"
DEFAULT_IDLE_TIMEOUT_S = 15 * 60
# Hand out a cached token only while it has this long left: a command never starts with a
# token that could expire under it.
_TOKEN_MARGIN = timedelta(hours=1)


def package_version() -> str:
    """The installed moncompte's version, when the CLI that starts this did not say which
    it is (`run(version=...)`): after an upgrade, the CLI restarts a server that runs the
    old code."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("moncompte")
    except PackageNotFoundError:
        return "unknown"


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Atomically, 0600 from the first byte: the file holds the secret."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):  # POSIX; on Windows the user's profile is private
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(state, fh, indent=2, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove_state_if_ours(path: Path, pid: int) -> None:
    """Remove the state file unless it already names another server (a newer one)."""
    try:
        current = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(current, dict) and current.get("pid") == pid:
        with contextlib.suppress(OSError):
            path.unlink()


@dataclass
class Activity:
    """When the last request was seen (monotonic), for the idle stop."""

    last: float = field(default_factory=time.monotonic)
    in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def begin(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.last = time.monotonic()

    def end(self) -> None:
        with self.lock:
            self.in_flight -= 1
            self.last = time.monotonic()

    def idle_for(self) -> float:
        with self.lock:
            return 0.0 if self.in_flight else time.monotonic() - self.last


class SandboxGuard:
    """ASGI wrapper: the secret on every request, the activity clock, `/_sandbox/*`."""

    def __init__(
        self,
        app: Any,
        *,
        secret: str,
        info: dict[str, Any],
        engine: Any,
        activity: Activity,
        stop: Any,
    ) -> None:
        self.app = app
        self._secret = secret.encode()
        self._info = info
        self._engine = engine
        self._activity = activity
        self._stop = stop
        self._tokens: dict[str, tuple[str, datetime]] = {}
        self._tokens_lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        presented = dict(scope.get("headers", [])).get(SECRET_HEADER.encode(), b"")
        if not hmac.compare_digest(presented, self._secret):
            from domain.i18n import N_, Text
            from server.language import scope_language
            from server.problems import problem_response

            response = problem_response(
                403,
                "sandbox_secret",
                Text(
                    N_(
                        "this is a moncompte background sandbox: it answers only the user who "
                        "started it (the secret of its state file is missing or wrong)"
                    )
                ),
                language=scope_language(scope),
            )
            await response(scope, receive, send)
            return
        self._activity.begin()
        try:
            path = scope.get("path", "")
            if path.startswith("/_sandbox/"):
                await self._own(path, scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            self._activity.end()

    async def _own(self, path: str, scope: Any, receive: Any, send: Any) -> None:
        from starlette.concurrency import run_in_threadpool
        from starlette.requests import Request
        from starlette.responses import JSONResponse

        from domain.i18n import N_, Text
        from server.language import scope_language
        from server.problems import problem_response

        language = scope_language(scope)
        method = scope["method"]
        response: Any
        if path == "/_sandbox/info" and method == "GET":
            response = JSONResponse(self._info)
        elif path == "/_sandbox/token" and method == "GET":
            # A GET although it may mint: a command retries it freely, and the token is
            # the same one for every call while it is valid (see _token_for).
            username = Request(scope, receive).query_params.get("username", "")
            if not username:
                response = problem_response(
                    422,
                    "invalid_request",
                    Text(N_("expected {query}"), query="?username=NAME"),
                    language=language,
                )
            else:
                try:
                    token = await run_in_threadpool(self._token_for, username)
                except LookupError:
                    response = problem_response(
                        404,
                        "not_found",
                        Text(N_("no user named {name}"), name=repr(username)),
                        language=language,
                    )
                else:
                    response = JSONResponse({"access_token": token, "username": username})
        elif path == "/_sandbox/stop" and method == "POST":
            response = JSONResponse({"stopping": True, "pid": os.getpid()})
            self._stop()
        else:
            response = problem_response(
                404,
                "not_found",
                Text(N_("no {method} {path} here"), method=method, path=path),
                language=language,
            )
        await response(scope, receive, send)

    def _token_for(self, username: str) -> str:
        """A token for `username`, the same one while it has over an hour left: a command
        a second does not grow the tokens table by one row a second."""
        from server.embedded import mint_token_with

        now = datetime.now(UTC).replace(tzinfo=None)
        with self._tokens_lock:
            cached = self._tokens.get(username)
            if cached and cached[1] - now > _TOKEN_MARGIN and self._still_valid(cached[0]):
                return cached[0]
            token, expires = mint_token_with(self._engine, username)
            self._tokens[username] = (token, expires)
            return token

    def _still_valid(self, token: str) -> bool:
        """Whether a cached token still opens the API: someone may have revoked it
        (`moncompte api POST /v1/auth/revoke`); one indexed look-up."""
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from server.models import Token
        from server.tokens import hash_token

        with Session(self._engine) as session:
            revoked = session.scalars(
                select(Token.revoked).where(Token.access_hash == hash_token(token))
            ).first()
        return revoked is False


def run(
    database_url: str,
    *,
    state_file: Path,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S,
    today: date | None = None,
    version: str | None = None,
) -> int:
    """Seed if needed, serve on 127.0.0.1 until idle, stopped or signalled; 0 when clean.

    `version` is the version of the CLI that starts it (the same code: same interpreter,
    same path), recorded so that a CLI of another version knows to replace it."""
    import uvicorn

    from server.app import create_app
    from server.embedded import bind_socket, prepare_database, uvicorn_config

    url, engine = prepare_database(database_url, today=today, seed=True)
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    secret = secrets.token_urlsafe(32)
    pid = os.getpid()
    info = {
        "pid": pid,
        "url": f"http://127.0.0.1:{port}",
        "port": port,
        "version": version or package_version(),
        "database": url,
        "today": today.isoformat() if today else None,
        "idle_timeout": idle_timeout,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    activity = Activity()
    holder: dict[str, Any] = {}

    def stop() -> None:
        # The state file goes first: a command arriving now starts a new server rather
        # than connecting to one that is closing.
        remove_state_if_ours(state_file, pid)
        holder["server"].should_exit = True

    app = SandboxGuard(
        create_app(engine=engine, today=today),
        secret=secret,
        info=info,
        engine=engine,
        activity=activity,
        stop=stop,
    )
    server = uvicorn.Server(uvicorn_config(app))
    holder["server"] = server
    done = threading.Event()

    def watch() -> None:
        # The state file only once uvicorn accepts: a client that reads it can connect.
        while not server.started and not done.wait(0.005):
            pass
        if done.is_set():
            return
        write_state(state_file, {**info, "secret": secret})
        tick = max(0.05, min(5.0, idle_timeout / 10))
        while not done.wait(tick):
            if activity.idle_for() >= idle_timeout:
                print(f"sandbox: idle for {idle_timeout:g} s, stopping", flush=True)
                stop()
                return

    watcher = threading.Thread(target=watch, name="sandbox-idle", daemon=True)
    watcher.start()
    try:
        server.run(sockets=[sock])
    finally:
        done.set()
        remove_state_if_ours(state_file, pid)
        sock.close()
        engine.dispose()
    return 0
