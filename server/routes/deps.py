"""Per-request plumbing shared by every route: the clock and the database session.

Routes are plain `def` functions (FastAPI runs them in its thread pool) and get one
SQLAlchemy `Session` per request from `get_session`; they commit their own changes.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, TypeVar, cast
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy.orm import Session

PARIS = ZoneInfo("Europe/Paris")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Clock:
    """The server's notion of "today" and "now".

    `fixed_today` pins the business date (tests, the sandbox's `MONCOMPTE_SANDBOX_TODAY`)
    so that rules such as the withdrawal deadline give the same answer whatever the real
    date. Security clocks (token expiry, rate-limit windows, idempotency records) always run
    on the real time: a pinned date must never make a token immortal.
    """

    fixed_today: date | None = None

    def today(self) -> date:
        """The business date, in Europe/Paris (the rules are French)."""
        if self.fixed_today is not None:
            return self.fixed_today
        return datetime.now(PARIS).date()

    def now(self) -> datetime:
        """The real instant, naive UTC (the database convention)."""
        return datetime.now(UTC).replace(tzinfo=None)

    def stamp(self) -> datetime:
        """The instant to record on business data (a message sent, an IBAN changed).

        With a pinned date it is that date at the real time of day, so a message sent
        "today" is dated today in the sandbox too.
        """
        real = self.now()
        if self.fixed_today is None:
            return real
        return datetime.combine(self.fixed_today, time(real.hour, real.minute, real.second))


async def get_clock(request: Request) -> Clock:
    # async: a pure read of app state. A plain `def` dependency costs a hop through the
    # thread pool (about 0.3 ms of GIL hand-offs on the bulk path) for nothing.
    clock: Clock = request.app.state.clock
    return clock


# Key of the ASGI scope's "state" under which the idempotency middleware hands the route
# the connection of the mutation's one transaction.
IDEMPOTENT_CONNECTION = "moncompte_idempotent_connection"

# POSTs that only read: they need no write lock, and no Idempotency-Key record (there is
# no effect to repeat; see server.idempotency).
READ_ONLY_POSTS = frozenset({"/v1/lookup"})


# Handlers and their dependencies run on an event loop, not on the thread pool: reads on
# the server's own loop, mutations on the writer's (server.writer). A read is a few short
# queries that never wait for a lock (SQLite in WAL mode, PostgreSQL's MVCC): handing it
# to a thread cost more than the query, up to five hops per request (the session in and
# out, the token, the scope, the handler) and a GIL convoy between 40 threads. The server
# is CPU-bound, so one loop per worker process doing the reads in turn serves more of
# them, and `--workers` spreads them over the CPUs (bench/README.md, "Load").


def inline(endpoint: F) -> F:
    """Run a sync handler on the event loop it is called on (see above): an async wrapper
    FastAPI awaits instead of sending the handler to the thread pool. For reads, only
    handlers that do short queries and little CPU (not a PDF)."""

    @functools.wraps(endpoint)
    async def on_the_loop(*args: Any, **kwargs: Any) -> Any:
        return endpoint(*args, **kwargs)

    return cast(F, on_the_loop)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request.

    Mutations get a session whose SQLite transactions begin as writers (`BEGIN
    IMMEDIATE`): a transaction that reads, then writes, would otherwise fail at once when
    another writer committed in between, instead of waiting its turn. Creating a session
    does no I/O; closing one is a rollback and a connection back to the pool.
    """
    joined = request.scope.get("state", {}).get(IDEMPOTENT_CONNECTION)
    writes = request.method in ("POST", "PUT", "PATCH", "DELETE")
    session: Session
    if joined is not None:
        # The idempotency middleware's transaction: commits here are savepoints, and the
        # middleware commits once, with the stored answer (server.idempotency).
        session = Session(
            bind=joined, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
    elif writes and request.url.path not in READ_ONLY_POSTS:
        session = request.app.state.write_session_factory()
    else:
        session = request.app.state.session_factory()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]
