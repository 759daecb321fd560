"""`moncompte sandbox start|stop|status|reset|token|serve`: the built-in sandbox."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.context import Env
from cli.errors import MoncompteError, UsageError
from cli.http import is_loopback
from cli.output import Column
from cli.sandbox import DEMO_CUSTOMER, DEMO_STAFF, check_extra, database_url, db_path, mode

app = typer.Typer(
    help="The built-in sandbox: the reference server over demo data.\n\n"
    "With no API configured, the first command starts it in the background (127.0.0.1, "
    "a port the OS picks, only for you) and later commands reuse it; it stops by itself "
    "after 15 minutes without a request (MONCOMPTE_SANDBOX_IDLE_TIMEOUT, e.g. 5m, 2h). "
    "'sandbox stop' stops it now. MONCOMPTE_SANDBOX=inprocess runs it inside each command "
    "instead (slower, no background process).",
    no_args_is_help=True,
)

DbOpt = Annotated[
    Path | None,
    typer.Option("--db", metavar="PATH", help="SQLite file (default: the user data dir)."),
]
CustomersOpt = Annotated[
    int,
    typer.Option("--customers", min=0, metavar="N", help="Extra generated customers (bulk tests)."),
]
IdleOpt = Annotated[
    str | None,
    typer.Option(
        "--idle-timeout",
        metavar="TIME",
        help="Stop after this long without a request: seconds, or 15m, 2h (default 15m).",
    ),
]


def _path(env: Env, db: Path | None) -> Path:
    return Path(os.path.expanduser(db)) if db is not None else db_path(env.environ)


def _db(env: Env, db: Path | None) -> Path:
    path = _path(env, db)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _today(env: Env) -> Any:
    return env.today() if env.environ.get("MONCOMPTE_TODAY") else None


def _launcher(env: Env, db: Path | None, idle_timeout: str | None = None) -> Any:
    from cli.sandbox.background import Launcher, parse_idle_timeout

    launcher = Launcher.for_env(env)
    if db is not None or idle_timeout is not None:
        launcher = Launcher(
            env.environ,
            _path(env, db),
            today=launcher.today,
            idle_timeout=(
                parse_idle_timeout(idle_timeout, "--idle-timeout")
                if idle_timeout is not None
                else launcher.idle_timeout
            ),
            log=env.debug,
        )
    return launcher


@app.command("start")
def start(ctx: typer.Context, db: DbOpt = None, idle_timeout: IdleOpt = None) -> None:
    """Start the background sandbox server now (it starts by itself when needed)."""
    env = Env.of(ctx)
    launcher = _launcher(env, db, idle_timeout)
    state, started = launcher.start()
    if started:
        env.out.notice(f"sandbox started: {state.url} (pid {state.pid})")
    else:
        env.out.notice(f"sandbox already running: {state.url} (pid {state.pid})")
    _render_status(env, launcher)


@app.command("stop")
def stop(ctx: typer.Context, db: DbOpt = None) -> None:
    """Stop the background sandbox server (the data stays; the next command starts it)."""
    env = Env.of(ctx)
    state = _launcher(env, db).stop()
    if state is None:
        env.out.notice("no sandbox server was running")
    else:
        env.out.notice(f"sandbox stopped (pid {state.pid})")


@app.command("status")
def status(ctx: typer.Context, db: DbOpt = None) -> None:
    """Whether the background server runs, where, and what its database holds."""
    env = Env.of(ctx)
    _render_status(env, _launcher(env, db))


def _render_status(env: Env, launcher: Any) -> None:
    path = launcher.database
    state = launcher.running()
    info: dict[str, Any] = {
        "running": state is not None,
        "url": state.url if state else None,
        "pid": state.pid if state else None,
        "version": state.version if state else None,
        "started_at": state.started_at if state else None,
        "idle_timeout_s": state.idle_timeout if state else None,
        "today": state.today if state else None,
        "mode": mode(env.environ),
        "database": str(path),
        "exists": path.exists(),
        "size_bytes": path.stat().st_size if path.exists() else None,
        "state_file": str(launcher.state_path),
        "log_file": str(launcher.log_path),
    }
    counts = _counts(path) if path.exists() else {}
    info["seeded"] = bool(counts.get("customers") or counts.get("users"))
    fields = [
        Column("running", "running", "bool"),
        Column("url", "url"),
        Column("pid", "pid", "int"),
        Column("version", "version"),
        Column("started_at", "started at"),
        Column("idle_timeout_s", "idle timeout (s)"),
        Column("today", "pinned date"),
        Column("mode", "mode"),
        Column("database", "database"),
        Column("exists", "exists", "bool"),
        Column("size_bytes", "size (bytes)", "int"),
        Column("seeded", "seeded", "bool"),
        Column("state_file", "state file"),
        Column("log_file", "log file"),
    ]
    for table in _SHOWN:
        if table not in counts:
            continue
        info[table] = counts[table]
        fields.append(Column(table, table, "int"))
    env.out.render_one(info, fields)


@app.command("reset")
def reset(ctx: typer.Context, customers: CustomersOpt = 0, db: DbOpt = None) -> None:
    """Drop the sandbox data and seed it again, dated from today.

    A background server over that database is stopped first; the next command starts it
    again over the new data."""
    env = Env.of(ctx)
    path = _db(env, db)
    if mode(env.environ) == "inprocess":
        from cli.sandbox.inprocess import embedded

        embedded().reset(database_url(path), today=_today(env), customers=customers)
    else:
        stopped = _launcher(env, db).stop()
        if stopped is not None:
            env.out.notice(f"stopped the background sandbox (pid {stopped.pid}) to reset it")
        _server_command(env, "reset", "--db", str(path), "--customers", str(customers))
    env.out.notice(f"sandbox reset: {path}")


def _server_command(env: Env, *args: str, dated: bool = True) -> str:
    """`python -m server ARGS` in a child process (this one never imports the server);
    its stdout. `dated`: pass MONCOMPTE_TODAY on as `--today`."""
    from cli.sandbox.background import server_environ

    check_extra()
    command = [sys.executable, "-m", "server", *args]
    today = _today(env)
    if dated and today is not None:
        command += ["--today", today.isoformat()]
    result = subprocess.run(
        command, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=server_environ()
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise MoncompteError(f"python -m server {args[0]} failed: {last}")
    return result.stdout


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
    """Print an access token for a sandbox user (for scripts and CI).

    The token is stored in the sandbox database: it works with 'sandbox serve' over the
    same database as well as with the background server. Starts no server."""
    env = Env.of(ctx)
    if staff and username:
        raise UsageError("--staff and --username cannot be used together")
    user = username or (DEMO_STAFF if staff else DEMO_CUSTOMER)
    if mode(env.environ) == "inprocess":
        env.out.text(_token_inprocess(env, user, db))
        return
    launcher = _launcher(env, db)
    running = launcher.running()
    if running is not None and launcher.mismatch(running) is None:
        env.out.text(launcher.ensure(user)[1])  # one request to the running server
        return
    path = _db(env, db)
    if not _counts(path).get("users"):  # first use: the demo data first
        _server_command(env, "seed", "--customers", "0", "--db", str(path))
    try:
        minted = _server_command(env, "token", user, "--db", str(path), dated=False)
    except MoncompteError as exc:
        if "no user named" in exc.message:
            raise UsageError(f"no sandbox user named {user!r}") from None
        raise
    env.out.text(minted.strip())


def _token_inprocess(env: Env, user: str, db: Path | None) -> str:
    from cli.sandbox.inprocess import embedded

    module = embedded()
    path = _db(env, db)
    url = database_url(path)
    if not _counts(path).get("users"):
        # First use: starting the server once seeds the demo data.
        module.start_background(url, host="127.0.0.1", port=0, today=_today(env)).stop()
    try:
        return str(module.mint_token(url, user))
    except LookupError:
        raise UsageError(f"no sandbox user named {user!r}") from None


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
    """Run a sandbox server in the foreground until Ctrl-C, on a port of your choice.

    For scripts and CI that set MONCOMPTE_API_URL and a token ('sandbox token'); any
    local user can reach it, unlike the background server."""
    from cli.sandbox.inprocess import embedded

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
