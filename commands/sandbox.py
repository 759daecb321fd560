"""`moncompte sandbox serve|reset|status|token`: the reference server with demo data."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.context import Env
from cli.errors import UsageError
from cli.http import is_loopback
from cli.output import Column
from cli.sandbox import DEMO_CUSTOMER, DEMO_STAFF, database_url, db_path, embedded

app = typer.Typer(help="The built-in sandbox.", no_args_is_help=True)

DbOpt = Annotated[
    Path | None,
    typer.Option("--db", metavar="PATH", help="SQLite file (default: the user data dir)."),
]
CustomersOpt = Annotated[
    int,
    typer.Option("--customers", min=0, metavar="N", help="Extra generated customers (bulk tests)."),
]


def _db(env: Env, db: Path | None) -> Path:
    path = Path(os.path.expanduser(db)) if db is not None else db_path(env.environ)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _today(env: Env) -> Any:
    return env.today() if env.environ.get("MONCOMPTE_TODAY") else None


@app.command("serve")
def serve(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, metavar="PORT", help="0: any free port.")
    ] = 8765,
    host: Annotated[
        str, typer.Option("--host", metavar="HOST", help="Interface to listen on.")
    ] = "127.0.0.1",
    customers: CustomersOpt = 0,
    db: DbOpt = None,
) -> None:
    """Run the sandbox server in the foreground until Ctrl-C."""
    env = Env.of(ctx)
    module = embedded()
    path = _db(env, db)
    if not is_loopback(host):
        env.out.warn(f"listening on {host}: the sandbox is reachable from other machines")
    server = module.start_background(
        database_url(path), host=host, port=port, today=_today(env), customers=customers
    )
    env.out.notice(f"sandbox serving {server.url} (database {path}); Ctrl-C to stop")
    # stderr, not out.notice: a script waiting for the URL must get it even with -q.
    env.stderr.write(f"{server.url}\n")
    env.stderr.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        env.out.notice("stopping")
    finally:
        server.stop()


@app.command("reset")
def reset(ctx: typer.Context, customers: CustomersOpt = 0, db: DbOpt = None) -> None:
    """Drop the sandbox data and seed it again, dated from today."""
    env = Env.of(ctx)
    path = _db(env, db)
    embedded().reset(database_url(path), today=_today(env), customers=customers)
    env.out.notice(f"sandbox reset: {path}")


@app.command("status")
def status(ctx: typer.Context, db: DbOpt = None) -> None:
    """Where the sandbox database is, its size, and how much it holds."""
    env = Env.of(ctx)
    path = Path(os.path.expanduser(db)) if db is not None else db_path(env.environ)
    info: dict[str, Any] = {"database": str(path), "exists": path.exists(), "size_bytes": None}
    counts: dict[str, int] = {}
    if path.exists():
        info["size_bytes"] = path.stat().st_size
        counts = _counts(path)
    info["seeded"] = bool(counts.get("customers") or counts.get("users"))
    fields = [
        Column("database", "database"),
        Column("exists", "exists", "bool"),
        Column("size_bytes", "size (bytes)", "int"),
        Column("seeded", "seeded", "bool"),
    ]
    for table in _SHOWN:
        if table not in counts:
            continue
        info[table] = counts[table]
        fields.append(Column(table, table, "int"))
    env.out.render_one(info, fields)


_SHOWN = ("users", "customers", "contracts", "invoices", "instalments", "claims")


def _counts(path: Path) -> dict[str, int]:
    """Row counts per table, read-only; cheap on a sandbox-sized database."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return {}
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}
    except sqlite3.Error:
        return {}
    finally:
        conn.close()


@app.command("token")
def token(
    ctx: typer.Context,
    staff: Annotated[bool, typer.Option("--staff", help="A token for the support agent.")] = False,
    username: Annotated[
        str | None,
        typer.Option("--username", metavar="NAME", help="Any sandbox user (default: demo)."),
    ] = None,
    db: DbOpt = None,
) -> None:
    """Print an access token for a sandbox user (for scripts and CI)."""
    env = Env.of(ctx)
    if staff and username:
        raise UsageError("--staff and --username cannot be used together")
    user = username or (DEMO_STAFF if staff else DEMO_CUSTOMER)
    module = embedded()
    path = _db(env, db)
    url = database_url(path)
    if not _counts(path).get("users"):
        # First use: starting the server once seeds the demo data.
        module.start_background(url, host="127.0.0.1", port=0, today=_today(env)).stop()
    try:
        minted = module.mint_token(url, user)
    except LookupError:
        raise UsageError(f"no sandbox user named {user!r}") from None
    env.out.text(minted)
