"""Database engine, schema and sessions of the reference server.

SQLite by default (a file in the user data dir), PostgreSQL when `DATABASE_URL` says so.
The SQLite settings answer problems measured on this project (see architecture.md,
"Measured pitfalls"):

- the pool is sized for the server's thread pool (Starlette runs sync endpoints on up to
  40 threads): the default 5 + 10 made 64 concurrent requests fail with "QueuePool limit";
- WAL lets readers run while one writer commits; `busy_timeout` makes a second writer wait
  instead of failing at once; `synchronous=NORMAL` is safe with WAL and much faster;
- pysqlite's own transaction handling starts no transaction before a SELECT and commits
  DDL behind our back, so we switch it off and emit BEGIN ourselves (the recipe from the
  SQLAlchemy SQLite dialect documentation). Writers that read first can ask for
  `BEGIN IMMEDIATE` (`session_factory(engine, immediate=True)`): a deferred transaction
  that read a snapshot cannot be upgraded to a writer once another writer committed, and
  SQLite then fails at once (SQLITE_BUSY_SNAPSHOT) without waiting for `busy_timeout`.
- PostgreSQL's default isolation (READ COMMITTED) lets two transactions read the same row
  and both write it: two terminations of one contract at once both answered 200. So the
  same `immediate` sessions take a transaction-level advisory lock first, held until
  commit or rollback: writers queue one at a time, as on SQLite, and a wait longer than
  `BUSY_TIMEOUT_MS` fails (503) instead of hanging.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from server.models import Base, ServiceSetting

__all__ = [
    "BUSY_TIMEOUT_MS",
    "IMMEDIATE_OPTION",
    "SEEDED_KEY",
    "create_schema",
    "default_database_url",
    "drop_schema",
    "is_seeded",
    "make_engine",
    "normalize_database_url",
    "session_factory",
    "sqlite_path",
]

BUSY_TIMEOUT_MS = 10_000
# Key of the PostgreSQL advisory lock every writer transaction takes ("mc" then 2; the
# seed's own lock is "mc" then 1).
PG_WRITER_LOCK = 0x6D6302
# Execution option read by the "begin" listener: start SQLite transactions as writers.
IMMEDIATE_OPTION = "moncompte_sqlite_immediate"
# ServiceSetting written last by the seed: its presence means the data is complete.
SEEDED_KEY = "seeded_on"

# Sync endpoints run on Starlette's thread pool (40 threads): every one of them may hold a
# connection, plus the event loop's own work and a margin, so 64 in all.
SQLITE_POOL_SIZE = 40
SQLITE_MAX_OVERFLOW = 24
PG_POOL_SIZE = 20
PG_MAX_OVERFLOW = 20
# Wait this long for a free connection before giving up; the app answers 503 then.
POOL_TIMEOUT_S = 10


def default_database_url() -> str:
    """`DATABASE_URL` (or the file `DATABASE_URL_FILE` names) when set, else the sandbox
    SQLite file (`MONCOMPTE_SANDBOX_DB` or `sandbox.db` in the user data dir, created if
    missing). `DATABASE_PASSWORD_FILE` names a file holding the password, which then
    replaces the URL's: a container's secret, kept out of the environment and of `ps`."""
    url = os.environ.get("DATABASE_URL") or _secret("DATABASE_URL_FILE")
    if url:
        password = _secret("DATABASE_PASSWORD_FILE")
        if password is not None:
            url = make_url(url).set(password=password).render_as_string(hide_password=False)
        return normalize_database_url(url)
    override = os.environ.get("MONCOMPTE_SANDBOX_DB")
    if override:
        path = Path(override).expanduser()
    else:
        import platformdirs  # only needed here; keeps `import server.db` light

        path = Path(platformdirs.user_data_dir("moncompte", appauthor=False)) / "sandbox.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _secret(variable: str) -> str | None:
    """The content of the file `variable` names, without its final newline; None when the
    variable is unset. A file that cannot be read stops the server with one line."""
    path = os.environ.get(variable)
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise SystemExit(f"error: {variable}={path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SystemExit(f"error: {variable}={path}: not UTF-8 text") from None


def normalize_database_url(url: str) -> str:
    """Route PostgreSQL URLs to psycopg 3 (`postgres://` and `postgresql://` included)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event (see module docstring).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _set_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _set_wal(cursor: Any) -> None:
    """`PRAGMA journal_mode=WAL`, retried while another connection holds the lock.

    Switching a new file to WAL escalates a shared lock to an exclusive one, and SQLite
    answers "database is locked" at once, without its busy handler, when another
    connection holds a lock then (deadlock avoidance): two processes opening a new
    sandbox database together hit it about one time in two. Once the other is done the
    switch succeeds, or finds the file in WAL already."""
    import sqlite3
    import time

    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


