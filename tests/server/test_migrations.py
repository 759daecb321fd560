"""Schema migrations: the migrations build exactly the models' schema (the CI check that
they agree), go up and down, adopt a pre-migration database without losing data, refuse
one that differs, and `python -m server migrate` says what it did.

Each test runs on SQLite, and on PostgreSQL too when `MONCOMPTE_TEST_DATABASE_URL` names
a server (.ci/postgres.sh): a database of its own, dropped afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select, text

from server import migrate
from server.__main__ import main as server_main
from server.db import create_schema, drop_schema, make_engine
from server.migrations import HEAD
from server.models import Base, Customer, Invoice
from server.seed import seed_all

from ..conftest import _fresh_postgres_database
from .conftest import TODAY

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("MONCOMPTE_TEST_DATABASE_URL") else [])


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url, drop = _fresh_postgres_database(os.environ["MONCOMPTE_TEST_DATABASE_URL"])
    try:
        yield url
    finally:
        drop()


@pytest.fixture()
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    yield made
    made.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _migrate(
    args: list[str], database_url: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    code = server_main(["migrate", *args, "--database-url", database_url])
    out, err = capsys.readouterr()
    return code, out, err


def test_head_is_alembics_single_head() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(migrate.MIGRATIONS))
    assert script.get_heads() == [HEAD]
    assert migrate.revisions()[0] == migrate.BASELINE
    assert migrate.revisions()[-1] == HEAD


def test_the_migrations_build_the_models_schema(engine: Engine) -> None:
    # The check CI relies on: a model changed without a migration (or the reverse) fails.
    with engine.begin() as connection:
        migrate.run_alembic(connection, "upgrade", "head")
        assert migrate.current_revision(connection) == HEAD
        assert migrate.differences(connection) == []
    assert set(Base.metadata.tables) <= _tables(engine)


def test_a_table_that_differs_from_the_models_is_reported(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    create_schema(engine)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE customers ADD COLUMN loyalty_points INTEGER"))
    code, out, err = _migrate(["--check"], database_url, capsys)
    assert code == 1
    assert "customers" in err and "loyalty_points" in err
    assert f"current: {HEAD}" in out


def test_every_revision_goes_down_and_up_again(engine: Engine) -> None:
    with engine.begin() as connection:
        migrate.run_alembic(connection, "upgrade", "head")
    for revision in reversed([None, *migrate.revisions()[:-1]]):
        with engine.begin() as connection:
            migrate.run_alembic(connection, "downgrade", revision or "base")
            assert migrate.current_revision(connection) == revision
    assert _tables(engine) <= {migrate.VERSION_TABLE}
    with engine.begin() as connection:
        migrate.run_alembic(connection, "upgrade", "head")
        assert migrate.differences(connection) == []


def test_create_schema_is_idempotent_and_needs_no_alembic(tmp_path: Path) -> None:
    # The sandbox opens its database on many commands: creating it and finding it
    # current must not pay for importing Alembic.
    url = f"sqlite:///{tmp_path / 'fast.db'}"
    script = (
        "import sys\n"
        "from server.db import create_schema, make_engine\n"
        f"engine = make_engine({url!r})\n"
        "print(create_schema(engine)); print(create_schema(engine))\n"
        "print('alembic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split("\n")[:3] == [f"created at {HEAD}", f"at {HEAD}", "False"]


def test_migrate_is_idempotent(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _migrate([], database_url, capsys)[:2] == (0, f"database created at {HEAD} (newest)\n")
    assert _migrate([], database_url, capsys)[:2] == (0, f"database at {HEAD} (newest)\n")
    code, out, _ = _migrate(["--check"], database_url, capsys)
    assert (code, out.splitlines()[-1]) == (0, "pending: none")


def test_a_pre_migration_database_is_adopted_with_its_data(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # What an older server left: the seeded tables, no alembic_version.
    seed_all(engine, TODAY, customers=25)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {migrate.VERSION_TABLE}"))
        counts = (
            connection.scalar(select(func.count()).select_from(Customer)),
            connection.scalar(select(func.count()).select_from(Invoice)),
        )
    code, out, _ = _migrate([], database_url, capsys)
    assert code == 0 and "adopted" in out
    with engine.connect() as connection:
        assert migrate.current_revision(connection) == HEAD
        assert counts[0] and counts[0] > 25
        assert counts == (
            connection.scalar(select(func.count()).select_from(Customer)),
            connection.scalar(select(func.count()).select_from(Invoice)),
        )


def test_a_pre_migration_database_that_differs_is_refused_untouched(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE claims ADD COLUMN priority VARCHAR(10)"))
    before = _tables(engine)
    code, _, err = _migrate([], database_url, capsys)
    assert code == 1
    assert err.startswith("error: ") and "priority" in err and len(err.splitlines()) == 1
    assert _tables(engine) == before  # rolled back: no alembic_version either
    assert migrate.VERSION_TABLE not in _tables(engine)


def test_down_needs_yes_then_drops_the_tables(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    create_schema(engine)
    code, _, err = _migrate(["--to", "base"], database_url, capsys)
    assert code == 2 and "--yes" in err
    assert set(Base.metadata.tables) <= _tables(engine)
    code, out, _ = _migrate(["--to", "base", "--yes"], database_url, capsys)
    assert code == 0 and out == f"database moved from {HEAD} to base\n"
    assert _tables(engine) <= {migrate.VERSION_TABLE}
    code, out, _ = _migrate(["--to", "head"], database_url, capsys)
    assert code == 0 and HEAD in out
    assert set(Base.metadata.tables) <= _tables(engine)


@pytest.mark.parametrize("target", ["nope", "", "0001-x", "é" * 50])
def test_an_unknown_revision_is_a_usage_error(
    target: str, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _migrate(["--to", target], database_url, capsys)
    assert code == 2
    assert out == "" and err.startswith("error: ") and len(err.splitlines()) == 1


def test_new_refuses_when_nothing_changed(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    create_schema(engine)
    versions = sorted((migrate.MIGRATIONS / "versions").glob("*.py"))
    code, _, err = _migrate(["--new", "nothing"], database_url, capsys)
    assert code == 1 and "agree" in err
    assert sorted((migrate.MIGRATIONS / "versions").glob("*.py")) == versions


def test_drop_schema_forgets_the_revision(engine: Engine) -> None:
    create_schema(engine)
    drop_schema(engine)
    assert _tables(engine) == set()
    assert create_schema(engine) == f"created at {HEAD}"


def test_an_unreachable_database_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = server_main(
        ["migrate", "--database-url", "postgresql://nobody:x@127.0.0.1:9/none?connect_timeout=2"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
