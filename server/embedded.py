"""The reference server run in-process: the CLI's built-in sandbox and the tests' server.

`start_background()` seeds the database if needed and serves the app with uvicorn on
127.0.0.1 in a daemon thread; the caller gets the URL and a `stop()`. Heavy imports
(uvicorn, FastAPI, the app) happen inside the functions, so `import server.embedded` stays
cheap for `mint_token` and `current_otp`.

TCP_NODELAY: asyncio sets it on accepted connections only when the listening socket was
created with `proto=IPPROTO_TCP`; uvicorn's own `--workers` socket is not, and Nagle plus
delayed ACKs then add about 40 ms to every keep-alive request (architecture.md, "Measured
pitfalls"). So we bind our socket with the protocol number, and `NoDelayHTTPProtocol` also
sets the option on every accepted connection, whoever bound the socket.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Iterator

    from sqlalchemy import Engine

# `NoDelayHTTPProtocol` is also public, built on first access (see `__getattr__`).
__all__ = [
    "RunningServer",
    "bind_socket",
    "current_otp",
    "mint_token",
    "reset",
    "start_background",
    "today_in_paris",
]

_STARTUP_TIMEOUT_S = 15.0
_STOP_TIMEOUT_S = 3.0


def today_in_paris() -> date:
    """The business date: the rules are French, so a customer's day is Paris's day."""
    try:
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo("Europe/Paris")).date()
    except Exception:  # no tz database on this machine: the local date is close enough
        return date.today()


def set_nodelay(sock: Any) -> None:
    """Switch Nagle's algorithm off on a TCP socket; ignore sockets that are not TCP."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


_protocol_class: type[asyncio.Protocol] | None = None


