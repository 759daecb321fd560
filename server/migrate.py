"""The schema's version: create, adopt, upgrade and downgrade a database with Alembic.

Every database the server opens goes through `ensure_schema` (via `server.db.create_schema`
and the seed):

- a database already at `HEAD` costs two small queries and no Alembic import (the
  sandbox starts on every command that needs it);
- an empty database gets the models' tables at once (`create_all`, as fast as before
  migrations existed) and is stamped `HEAD`: tests/server/test_migrations.py proves that
  the migrations build exactly the same schema;
- a database created before migrations existed (tables, no `alembic_version`) is adopted:
  the tables it lacks are created, it is stamped with the baseline revision, upgraded to
  `HEAD`, then compared with the models; a difference left is refused with the list of
  what differs, and the transaction rolls back: nothing is dropped, nothing half-done;
- an older versioned database is upgraded to `HEAD`.

The work runs in the caller's transaction, which holds the write lock (BEGIN IMMEDIATE on
SQLite, the writers' advisory lock on PostgreSQL): two processes starting on one new
database cannot both create it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, inspect, text

from server.migrations import HEAD
from server.models import Base

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = [
    "BASELINE",
    "HEAD",
    "VERSION_TABLE",
    "SchemaMismatch",
    "current_revision",
    "differences",
    "ensure_schema",
    "migrate_to",
    "new_revision",
    "pending",
    "resolve",
    "revisions",
    "run_alembic",
]

BASELINE = "0001"  # the schema as `create_all` made it before migrations existed
VERSION_TABLE = "alembic_version"
MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaMismatch(Exception):
    """The database's tables differ from the models in a way no migration explains."""


def current_revision(connection: Connection) -> str | None:
    """The database's revision; None when it has none (empty, or pre-migration)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    row = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).first()
    return None if row is None else str(row[0])


def _has_tables(connection: Connection) -> bool:
    names = set(inspect(connection).get_table_names())
    return any(table in names for table in Base.metadata.tables)


def ensure_schema(connection: Connection) -> str:
    """Bring the schema to `HEAD` (see the module docstring); what was done, in words."""
    revision = current_revision(connection)
    if revision == HEAD:
        return f"at {HEAD}"
    if revision is None and not _has_tables(connection):
        Base.metadata.create_all(connection)
        _stamp(connection, HEAD)
        return f"created at {HEAD}"
    if revision is None:
        # Pre-migration: what that code's `create_all` would add, then the baseline.
        Base.metadata.create_all(connection)
        _stamp(connection, BASELINE)
        run_alembic(connection, "upgrade", "head")
        found = differences(connection)
        if found:
            raise SchemaMismatch(
                "the database's tables differ from the schema, so it cannot be adopted: "
                + "; ".join(found)
            )
        return f"adopted at {BASELINE}, upgraded to {HEAD}"
    run_alembic(connection, "upgrade", "head")
    return f"upgraded from {revision} to {HEAD}"


def _stamp(connection: Connection, revision: str) -> None:
    # Alembic's own table, written by hand so that the fast paths need no Alembic import.
    connection.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} ("
            "version_num VARCHAR(32) NOT NULL, "
            f"CONSTRAINT {VERSION_TABLE}_pkc PRIMARY KEY (version_num))"
        )
    )
    connection.execute(text(f"DELETE FROM {VERSION_TABLE}"))
    connection.execute(
        text(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (:v)"), {"v": revision}
    )


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def run_alembic(connection: Connection, direction: str, target: str) -> None:
    from alembic import command

    getattr(command, direction)(_config(connection), target)


def pending(connection: Connection) -> list[str]:
    """Revisions between the database's and `HEAD`, oldest first."""
    current = current_revision(connection)
    revisions = _script().iterate_revisions("head", current or "base")
    return [r.revision for r in reversed(list(revisions))]


def resolve(target: str) -> str | None:
    """The revision `target` names (`head`, `base`, an ID or a unique prefix of one)."""
    from alembic.util import CommandError

    if target == "base":
        return None
    if not target.strip():
        raise ValueError("no revision given: name one, or head, or base")
    try:
        found = _script().get_revision(target)
    except CommandError as exc:
        raise ValueError(str(exc)) from None
    if found is None:
        raise ValueError(f"no revision {target!r}")
    return found.revision


def migrate_to(connection: Connection, target: str) -> tuple[str | None, str | None]:
    """Upgrade or downgrade to `target`; (revision before, revision after).

    A database that is empty or pre-migration is first brought to `HEAD` by
    `ensure_schema` (created or adopted), then moved from there."""
    wanted = resolve(target)
    before = current_revision(connection)
    if before is None:
        ensure_schema(connection)
    now = current_revision(connection)
    if wanted == now:
        return before, now
    script = _script()
    ancestors = {r.revision for r in script.iterate_revisions(now, "base")} if now else set()
    direction = "downgrade" if wanted is None or wanted in ancestors else "upgrade"
    run_alembic(connection, direction, wanted or "base")
    return before, current_revision(connection)


def differences(connection: Connection) -> list[str]:
    """How the database's tables differ from the models, one line per difference."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [_describe(diff) for diff in compare_metadata(context, Base.metadata)]


def _describe(diff: Any) -> str:
    # compare_metadata gives tuples, or lists of tuples for column modifications.
    if isinstance(diff, list):
        return ", ".join(_describe(d) for d in diff)
    kind, *rest = diff
    names = [getattr(item, "name", None) or str(item) for item in rest if item is not None]
    return f"{kind} {' '.join(str(n) for n in names[:3])}".strip()


def new_revision(engine: Engine, message: str, revision_id: str) -> Path:
    """Write versions/<id>_<slug>.py from the models' difference with `engine`'s database
    (which must be at `HEAD`): the developer's step after changing the models."""
    from alembic import command

    with engine.connect() as connection:
        script = command.revision(
            _config(connection), message=message, autogenerate=True, rev_id=revision_id
        )
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


def revisions() -> Sequence[str]:
    """Every revision, oldest first."""
    return [r.revision for r in reversed(list(_script().walk_revisions()))]