_WRITER_HELD = "moncompte_writer_lock"


def _sqlite_writer_queue(engine: Engine) -> None:
    """Queue this process's SQLite writers on a lock before BEGIN IMMEDIATE.

    SQLite's busy handler polls with growing sleeps, so a writer that waits can be overtaken
    again and again: under 32 clients for 60 s one claim waited past `busy_timeout` and was
    refused with 503 although the database was never stuck. Waiting on a lock in the
    process instead wakes the next writer as soon as the last one ends; BEGIN IMMEDIATE
    and busy_timeout still arbitrate between processes (several workers, a CLI seeding).
    """
    lock = threading.Lock()

    def begin(connection: Any) -> None:
        if not connection.get_execution_options().get(IMMEDIATE_OPTION, False):
            connection.exec_driver_sql("BEGIN")
            return
        # On timeout go on without the lock: BEGIN IMMEDIATE then waits busy_timeout and
        # fails as "database is locked", which the server answers with 503.
        held = lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if held:
                lock.release()
            raise
        connection.info[_WRITER_HELD] = held

    def end(connection: Any) -> None:
        if connection.info.pop(_WRITER_HELD, False):
            lock.release()

    event.listen(engine, "begin", begin)
    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)


def _on_postgresql_begin(connection: Any) -> None:
    if connection.get_execution_options().get(IMMEDIATE_OPTION, False):
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {BUSY_TIMEOUT_MS}")
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITER_LOCK})")


def make_engine(database_url: str | None = None) -> Engine:
    """An engine for `database_url` (default: `default_database_url()`), pool sized for
    the server, with the SQLite settings above."""
    url = normalize_database_url(database_url or default_database_url())
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(url)
        connect_args = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
        if path is None:
            # One shared connection, or every pooled connection would see its own empty
            # in-memory database.
            engine = create_engine(url, connect_args=connect_args, poolclass=StaticPool)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url,
                connect_args=connect_args,
                pool_size=SQLITE_POOL_SIZE,
                max_overflow=SQLITE_MAX_OVERFLOW,
                pool_timeout=POOL_TIMEOUT_S,
            )
        event.listen(engine, "connect", _on_sqlite_connect)
        _sqlite_writer_queue(engine)
        return engine
    engine = create_engine(
        url,
        pool_size=PG_POOL_SIZE,
        max_overflow=PG_MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT_S,
        pool_pre_ping=True,
    )
    if backend == "postgresql":
        event.listen(engine, "begin", _on_postgresql_begin)
    return engine


def create_schema(engine: Engine) -> str:
    """Bring the schema to the current migration (`server.migrate.ensure_schema`: create a
    new database, adopt a pre-migration one, upgrade an older one), in one transaction
    that holds the write lock; what was done, in words."""
    from server.migrate import ensure_schema

    with engine.connect() as connection:
        connection.execution_options(**{IMMEDIATE_OPTION: True})
        with connection.begin():
            return ensure_schema(connection)


def drop_schema(engine: Engine) -> None:
    """Drop every table of the schema (children first) and the migration version."""
    from server.migrate import VERSION_TABLE

    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {VERSION_TABLE}")


def session_factory(engine: Engine, *, immediate: bool = False) -> sessionmaker[Session]:
    """Sessions bound to `engine`; objects stay readable after commit (serializers read
    them after the transaction ends). `immediate=True` makes SQLite transactions start
    as writers (`BEGIN IMMEDIATE`), for code paths that read then write."""
    bind = engine.execution_options(**{IMMEDIATE_OPTION: True}) if immediate else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


def is_seeded(engine: Engine) -> bool:
    """Whether the schema exists and a seed ran to completion."""
    if not inspect(engine).has_table(ServiceSetting.__tablename__):
        return False
    with engine.connect() as connection:
        found = connection.execute(
            select(ServiceSetting.value).where(ServiceSetting.key == SEEDED_KEY)
        ).first()
    return found is not None
