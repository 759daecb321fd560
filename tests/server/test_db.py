"""Engine settings: where the sandbox lives, SQLite pragmas, and a pool sized for the server."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text

from server.db import (
    SQLITE_MAX_OVERFLOW,
    SQLITE_POOL_SIZE,
    create_schema,
    default_database_url,
    is_seeded,
    make_engine,
    normalize_database_url,
    session_factory,
)


def test_default_url_is_a_file_in_the_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MONCOMPTE_SANDBOX_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    url = default_database_url()
    assert url == f"sqlite:///{tmp_path / 'data' / 'moncompte' / 'sandbox.db'}"
    assert (tmp_path / "data" / "moncompte").is_dir()


def test_environment_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("MONCOMPTE_SANDBOX_DB", str(tmp_path / "x" / "box.db"))
    assert default_database_url() == f"sqlite:///{tmp_path / 'x' / 'box.db'}"
    assert (tmp_path / "x").is_dir()
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db/moncompte")
    assert default_database_url() == "postgresql+psycopg://u:p@db/moncompte"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://h/db", "postgresql+psycopg://h/db"),
        ("postgres://h/db", "postgresql+psycopg://h/db"),
        ("postgresql+psycopg://h/db", "postgresql+psycopg://h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_postgres_urls_use_psycopg(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


def test_postgres_engine_settings() -> None:
    pytest.importorskip("psycopg")
    engine = make_engine("postgresql://user:secret@127.0.0.1:1/none")
    assert engine.dialect.driver == "psycopg"
    assert engine.pool.size() == 20  # type: ignore[attr-defined]
    assert engine.pool._pre_ping


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert (c.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 5000
    engine.dispose()


def test_immediate_sessions_begin_as_writers(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'i.db'}")
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _k, stmt, *_a: seen.append(stmt))
    for immediate in (False, True):
        with session_factory(engine, immediate=immediate)() as session:
            session.execute(text("SELECT 1"))
    assert [s for s in seen if s.startswith("BEGIN")] == ["BEGIN", "BEGIN IMMEDIATE"]
    engine.dispose()


def test_pool_holds_64_concurrent_connections(tmp_path: Path) -> None:
    """64 requests at once must never see "QueuePool limit reached" (a measured failure)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    assert SQLITE_POOL_SIZE >= 40 and SQLITE_POOL_SIZE + SQLITE_MAX_OVERFLOW >= 64
    create_schema(engine)
    barrier = threading.Barrier(64, timeout=20)
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with engine.connect() as c:
                c.execute(text("SELECT count(*) FROM customers")).scalar()
                barrier.wait()  # all 64 checked out at the same moment
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hold) for _ in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert errors == []


def test_is_seeded_on_an_empty_and_a_bare_database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'e.db'}")
    assert not is_seeded(engine)
    create_schema(engine)
    assert not is_seeded(engine)
    engine.dispose()


def test_in_memory_sqlite_shares_one_database() -> None:
    engine = make_engine("sqlite://")
    create_schema(engine)
    with engine.begin() as c:
        c.execute(text("INSERT INTO service_settings (key, value) VALUES ('a', 'b')"))
    with engine.connect() as c:
        assert c.execute(text("SELECT value FROM service_settings")).scalar() == "b"


def test_two_processes_seeding_at_once_seed_once(tmp_path: Path) -> None:
    """Two sandboxes started together on one file: one seeds, the other waits and sees it."""
    from datetime import date

    from server.seed import seed_all

    url = f"sqlite:///{tmp_path / 'race.db'}"
    engines = [make_engine(url) for _ in range(2)]
    barrier = threading.Barrier(2, timeout=10)
    results: list[bool] = []
    errors: list[BaseException] = []

    def run(engine: Engine) -> None:
        try:
            barrier.wait()
            results.append(seed_all(engine, date(2026, 11, 24)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for engine in engines:
        engine.dispose()
    assert errors == []
    assert sorted(results) == [False, True]