def _nodelay_protocol() -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol with TCP_NODELAY set on each connection it is given."""
    global _protocol_class
    if _protocol_class is None:
        from uvicorn.protocols.http.auto import AutoHTTPProtocol

        class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
            def connection_made(self, transport: Any) -> None:
                set_nodelay(transport.get_extra_info("socket"))
                super().connection_made(transport)

        NoDelayHTTPProtocol.__module__ = __name__
        _protocol_class = NoDelayHTTPProtocol
    return _protocol_class


def __getattr__(name: str) -> Any:
    # Built on first use so that importing this module does not import uvicorn; the
    # import string "server.embedded:NoDelayHTTPProtocol" resolves through here.
    if name == "NoDelayHTTPProtocol":
        return _nodelay_protocol()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket created with its protocol number (see module docstring)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    set_nodelay(sock)  # Linux copies it to accepted sockets as well
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)  # worker processes inherit it
    return sock


def uvicorn_config(app: Any, **options: Any) -> Any:
    """The uvicorn settings shared by the background and foreground servers."""
    import uvicorn

    settings: dict[str, Any] = {
        "log_level": "warning",
        "access_log": False,
        "http": _nodelay_protocol(),
        "ws": "none",  # no websocket endpoints: skip importing a websocket library
        "lifespan": "auto",
        "timeout_graceful_shutdown": 2,
        "server_header": False,
    }
    settings.update(options)
    return uvicorn.Config(app, **settings)


@dataclass
class RunningServer:
    """A server running in a daemon thread of this process."""

    url: str
    database_url: str
    host: str
    port: int
    today: date | None
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _socket: socket.socket = field(repr=False)
    _engine: Engine = field(repr=False)

    @property
    def server(self) -> Any:
        """The `uvicorn.Server` (its `server_state.connections` are the open connections)."""
        return self._server

    def stop(self) -> None:
        """Stop serving and wait for the thread (a few seconds at most); idempotent."""
        self._server.should_exit = True
        self._thread.join(_STOP_TIMEOUT_S)
        if self._thread.is_alive():  # a request that will not finish: stop waiting for it
            self._server.force_exit = True
            self._thread.join(_STOP_TIMEOUT_S)
        with contextlib.suppress(OSError):
            self._socket.close()
        with _live_lock:
            if _live_engines.get(self.database_url) is self._engine:
                del _live_engines[self.database_url]
        self._engine.dispose()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def prepare_database(
    database_url: str | None, *, today: date | None, seed: bool, customers: int = 0
) -> tuple[str, Engine]:
    """Resolve the URL, make the engine and seed it when empty (`seed`)."""
    from server.db import create_schema, default_database_url, make_engine, normalize_database_url

    url = normalize_database_url(database_url or default_database_url())
    engine = make_engine(url)
    if seed:
        from server.db import is_seeded

        if not is_seeded(engine):
            from server.seed import seed_all

            seed_all(engine, today or today_in_paris(), customers)
    else:
        create_schema(engine)
    return url, engine


def start_background(
    database_url: str | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    today: date | None = None,
    seed: bool = True,
    customers: int = 0,
    app: Any = None,
) -> RunningServer:
    """Seed the database if empty and serve the app in a daemon thread until `stop()`.

    `today` pins the server's business date (and dates the seed); None means the real
    date. `app` replaces the application (tests of this module only).
    """
    url, engine = prepare_database(database_url, today=today, seed=seed, customers=customers)
    if app is None:
        from server.app import create_app

        app = create_app(engine=engine, today=today)

    import uvicorn

    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # SystemExit from a failed startup included
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"moncompte-sandbox:{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + _STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            engine.dispose()
            reason = f": {failure[0]!r}" if failure else ""
            raise RuntimeError(f"the sandbox server did not start{reason}")
        time.sleep(0.005)
    shown_host = f"[{host}]" if ":" in host else host
    with _live_lock:
        _live_engines[url] = engine
    return RunningServer(
        url=f"http://{shown_host}:{bound_port}",
        database_url=url,
        host=host,
        port=bound_port,
        today=today,
        _server=server,
        _thread=thread,
        _socket=sock,
        _engine=engine,
    )


# Engines of the servers running in this process, by URL: the helpers below reuse them
# (the tests mint tokens for a running sandbox) rather than opening the database again.
# Otherwise they open a short-lived engine and dispose of it, so nothing keeps files open.
_live_engines: dict[str, Engine] = {}
_live_lock = threading.Lock()


@contextlib.contextmanager
def _engine_for(database_url: str) -> Iterator[Engine]:
    from server.db import make_engine, normalize_database_url

    url = normalize_database_url(database_url)
    with _live_lock:
        live = _live_engines.get(url)
    if live is not None:
        yield live
        return
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def mint_token(database_url: str, username: str) -> str:
    """A fresh access token for `username` (12 h; its refresh token lasts 30 days),
    without a password: for the sandbox, the tests and `python -m server token`."""
    with _engine_for(database_url) as engine:
        return mint_token_with(engine, username)[0]


def mint_token_with(engine: Engine, username: str) -> tuple[str, datetime]:
    """`mint_token` on an open engine: the token and when it expires (naive UTC)."""
    from sqlalchemy import select

    from server.db import session_factory
    from server.models import User
    from server.tokens import new_token_pair

    # a writer from the start: the server may be writing too (see server.db)
    with session_factory(engine, immediate=True)() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise LookupError(f"no user named {username!r}")
        if user.password_hash.startswith("!"):  # `python -m server users disable`
            raise LookupError(f"user {username!r} is disabled")
        access, _refresh, row = new_token_pair(
            session, user, datetime.now(UTC).replace(tzinfo=None)
        )
        expires = row.access_expires_at
        session.commit()
    return access, expires


def current_otp(username: str, database_url: str | None = None) -> str:
    """The one-time code `username` would read on their authenticator app right now."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from server.db import default_database_url
    from server.models import User
    from server.totp import totp_now

    with _engine_for(database_url or default_database_url()) as engine, Session(engine) as session:
        secret = session.scalars(select(User.otp_secret).where(User.username == username)).first()
    if not secret:
        raise LookupError(f"user {username!r} has no one-time code configured")
    return totp_now(secret)


def reset(database_url: str, *, today: date | None = None, customers: int = 0) -> None:
    """Drop every table and seed again, dated `today` (default: the real date)."""
    from server.db import drop_schema
    from server.seed import seed_all

    with _engine_for(database_url) as engine:
        drop_schema(engine)
        seed_all(engine, today or today_in_paris(), customers)
