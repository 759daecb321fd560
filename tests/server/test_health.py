"""`/healthz` (the process answers) and `/readyz` (the database answers, at the schema
revision this code needs), as a load balancer or an orchestrator calls them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from server import embedded
from server.app import create_app
from server.db import make_engine
from server.migrations import HEAD
from server.problems import PROBLEM_CONTENT_TYPE


def _serve(tmp_path: Path, engine: Engine | None = None) -> tuple[embedded.RunningServer, Engine]:
    """A server over a new SQLite file, or with the app of `engine` in its place."""
    url = f"sqlite:///{tmp_path / 'health.db'}"
    app = None if engine is None else create_app(engine=engine)
    running = embedded.start_background(url, seed=False, app=app)
    return running, engine or running._engine  # noqa: SLF001


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[httpx.Client, Engine]]:
    running, engine = _serve(tmp_path)
    with httpx.Client(base_url=running.url, timeout=10) as client:
        yield client, engine
    running.stop()


def test_live_and_ready(served: tuple[httpx.Client, Engine]) -> None:
    client, _ = served
    live = client.get("/healthz")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "sqlite", "schema": HEAD}


def test_not_ready_until_migrated(served: tuple[httpx.Client, Engine]) -> None:
    client, engine = served
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["content-type"].startswith(PROBLEM_CONTENT_TYPE)
    body = ready.json()
    assert body["code"] == "schema_not_current"
    assert "0000" in body["detail"] and "python -m server migrate" in body["detail"]
    assert client.get("/healthz").status_code == 200  # alive all the same


def test_not_ready_without_a_database(tmp_path: Path) -> None:
    dead = make_engine("postgresql://nobody:x@127.0.0.1:9/none?connect_timeout=2")
    running, _ = _serve(tmp_path, dead)
    try:
        with httpx.Client(base_url=running.url, timeout=10) as client:
            assert client.get("/healthz").status_code == 200
            ready = client.get("/readyz")
    finally:
        running.stop()
    assert ready.status_code == 503
    assert ready.json()["code"] == "database_unavailable"
    assert "x@" not in ready.text  # never the password


def test_not_in_the_api_document(served: tuple[httpx.Client, Engine]) -> None:
    client, _ = served
    paths = client.get("/openapi.json").json()["paths"]
    assert "/healthz" not in paths and "/readyz" not in paths
