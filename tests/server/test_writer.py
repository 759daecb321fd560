"""The writer (server/writer.py): mutations run one at a time on a thread of their own,
so that a write waiting for the database's lock never holds up the reads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import create_engine, text

import server.writer
from server.db import PG_WRITER_LOCK
from server.writer import Writer, WriterBusy
from tests.conftest import Sandbox

CLAIM = {"category": "other", "subject": "Pendant le verrou", "message": "Toujours là ?"}


def test_work_runs_on_the_writer_thread_one_at_a_time() -> None:
    writer = Writer(name="test-writer")
    events: list[str] = []

    def job(name: str) -> Callable[[], Awaitable[str]]:
        async def work() -> str:
            events.append(f"{name} starts on {threading.current_thread().name}")
            await asyncio.sleep(0.01)  # a pause that lets the other try to interleave
            events.append(f"{name} ends")
            return name

        return work

    async def both() -> list[str]:
        return list(await asyncio.gather(writer.run(job("a")), writer.run(job("b"))))

    try:
        assert asyncio.run(both()) == ["a", "b"]
    finally:
        writer.close()
    assert events == [
        "a starts on test-writer",
        "a ends",
        "b starts on test-writer",
        "b ends",
    ]


def test_an_error_comes_back_to_the_caller_and_the_writer_goes_on() -> None:
    writer = Writer()

    async def fails() -> None:
        raise ValueError("refused")

    async def works() -> int:
        return 7

    async def run() -> int:
        with pytest.raises(ValueError, match="refused"):
            await writer.run(fails)
        return await writer.run(works)

    try:
        assert asyncio.run(run()) == 7
    finally:
        writer.close()


def test_waiting_too_long_for_a_turn_is_writer_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server.writer, "TURN_TIMEOUT_S", 0.05)
    writer = Writer()
    release = threading.Event()

    async def holds() -> None:
        while not release.is_set():
            await asyncio.sleep(0.01)

    async def run() -> None:
        first = asyncio.ensure_future(writer.run(holds))
        await asyncio.sleep(0.02)
        with pytest.raises(WriterBusy):
            await writer.run(holds)
        release.set()
        await first

    try:
        asyncio.run(run())
    finally:
        writer.close()


@contextmanager
def _database_locked(box: Sandbox) -> Iterator[None]:
    """The writers' lock held by another connection, as another process's write holds it."""
    engine = create_engine(box.database_url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"SELECT pg_advisory_lock({PG_WRITER_LOCK})"))
                yield
                connection.execute(text(f"SELECT pg_advisory_unlock({PG_WRITER_LOCK})"))
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                yield
                connection.exec_driver_sql("ROLLBACK")
    finally:
        engine.dispose()


def test_reads_answer_while_a_write_waits_for_the_lock(fresh_sandbox: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {fresh_sandbox.customer_token}"}
    answers: list[httpx.Response] = []
    with httpx.Client(base_url=fresh_sandbox.url, headers=headers, timeout=30) as api:
        before = len(api.get("/v1/claims").json()["items"])
        with _database_locked(fresh_sandbox):
            writing = threading.Thread(
                target=lambda: answers.append(
                    api.post("/v1/claims", json=CLAIM, headers={"Idempotency-Key": "locked"})
                )
            )
            writing.start()
            for path in ("/v1/contracts", "/v1/invoices", "/v1/claims", "/v1/me"):
                assert api.get(path).status_code == 200
            assert writing.is_alive()  # still waiting for the lock: the reads did not
            assert len(api.get("/v1/claims").json()["items"]) == before
        writing.join(30)
        assert [r.status_code for r in answers] == [201]
        assert len(api.get("/v1/claims").json()["items"]) == before + 1
