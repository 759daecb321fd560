"""The `sandbox` commands: parse, call `commands.sandbox.local` or the launcher, render."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

from cli.context import Env
from cli.errors import MoncompteError, UsageError
from cli.http import is_loopback
from cli.i18n import _
from cli.sandbox import DEMO_CUSTOMER, DEMO_STAFF, database_url, mode
from cli.sandbox.common import no_such_user, pinned_today
from commands.sandbox.local import (
    db_ready,
    launcher_for,
    render_status,
    row_counts,
    server_command,
    token_inprocess,
)

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


@app.command("start")
def start(ctx: typer.Context, db: DbOpt = None, idle_timeout: IdleOpt = None) -> None:
    """Start the background sandbox server now (it starts by itself when needed)."""
    env = Env.of(ctx)
    launcher = launcher_for(env, db, idle_timeout)
    state, started = launcher.start()
    if started:
        env.out.notice(_("sandbox started: {url} (pid {pid})").format(url=state.url, pid=state.pid))
    else:
        env.out.notice(
            _("sandbox already running: {url} (pid {pid})").format(url=state.url, pid=state.pid)
        )
    render_status(env, launcher)


@app.command("stop")
def stop(ctx: typer.Context, db: DbOpt = None) -> None:
    """Stop the background sandbox server (the data stays; the next command starts it)."""
    env = Env.of(ctx)
    state = launcher_for(env, db).stop()
    if state is None:
        env.out.notice(_("no sandbox server was running"))
    else:
        env.out.notice(_("sandbox stopped (pid {pid})").format(pid=state.pid))


@app.command("status")
def status(ctx: typer.Context, db: DbOpt = None) -> None:
    """Whether the background server runs, where, and what its database holds."""
    env = Env.of(ctx)
    render_status(env, launcher_for(env, db))


@app.command("reset")
def reset(ctx: typer.Context, customers: CustomersOpt = 0, db: DbOpt = None) -> None:
    """Drop the sandbox data and seed it again, dated from today.

    A background server over that database is stopped first; the next command starts it
    again over the new data."""
    env = Env.of(ctx)
    path = db_ready(env, db)
    if mode(env.environ) == "inprocess":
        from cli.sandbox.inprocess import embedded

        embedded().reset(database_url(path), today=pinned_today(env), customers=customers)
    else:
        stopped = launcher_for(env, db).stop()
        if stopped is not None:
            env.out.notice(
                _("stopped the background sandbox (pid {pid}) to reset it").format(pid=stopped.pid)
            )
        server_command(env, "reset", "--db", str(path), "--customers", str(customers))
    env.out.notice(_("sandbox reset: {path}").format(path=path))


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
        raise UsageError(_("--staff and --username cannot be used together"))
    user = username or (DEMO_STAFF if staff else DEMO_CUSTOMER)
    if mode(env.environ) == "inprocess":
        env.out.text(token_inprocess(env, user, db))
        return
    launcher = launcher_for(env, db)
    running = launcher.running()
    if running is not None and launcher.mismatch(running) is None:
        env.out.text(launcher.ensure(user)[1])  # one request to the running server
        return
    path = db_ready(env, db)
    if not row_counts(path).get("users"):  # first use: the demo data first
        server_command(env, "seed", "--customers", "0", "--db", str(path))
    try:
        minted = server_command(env, "token", user, "--db", str(path), dated=False)
    except MoncompteError as exc:
        if "no user named" in exc.message:  # the server's own (English) words
            raise no_such_user(user) from None
        raise
    env.out.text(minted.strip())


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
    path = db_ready(env, db)
    if not is_loopback(host):
        env.out.warn(
            _("listening on {host}: the sandbox is reachable from other machines").format(host=host)
        )
    server = module.start_background(
        database_url(path), host=host, port=port, today=pinned_today(env), customers=customers
    )
    env.out.notice(
        _("sandbox serving {url} (database {path}); Ctrl-C to stop").format(
            url=server.url, path=path
        )
    )
    # stderr, not out.notice: a script waiting for the URL must get it even with -q.
    env.stderr.write(f"{server.url}\n")
    env.stderr.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        env.out.notice(_("stopping"))

    finally:
        server.stop()
