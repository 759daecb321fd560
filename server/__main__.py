"""`python -m server`: run, seed and check the reference server without the CLI.

    python -m server serve [--host 127.0.0.1] [--port 8765] [--db PATH | --database-url URL]
                           [--customers N] [--today YYYY-MM-DD] [--workers N] [--no-demo]
                           [--log-level LEVEL] [--access-log]
    python -m server reset [--db PATH | --database-url URL] [--today ...] [--customers N]
    python -m server seed --customers N [--db PATH | --database-url URL] [--today ...]
    python -m server smoke [--db PATH | --database-url URL] [--today ...]
    python -m server openapi
    python -m server token USERNAME [--db PATH | --database-url URL]
    python -m server otp USERNAME [--db PATH | --database-url URL]
    python -m server users add NAME (--staff | --customer ID) --password-stdin [--otp]
    python -m server users list [--json] | disable NAME | enable NAME | reset-otp NAME
    python -m server import customers FILE.csv|- [--dry-run] [--json] [--delimiter , ; tab]
    python -m server migrate [--status | --check | --to REV [--yes] | --new MESSAGE]
    python -m server background --state-file PATH [--db PATH | --database-url URL]
                                [--idle-timeout SECONDS] [--today YYYY-MM-DD]
                                [--client-version VERSION]

argparse, not Typer: the server must run where only the [sandbox] extra is installed.
`serve` (logs, workers) is in server/serve.py, `migrate` in server/migrate_cli.py, `users`
in server/admin.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8765


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _add_database(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--db", type=Path, metavar="PATH", help="SQLite database file")
    group.add_argument(
        "--database-url", metavar="URL", help="SQLAlchemy URL (postgresql://… or sqlite:///…)"
    )


def _shown(url: str) -> str:
    """The database URL without its password: it goes to a terminal or a CI log."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _database_url(args: argparse.Namespace) -> str:
    from server.db import default_database_url, normalize_database_url

    if args.database_url:
        return normalize_database_url(args.database_url)
    if args.db:
        return f"sqlite:///{args.db.expanduser().resolve()}"
    return default_database_url()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m server", description="The moncompte reference API server."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server in the foreground")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    _add_database(serve)
    serve.add_argument(
        "--customers", type=_count, default=0, help="extra customers when seeding (default 0)"
    )
    serve.add_argument("--today", type=_date, help="pin the business date (YYYY-MM-DD)")
    serve.add_argument("--workers", type=_count, default=1, help="worker processes")
    serve.add_argument(
        "--no-demo", action="store_true",
        help="migrate the schema but seed no demo data (a provider's own database)",
    )  # fmt: skip
    from server.serve import LOG_LEVELS

    serve.add_argument(
        "--log-level", choices=LOG_LEVELS, default="warning", help="default: warning"
    )
    serve.add_argument("--access-log", action="store_true", help="one log line per request")

    reset = commands.add_parser("reset", help="drop all data and seed again")
    _add_database(reset)
    reset.add_argument("--today", type=_date)
    reset.add_argument("--customers", type=_count, default=0)

    seed = commands.add_parser("seed", help="seed if empty, then add N generated customers")
    _add_database(seed)
    seed.add_argument("--customers", type=_count, required=True)
    seed.add_argument("--today", type=_date)
    seed.add_argument("--seed", type=int, default=42, help="random seed (default 42)")

    smoke = commands.add_parser("smoke", help="start, query, stop: exit 0 when healthy")
    _add_database(smoke)
    smoke.add_argument("--today", type=_date)

    commands.add_parser("openapi", help="print the OpenAPI document (sorted, indented)")

    token = commands.add_parser("token", help="print a new access token for a user")
    token.add_argument("username")
    _add_database(token)

    otp = commands.add_parser("otp", help="print a user's current one-time code")
    otp.add_argument("username")
    _add_database(otp)

    from server.admin import add_parser as add_users_parser

    add_users_parser(commands, _add_database)

    from server.importer import add_parser as add_import_parser

    add_import_parser(commands, _add_database)

    from server.migrate_cli import add_parser as add_migrate_parser

    add_migrate_parser(commands, _add_database)

    background = commands.add_parser(
        "background",
        help="the CLI's background sandbox: 127.0.0.1, any port, a state file, an idle stop",
    )
    _add_database(background)
    background.add_argument("--state-file", type=Path, required=True, metavar="PATH")
    background.add_argument(
        "--idle-timeout", type=_seconds, default=None, metavar="SECONDS",
        help="stop after this long without a request (default 900)",
    )  # fmt: skip
    background.add_argument("--today", type=_date)
    background.add_argument(
        "--client-version", metavar="VERSION", help="version of the CLI that starts it"
    )
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 7 * 86_400:
        raise argparse.ArgumentTypeError("must be above 0 and at most a week")
    return value


