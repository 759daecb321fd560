"""Concurrent mutations have one effect, on SQLite and on PostgreSQL.

The default test run exercises these on SQLite; `.ci/postgres.sh` runs them again with
`MONCOMPTE_TEST_DATABASE_URL` set, so every sandbox is a PostgreSQL database of its own
(tests/conftest.py). PostgreSQL's default isolation (READ COMMITTED) lets two transactions
read the same row and both write it, where SQLite's `BEGIN IMMEDIATE` serializes them: a
route that reads then writes must lock what it read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import TODAY, Sandbox

ON_POSTGRES = bool(os.environ.get("MONCOMPTE_TEST_DATABASE_URL"))
RACERS = 8

CLAIM = {"category": "billing", "subject": "Double prélèvement", "message": "Deux fois 29,99 €"}


def _client(box: Sandbox, token: str | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=box.url,
        headers={"Authorization": f"Bearer {token or box.customer_token}"},
        timeout=60,
    )


def race(
    box: Sandbox, request: Callable[[httpx.Client], httpx.Response], n: int = RACERS
) -> list[httpx.Response]:
    """`n` clients send `request` at the same instant (each on its own connection)."""
    barrier = threading.Barrier(n)
    answers: list[httpx.Response] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def one() -> None:
        try:
            with _client(box) as c:
                c.get("/v1/me")  # connect first, so that the requests really overlap
                barrier.wait(30)
                r = request(c)
            with lock:
                answers.append(r)
        except BaseException as exc:  # surfaced below, with the others' answers
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(answers) == n
    return answers


def codes(answers: list[httpx.Response]) -> list[tuple[int, str | None]]:
    out = []
    for r in answers:
        code = r.json().get("code") if r.status_code >= 400 else None
        out.append((r.status_code, code))
    return sorted(out, key=lambda x: (x[0], x[1] or ""))


def test_backend_is_the_one_asked_for(fresh_sandbox: Sandbox) -> None:
    backend = fresh_sandbox.database_url.split(":", 1)[0]
    assert backend.startswith("postgresql") if ON_POSTGRES else backend == "sqlite"


def test_two_terminations_at_once(fresh_sandbox: Sandbox) -> None:
    """Without an idempotency key: one termination, the others refused by the rule."""
    url = "/v1/contracts/CT-0000001/termination"
    answers = race(fresh_sandbox, lambda c: c.post(url, json={}))
    assert codes(answers) == [(200, None)] + [(409, "already_terminated")] * (RACERS - 1)
    with _client(fresh_sandbox) as c:
        contract = c.get("/v1/contracts/CT-0000001").json()
    assert contract["status"] == "terminated"


def test_termination_and_withdrawal_at_once(fresh_sandbox: Sandbox) -> None:
    """A partwork contract still within its withdrawal period: whichever wins, one ends it."""
    from server.models import Contract
    from tests.api.conftest import db_session

    with db_session(fresh_sandbox) as session:
        contract = session.get(Contract, "CT-0000002")
        assert contract is not None
        contract.withdrawal_start = TODAY - timedelta(days=2)
        session.commit()
    base = "/v1/contracts/CT-0000002"

    kinds = ["termination", "withdrawal"] * (RACERS // 2)
    lock = threading.Lock()

    def end(c: httpx.Client) -> httpx.Response:
        with lock:
            kind = kinds.pop()
        return c.post(f"{base}/{kind}", json={})

    answers = race(fresh_sandbox, end)
    assert [r.status_code for r in answers].count(200) == 1, codes(answers)
    assert {r.status_code for r in answers} == {200, 409}, codes(answers)


def test_two_escalations_at_once(fresh_sandbox: Sandbox) -> None:
    answers = race(fresh_sandbox, lambda c: c.post("/v1/claims/CL-0000001/escalate", json={}))
    assert codes(answers) == [(200, None)] + [(409, "already_escalated")] * (RACERS - 1)


def test_reschedules_of_one_instalment_at_once(fresh_sandbox: Sandbox) -> None:
    """An instalment may be moved once: racing requests to different dates move it once."""
    path = "/v1/contracts/CT-0000003/instalments/3"
    with _client(fresh_sandbox) as c:
        options = c.get(f"{path}/reschedule-options").json()
        before = c.get("/v1/contracts/CT-0000003/schedule").json()
    assert options["allowed"], options
    earliest, latest = (
        date.fromisoformat(options["earliest"]),
        date.fromisoformat(options["latest"]),
    )
    days = [earliest + timedelta(days=i % ((latest - earliest).days + 1)) for i in range(RACERS)]
    lock = threading.Lock()

    def move(c: httpx.Client) -> httpx.Response:
        with lock:
            to = days.pop()
        return c.post(f"{path}/reschedule", json={"to": to.isoformat()})

    answers = race(fresh_sandbox, move)
    ok = [r for r in answers if r.status_code == 200]
    assert len(ok) == 1, codes(answers)
    assert {r.status_code for r in answers} == {200, 409}, codes(answers)
    with _client(fresh_sandbox) as c:
        after = c.get("/v1/contracts/CT-0000003/schedule").json()
    moved = next(i for i in after["instalments"] if i["number"] == 3)
    was = next(i for i in before["instalments"] if i["number"] == 3)
    assert moved["rescheduled_count"] == was["rescheduled_count"] + 1
    assert moved["due_date"] == ok[0].json()["due_date"]


def test_same_key_from_threads_on_several_routes(fresh_sandbox: Sandbox) -> None:
    """The same Idempotency-Key on a PUT (IBAN change): one change, one answer replayed."""
    iban = "FR76 3000 6000 0112 3456 7890 189"
    answers = race(
        fresh_sandbox,
        lambda c: c.put(
            "/v1/payment-method", json={"iban": iban}, headers={"Idempotency-Key": "p"}
        ),
    )
    assert {r.status_code for r in answers} == {200}, codes(answers)
    assert len({r.text for r in answers}) == 1
    assert sum(1 for r in answers if "idempotent-replayed" not in r.headers) == 1


_POSTER = textwrap.dedent(
    """
    import json, sys, time
    import httpx
    url, token, key, start = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    body = json.loads(sys.stdin.read())
    with httpx.Client(base_url=url, headers={"Authorization": "Bearer " + token}, timeout=60) as c:
        c.get("/v1/me")
        time.sleep(max(0.0, start - time.time()))
        r = c.post("/v1/claims", json=body, headers={"Idempotency-Key": key})
    print(json.dumps({"status": r.status_code, "body": r.json(),
                      "replayed": r.headers.get("idempotent-replayed")}))
    """
)


def test_same_idempotency_key_from_two_processes(fresh_sandbox: Sandbox) -> None:
    """Two (here four) processes post the same claim with the same key: one claim."""
    with _client(fresh_sandbox) as c:
        before = len(c.get("/v1/claims", params={"limit": 500}).json()["items"])
    start = time.time() + 1.5  # every process is up and connected by then
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _POSTER,
                fresh_sandbox.url,
                fresh_sandbox.customer_token,
                "two-processes",
                repr(start),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(4)
    ]
    results: list[dict[str, Any]] = []
    for p in procs:
        out, err = p.communicate(json.dumps(CLAIM), timeout=90)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    assert {r["status"] for r in results} == {201}, results
    assert len({r["body"]["id"] for r in results}) == 1
    assert sum(1 for r in results if r["replayed"] is None) == 1
    with _client(fresh_sandbox) as c:
        claims = c.get("/v1/claims", params={"limit": 500}).json()["items"]
    assert len(claims) == before + 1


def test_login_failures_racing_are_all_counted(fresh_sandbox: Sandbox) -> None:
    """Wrong passwords at once (the rate-limit row created by racing inserts): never a
    500, and the limit holds afterwards even for the right password."""

    def wrong(c: httpx.Client) -> httpx.Response:
        return c.post(
            "/v1/auth/token",
            json={"grant_type": "password", "username": "clean", "password": "nope"},
        )

    answers = race(fresh_sandbox, wrong)
    assert {r.status_code for r in answers} <= {401, 429}, codes(answers)
    with httpx.Client(base_url=fresh_sandbox.url, timeout=30) as c:
        r = c.post(
            "/v1/auth/token",
            json={"grant_type": "password", "username": "clean", "password": "clean1234"},
        )
    assert r.status_code == 429, r.text
    assert int(r.headers["retry-after"]) > 0


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only (.ci/postgres.sh)")
def test_two_servers_seed_one_database_once() -> None:
    """Two sandboxes started at once on one empty PostgreSQL database seed it once
    (the advisory lock in server.seed)."""
    from sqlalchemy import func, select

    from server import embedded
    from server.db import make_engine
    from server.models import Customer
    from tests.conftest import _fresh_postgres_database

    url, drop = _fresh_postgres_database(os.environ["MONCOMPTE_TEST_DATABASE_URL"])
    started: list[Any] = []
    failures: list[BaseException] = []

    def start() -> None:
        try:
            started.append(embedded.start_background(url, today=TODAY))
        except BaseException as exc:
            failures.append(exc)

    try:
        threads = [threading.Thread(target=start) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not failures, failures
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                customers = connection.execute(select(func.count()).select_from(Customer)).scalar()
        finally:
            engine.dispose()
        assert customers == 2  # the demo and the clean customer: the demo seed, once
    finally:
        for running in started:
            running.stop()
        drop()


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only (.ci/postgres.sh)")
def test_writer_waiting_too_long_is_503(
    fresh_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that cannot get the writers' lock in time answers 503 + Retry-After (as
    SQLite's busy timeout does), never 500 and never a hang; readers are not blocked."""
    from sqlalchemy import create_engine, text

    import server.db

    monkeypatch.setattr(server.db, "BUSY_TIMEOUT_MS", 300)
    holder = create_engine(fresh_sandbox.database_url)
    try:
        with holder.connect() as connection, connection.begin():
            connection.execute(text(f"SELECT pg_advisory_xact_lock({server.db.PG_WRITER_LOCK})"))
            with _client(fresh_sandbox) as c:
                assert c.get("/v1/contracts").status_code == 200
                started = time.monotonic()
                r = c.post("/v1/claims", json=CLAIM)
                elapsed = time.monotonic() - started
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert int(r.headers["retry-after"]) > 0
        assert elapsed < 5
        with _client(fresh_sandbox) as c:
            assert c.post("/v1/claims", json=CLAIM).status_code == 201
    finally:
        holder.dispose()
