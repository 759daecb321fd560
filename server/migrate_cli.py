"""`python -m server migrate`: the schema's version, for an operator or a CI job.

    python -m server migrate                  create, adopt or upgrade to the newest (idempotent)
    python -m server migrate --status         current revision, newest, pending; exit 0
    python -m server migrate --check          exit 1 when the database is not current or its
                                              tables differ from the models (CI, deploy gates)
    python -m server migrate --to REV --yes   up or down to REV (`base`: no tables); going down
                                              drops what the newer revisions added, so --yes
    python -m server migrate --new "message"  developers: write the next revision from the
                                              models' difference with the database

Each run is one transaction holding the writers' lock: a failed migration leaves the
database as it was. Errors are one line on stderr: exit 1, 2 for a usage error.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from server import migrate
from server.db import IMMEDIATE_OPTION

__all__ = ["add_parser", "run"]


def add_parser(commands: Any, add_database: Any) -> None:
    """Add `migrate` to `python -m server`'s parser."""
    parser = commands.add_parser(
        "migrate", help="create, adopt, upgrade or downgrade the schema (Alembic)"
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--status", action="store_true", help="show the revisions, change nothing")
    what.add_argument(
        "--check", action="store_true",
        help="exit 1 unless the database is current and matches the models",
    )  # fmt: skip
    what.add_argument("--to", metavar="REV", help="revision to move to: an ID, head or base")
    what.add_argument("--new", metavar="MESSAGE", help="write the next revision (developers)")
    parser.add_argument("--yes", action="store_true", help="confirm a downgrade")
    add_database(parser)


def run(args: Any, engine: Engine, stdout: Any, stderr: Any) -> int:
    """Carry out `python -m server migrate`; the exit code."""
    try:
        if args.new is not None:
            return _new(engine, args.new, stdout, stderr)
        with engine.connect() as connection:
            connection.execution_options(**{IMMEDIATE_OPTION: True})
            with connection.begin():
                if args.status or args.check:
                    return _status(connection, stdout, stderr, check=args.check)
                if args.to is not None:
                    return _to(connection, args.to, args.yes, stdout, stderr)
                done = migrate.ensure_schema(connection)
                print(f"database {done} (newest)", file=stdout)
                return 0
    except ValueError as exc:
        print(f"error: {exc}", file=stderr)
        return 2
    except migrate.SchemaMismatch as exc:
        print(f"error: {exc}", file=stderr)
        return 1
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(f"error: the migration failed, nothing was changed: {reason}", file=stderr)
        return 1


def _status(connection: Any, stdout: Any, stderr: Any, *, check: bool) -> int:
    current = migrate.current_revision(connection)
    waiting = migrate.pending(connection)
    print(f"current: {current or '(none)'}", file=stdout)
    print(f"newest:  {migrate.HEAD}", file=stdout)
    print(f"pending: {', '.join(waiting) or 'none'}", file=stdout)
    if not check:
        return 0
    if waiting:
        print("check: the database is not current: run `python -m server migrate`", file=stderr)
        return 1
    found = migrate.differences(connection)
    for line in found:
        print(f"check: differs from the models: {line}", file=stderr)
    return 1 if found else 0


def _to(connection: Any, target: str, yes: bool, stdout: Any, stderr: Any) -> int:
    wanted = migrate.resolve(target)
    current = migrate.current_revision(connection)
    order = list(migrate.revisions())
    if current in order:
        goal = -1 if wanted is None else order.index(wanted)
        if goal < order.index(current) and not yes:
            print(
                f"error: going down from {current} to {target} drops what the newer "
                "revisions added, with its data: pass --yes",
                file=stderr,
            )
            return 2
    before, after = migrate.migrate_to(connection, target)
    if before == after:
        print(f"database already at {after}", file=stdout)
    else:
        print(f"database moved from {before or '(none)'} to {after or 'base'}", file=stdout)
    return 0


def _new(engine: Engine, message: str, stdout: Any, stderr: Any) -> int:
    if not message.strip():
        print("error: --new needs a message saying what changes", file=stderr)
        return 2
    with engine.connect() as connection:
        waiting = migrate.pending(connection)
        found = [] if waiting else migrate.differences(connection)
    if waiting:
        print("error: migrate the database to the newest revision first", file=stderr)
        return 1
    if not found:
        print("error: the models and the database agree: no revision to write", file=stderr)
        return 1
    number = len(migrate.revisions()) + 1
    path = migrate.new_revision(engine, message, f"{number:04d}")
    print(f"wrote {path}: review it, then set HEAD in server/migrations/__init__.py", file=stdout)
    return 0
