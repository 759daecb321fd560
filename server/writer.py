"""The writer: every mutation of a server process runs here, one at a time, start to end.

Reads run on the server's event loop (server.routes.deps); a mutation instead goes whole
(its dependencies, the route, the idempotency record, the commit) to one thread with an
event loop of its own, and the main loop awaits its answer. Why:

- writers run one at a time anyway (the writers' lock: `BEGIN IMMEDIATE` on SQLite, an
  advisory lock on PostgreSQL); queuing them here, on an `asyncio.Lock`, costs nothing
  while they wait, where 40 pool threads each blocked on the lock did;
- a mutation handed to the thread pool step by step went back to the main loop between
  steps (five hops), each time behind every read queued there: under 32 clients a claim
  held the lock for about 70 ms of waiting and the writes queued up to 2 to 3 s;
- waiting for the lock (another worker's or the CLI's write, up to 10 s) blocks only this
  thread, never the reads.

A mutation that waits longer than `TURN_TIMEOUT_S` for its turn is refused with 503 and
`Retry-After` (`WriterBusy`), as a writer that waited too long for the database's lock.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from server.db import BUSY_TIMEOUT_MS

__all__ = ["TURN_TIMEOUT_S", "Writer", "WriterBusy"]

T = TypeVar("T")
TURN_TIMEOUT_S = BUSY_TIMEOUT_MS / 1000


class WriterBusy(Exception):
    """The mutation waited longer than `TURN_TIMEOUT_S` for the writer."""


class Writer:
    """A thread running an event loop that carries out one mutation at a time."""

    def __init__(self, name: str = "moncompte-writer") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._turn: asyncio.Lock | None = None
        self._started = threading.Lock()

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._started:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name=self._name, daemon=True).start()
                self._loop = loop
            return self._loop

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Carry out `work()` on the writer when its turn comes; its result."""
        loop = self._ensure()
        future = asyncio.run_coroutine_threadsafe(self._one(work), loop)
        return await asyncio.wrap_future(future)

    async def _one(self, work: Callable[[], Awaitable[T]]) -> T:
        if self._turn is None:  # made on the writer's loop, the only one that uses it
            self._turn = asyncio.Lock()
        try:
            await asyncio.wait_for(self._turn.acquire(), TURN_TIMEOUT_S)
        except TimeoutError:
            raise WriterBusy from None
        try:
            return await work()
        finally:
            self._turn.release()

    def close(self) -> None:
        """Stop the thread (the app's shutdown); mutations still queued are abandoned."""
        with self._started:
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._loop = None
                self._turn = None
