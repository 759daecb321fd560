"""Helpers for the API tests: HTTP clients on the sandbox, demo references, direct database
access for setting up states the API cannot reach (an expired token, an old claim), and a
way to serve an app of our own under uvicorn (tiny pools, query counting)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from tests.conftest import TODAY, Sandbox

PROBLEM = "application/problem+json"


@pytest.fixture(scope="session")
def refs() -> dict[str, Any]:
    from server.seed import demo_refs

    return demo_refs(TODAY)


def client(box: Sandbox, token: str | None = "customer", **headers: str) -> httpx.Client:
    """An httpx client on the sandbox; token is "customer", "staff", "clean", None or a
    literal token."""
    tokens = {"customer": box.customer_token, "staff": box.staff_token, "clean": box.clean_token}
    value = tokens.get(token, token) if token is not None else None
    if value is not None:
        headers["Authorization"] = f"Bearer {value}"
    return httpx.Client(base_url=box.url, headers=headers, timeout=30)


@pytest.fixture()
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with client(sandbox) as c:
        yield c


@pytest.fixture()
def staff_api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with client(sandbox, "staff") as c:
        yield c


@pytest.fixture()
def fresh_api(fresh_sandbox: Sandbox) -> Iterator[httpx.Client]:
    with client(fresh_sandbox) as c:
        yield c


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """The answer is a problem+json with this status (and code); returns the body."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    for key in ("type", "title", "status", "detail", "code"):
        assert key in body, body
    assert body["status"] == status
    assert body["detail"] and "\n" not in body["detail"]
    assert "Traceback" not in response.text
    if code is not None:
        assert body["code"] == code, body
    return body


@contextmanager
def db_session(box: Sandbox) -> Iterator[Session]:
    """A session on the sandbox's database, for arranging what the API cannot."""
    from server.db import make_engine

    engine = make_engine(box.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def mint(box: Sandbox, username: str, *, now: datetime | None = None) -> tuple[str, str, int]:
    """A token pair for `username` issued at `now` (default: now); returns (access, refresh,
    token row id)."""
    from sqlalchemy import select

    from server.models import User
    from server.tokens import new_token_pair

    with db_session(box) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        issued = now or datetime.now(UTC).replace(tzinfo=None)
        access, refresh, row = new_token_pair(session, user, issued)
        session.commit()
        return access, refresh, row.id


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run `app` under uvicorn on 127.0.0.1 (ephemeral port) in a thread; yields its URL."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def seeded_engine(path: str, customers: int = 0, **engine_kwargs: Any) -> Engine:
    """A seeded SQLite database at `path`; with `engine_kwargs`, a plain engine on it
    (e.g. a pool of 1 to provoke overload)."""
    from server.db import make_engine
    from server.seed import seed_all

    url = f"sqlite:///{path}"
    engine = make_engine(url)
    seed_all(engine, TODAY, customers=customers)
    if not engine_kwargs:
        return engine
    engine.dispose()
    return create_engine(url, connect_args={"check_same_thread": False}, **engine_kwargs)


def count_queries(engine: Engine) -> Callable[[], int]:
    """Start counting SQL statements on `engine`; call the result to read the count."""
    from sqlalchemy import event

    counter = {"n": 0}

    def before(*_args: Any) -> None:
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", before)
    return lambda: counter["n"]
