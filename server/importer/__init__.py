"""`python -m server import customers FILE.csv`: onboard a provider's customer base.

One row per contract, with the customer who holds it and their bank details (the columns
are in docs/server.md, "Importing customers", and in `rows.COLUMNS`). The rules:

- every row is checked with the domain rules the API applies (the IBAN and its RIB key
  through `domain.iban.validate_iban`, money through `domain.money.parse_money`, the
  commitment lengths and ends of `domain.commitment`), and every problem is reported as
  `line N: column: problem`;
- all or nothing: one transaction, committed only when no row was rejected;
- rerunnable: a row identical to what the database holds is skipped as already present;
  one that differs is rejected, saying what differs, never written over.

The file is read as a stream (`rows`) and written by chunks in bulk (`store`): 100,000
rows take seconds, not minutes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from server.importer.rows import COLUMNS, REQUIRED, FileError, Problem, decoded, read_rows
from server.importer.store import Report, write_rows
from server.seed.generated_data import _iso_dt

__all__ = [
    "COLUMNS",
    "REQUIRED",
    "FileError",
    "Problem",
    "Report",
    "add_parser",
    "import_customers",
    "run",
]

_DELIMITERS = {",": ",", ";": ";", "tab": "\t"}


def import_customers(
    engine: Engine,
    lines: Iterable[str],
    *,
    delimiter: str | None = None,
    dry_run: bool = False,
    prepare: Callable[[Engine], object] | None = None,
) -> Report:
    """Import a customer file given as text lines; raises `FileError` for a header that
    is not the customer file's, before `prepare(engine)` and before any write."""
    now = _iso_dt(datetime.now(UTC).replace(tzinfo=None))
    rows = read_rows(lines, now, delimiter=delimiter)
    if prepare is not None:
        prepare(engine)
    return write_rows(engine, rows, dry_run=dry_run)


def add_parser(commands: Any, add_database: Any) -> None:
    """Add `import customers` to `python -m server`'s parser."""
    importing = commands.add_parser("import", help="onboard a provider's data from a file")
    what = importing.add_subparsers(dest="what", required=True, metavar="WHAT")
    customers = what.add_parser(
        "customers",
        help="customers, contracts and bank details from a CSV file (all or nothing)",
    )
    customers.add_argument("file", metavar="FILE.csv", help="the CSV file, or - for stdin")
    customers.add_argument(
        "--delimiter", choices=tuple(_DELIMITERS), metavar=",|;|tab",
        help="the field separator (default: guessed from the header line)",
    )  # fmt: skip
    customers.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    customers.add_argument(
        "--json", action="store_true", help="also print the report as JSON on stdout"
    )
    add_database(customers)


def _summary(report: Report, dry_run: bool) -> str:
    counts = (
        f"{report.customers} customers, {report.contracts} contracts "
        f"({report.present} already present)"
    )
    if not report.ok:
        count = len(report.problems) + report.more_problems
        problems = f"{count} problem{'s' if count > 1 else ''}"
        if not report.rejected_rows:  # the header
            return f"rejected: {problems}; nothing written"
        return (
            f"rejected: {report.rejected_rows} of {report.rows} rows, {problems}; nothing written"
        )
    if dry_run:
        return f"dry run: would import {counts}; nothing written"
    return f"imported {counts}"


def run(
    args: Any,
    engine: Engine,
    prepare: Callable[[Engine], object],
    stdin: Any,
    stdout: Any,
    stderr: Any,
) -> int:
    """Carry out `python -m server import customers`; the exit code. `prepare` readies the
    schema (what the other admin commands call), once the file's header was read."""
    started = time.perf_counter()
    delimiter = _DELIMITERS[args.delimiter] if args.delimiter else None
    handle = None
    try:
        if args.file == "-":
            buffer = getattr(stdin, "buffer", None)
            lines: Iterable[str] = decoded(buffer) if buffer is not None else stdin
        else:
            handle = open(args.file, "rb")  # noqa: SIM115 - closed below, read while streaming
            lines = decoded(handle)
        report = import_customers(
            engine, lines, delimiter=delimiter, dry_run=args.dry_run, prepare=prepare
        )
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror or exc}", file=stderr)
        return 1
    except FileError as exc:
        report = Report(problems=[exc.problem])
    except OperationalError as exc:
        print(f"error: database: {str(exc.orig).splitlines()[0]}", file=stderr)
        return 1
    finally:
        if handle is not None:
            handle.close()
    for problem in report.problems:
        print(problem, file=stderr)
    if report.more_problems:
        print(f"... and {report.more_problems} more problems", file=stderr)
    summary = _summary(report, args.dry_run)
    elapsed = time.perf_counter() - started
    print(f"{summary} in {elapsed:.2f} s" if report.ok else summary, file=stderr)
    if args.json:
        print(json.dumps(report.as_dict(args.dry_run), ensure_ascii=False), file=stdout)
    return 0 if report.ok else 1