def _users(args: argparse.Namespace) -> int:
    from server.admin import run
    from server.db import create_schema, make_engine

    engine = make_engine(_database_url(args))
    try:
        create_schema(engine)
        return run(args, engine, sys.stdin, sys.stdout, sys.stderr)
    finally:
        engine.dispose()


def _import(args: argparse.Namespace) -> int:
    from server.db import create_schema, make_engine
    from server.importer import run

    engine = make_engine(_database_url(args))
    try:  # the schema is prepared as for `users`, once the file's header was read
        return run(args, engine, create_schema, sys.stdin, sys.stdout, sys.stderr)
    finally:
        engine.dispose()


def _migrate(args: argparse.Namespace) -> int:
    from server.db import make_engine
    from server.migrate_cli import run

    engine = make_engine(_database_url(args))
    try:
        return run(args, engine, sys.stdout, sys.stderr)
    finally:
        engine.dispose()


def _background(args: argparse.Namespace) -> int:
    from server.background import DEFAULT_IDLE_TIMEOUT_S, run

    return run(
        _database_url(args),
        state_file=args.state_file,
        idle_timeout=args.idle_timeout or DEFAULT_IDLE_TIMEOUT_S,
        today=args.today,
        version=args.client_version,
    )


def _serve(args: argparse.Namespace) -> int:
    from server.serve import run

    url = _database_url(args)
    return run(
        url,
        _shown(url),
        host=args.host,
        port=args.port,
        workers=args.workers,
        today=args.today,
        demo=not args.no_demo,
        customers=args.customers,
        log_level=args.log_level,
        access_log=args.access_log,
    )


def _reset(args: argparse.Namespace) -> int:
    from server.embedded import reset

    url = _database_url(args)
    started = time.perf_counter()
    reset(url, today=args.today, customers=args.customers)
    print(f"reset {_shown(url)} in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    return 0


def _seed(args: argparse.Namespace) -> int:
    from server.db import is_seeded, make_engine
    from server.embedded import today_in_paris
    from server.seed import seed_all, seed_customers

    url = _database_url(args)
    today = args.today or today_in_paris()
    engine = make_engine(url)
    started = time.perf_counter()
    try:
        if is_seeded(engine):
            seed_customers(engine, args.customers, today, seed=args.seed)
        else:
            seed_all(engine, today, args.customers, seed=args.seed)
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    shown = _shown(url)
    print(f"seeded {args.customers} customers into {shown} in {elapsed:.2f} s", file=sys.stderr)
    return 0


def _get(url: str, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body or b"null")
        except ValueError:
            return exc.code, body.decode("utf-8", "replace")


def _smoke(args: argparse.Namespace) -> int:
    from server.embedded import mint_token, start_background

    with tempfile.TemporaryDirectory(prefix="moncompte-smoke-") as scratch:
        if args.db or args.database_url:
            url = _database_url(args)
        else:  # a throwaway database: the smoke test never touches the user's sandbox
            url = f"sqlite:///{Path(scratch) / 'smoke.db'}"
        started = time.perf_counter()
        try:
            running = start_background(url, today=args.today)
        except Exception as exc:
            print(f"smoke: FAIL: the server did not start: {exc}", file=sys.stderr)
            return 1
        try:
            ready = time.perf_counter() - started
            status_code, status = _get(f"{running.url}/v1/status")
            token = mint_token(running.database_url, "demo")
            invoices_code, invoices = _get(f"{running.url}/v1/invoices?limit=500", token)
        finally:
            running.stop()

    problems = []
    if status_code != 200 or not isinstance(status, dict):
        problems.append(f"GET /v1/status answered {status_code}")
    if invoices_code != 200 or not isinstance(invoices, dict):
        problems.append(f"GET /v1/invoices answered {invoices_code}")
    if problems:
        for problem in problems:
            print(f"smoke: FAIL: {problem}", file=sys.stderr)
        return 1
    items = invoices.get("items", [])
    unpaid = sum(1 for item in items if item.get("status") != "paid")
    print(f"server ready in {ready:.2f} s at {running.url}")
    print(f"status: {status.get('status')}, terms {status.get('terms_version')}")
    print(f"demo invoices: {len(items)} ({unpaid} not paid)")
    print("smoke: OK")
    return 0


def _openapi(_args: argparse.Namespace) -> int:
    from server.app import openapi_document

    sys.stdout.write(openapi_document())
    return 0


def _token(args: argparse.Namespace) -> int:
    from server.embedded import mint_token

    try:
        print(mint_token(_database_url(args), args.username))
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _otp(args: argparse.Namespace) -> int:
    from server.embedded import current_otp

    try:
        print(current_otp(args.username, _database_url(args)))
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


_COMMANDS = {
    "serve": _serve,
    "reset": _reset,
    "seed": _seed,
    "smoke": _smoke,
    "openapi": _openapi,
    "token": _token,
    "otp": _otp,
    "background": _background,
    "users": _users,
    "import": _import,
    "migrate": _migrate,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
