"""What the sandbox commands do besides parsing and rendering: which database and which
background server they mean, its status as a record, row counts, and `python -m server`
run as a child process (this process never imports the server stack)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from cli.context import Env
from cli.errors import MoncompteError
from cli.i18n import _
from cli.output import Column
from cli.sandbox import check_extra, database_url, db_path, mode
from cli.sandbox.common import no_such_user, pinned_today


def db_of(env: Env, db: Path | None) -> Path:
    return Path(os.path.expanduser(db)) if db is not None else db_path(env.environ)


def db_ready(env: Env, db: Path | None) -> Path:
    path = db_of(env, db)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def launcher_for(env: Env, db: Path | None, idle_timeout: str | None = None) -> Any:
    from cli.sandbox.background import Launcher, parse_idle_timeout

    launcher = Launcher.for_env(env)
    if db is not None or idle_timeout is not None:
        launcher = Launcher(
            env.environ,
            db_of(env, db),
            today=launcher.today,
            idle_timeout=(
                parse_idle_timeout(idle_timeout, "--idle-timeout")
                if idle_timeout is not None
                else launcher.idle_timeout
            ),
            log=env.debug,
        )
    return launcher


def render_status(env: Env, launcher: Any) -> None:
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
    counts = row_counts(path) if path.exists() else {}
    info["seeded"] = bool(counts.get("customers") or counts.get("users"))
    fields = [
        Column("running", _("running"), "bool"),
        Column("url", _("url")),
        Column("pid", _("pid"), "int"),
        Column("version", _("version")),
        Column("started_at", _("started at"), "date"),
        Column("idle_timeout_s", _("idle timeout (s)")),
        Column("today", _("pinned date"), "date"),
        Column("mode", _("mode")),
        Column("database", _("database")),
        Column("exists", _("exists"), "bool"),
        Column("size_bytes", _("size (bytes)"), "int"),
        Column("seeded", _("seeded"), "bool"),
        Column("state_file", _("state file")),
        Column("log_file", _("log file")),
    ]
    headers = {
        "users": _("users"),
        "customers": _("customers"),
        "contracts": _("contracts"),
        "invoices": _("invoices"),
        "instalments": _("instalments"),
        "claims": _("claims"),
    }
    for table in SHOWN:
        if table not in counts:
            continue
        info[table] = counts[table]
        fields.append(Column(table, headers.get(table, table), "int"))
    env.out.render_one(info, fields)


def server_command(env: Env, *args: str, dated: bool = True) -> str:
    """`python -m server ARGS` in a child process (this one never imports the server);
    its stdout. `dated`: pass MONCOMPTE_TODAY on as `--today`."""
    from cli.sandbox.background import server_environ

    check_extra()
    command = [sys.executable, "-m", "server", *args]
    today = pinned_today(env)
    if dated and today is not None:
        command += ["--today", today.isoformat()]
    result = subprocess.run(
        command, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=server_environ()
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or [_("no output")])[-1]
        raise MoncompteError(
            _("{command} failed: {reason}").format(
                command=f"python -m server {args[0]}", reason=last
            )
        )
    return result.stdout


def token_inprocess(env: Env, user: str, db: Path | None) -> str:
    from cli.sandbox.inprocess import embedded

    module = embedded()
    path = db_ready(env, db)
    url = database_url(path)
    if not row_counts(path).get("users"):
        # First use: starting the server once seeds the demo data.
        module.start_background(url, host="127.0.0.1", port=0, today=pinned_today(env)).stop()
    try:
        return str(module.mint_token(url, user))
    except LookupError:
        raise no_such_user(user) from None


SHOWN = ("users", "customers", "contracts", "invoices", "instalments", "claims")


def row_counts(path: Path) -> dict[str, int]:
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
