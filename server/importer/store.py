"""Writing the parsed rows: compared with what the database holds, inserted in bulk, all in
one writer transaction that is committed only when no row was rejected.

Rows go in by chunks of `CHUNK` through the seed's bulk insert (`executemany` straight to
the driver on SQLite), and every chunk first looks up, in one query per table, the IDs it
names. Rows already written by this import are in the database too (the same uncommitted
transaction), so the database is the only index of what the file said: the import keeps
no more than one chunk and the IDs seen, and a row that repeats or contradicts an earlier
one is found by the same look-up as a row that contradicts an earlier import.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from domain.iban import mask_iban
from server.db import session_factory
from server.importer.rows import Parsed, Problem
from server.models import Base
from server.seed.generated import _insert_rows
from server.seed.generated_data import _COLUMNS

__all__ = ["CHUNK", "MAX_PROBLEMS", "Report", "write_rows"]

CHUNK = 2_000
MAX_PROBLEMS = 1_000  # kept for the report; the others are only counted

# Columns compared with a row already present: all but when it was created or changed.
_IGNORED = {"customers": {"created_on"}, "payment_methods": {"updated_at"}}
# The file's column each model column comes from, to name it in a difference.
_FROM = {
    "id": "customer_id", "terms_version_accepted": "terms_version",
    "customer_id": "customer_id", "signed_on": "start_date", "withdrawal_start": "start_date",
    "commitment_start": "start_date", "first_connection_on": "first_connection",
    "monthly_price_cents": "monthly_price", "activation_fee_cents": "activation_fee",
    "termination_fee_cents": "termination_fee",
}  # fmt: skip


@dataclass
class Report:
    """What an import did, or would have done (`written` False)."""

    rows: int = 0
    customers: int = 0
    contracts: int = 0
    present: int = 0
    rejected_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0
    written: bool = False

    @property
    def ok(self) -> bool:
        return self.rejected_rows == 0 and not self.problems

    def add(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            if len(self.problems) < MAX_PROBLEMS:
                self.problems.append(problem)
            else:
                self.more_problems += 1

    def as_dict(self, dry_run: bool) -> dict[str, Any]:
        return {
            "ok": self.ok, "dry_run": dry_run, "written": self.written, "rows": self.rows,
            "customers": self.customers, "contracts": self.contracts,
            "already_present": self.present, "rejected_rows": self.rejected_rows,
            "problems": [p.as_dict() for p in self.problems],
            "problems_not_shown": self.more_problems,
        }  # fmt: skip


def _stored(value: Any) -> Any:
    """A value read back through SQLAlchemy, in the form the parsed rows carry it."""
    return value.isoformat() if isinstance(value, date | datetime) else value


def _fetch(
    connection: Connection, table: str, key: str, ids: set[str]
) -> dict[str, tuple[Any, ...]]:
    if not ids:
        return {}
    target = Base.metadata.tables[table]
    columns = [target.c[name] for name in _COLUMNS[table]]
    found = connection.execute(select(*columns).where(target.c[key].in_(ids)))
    return {row._mapping[key]: tuple(_stored(v) for v in row) for row in found}


def _show(column: str, value: Any) -> str:
    if value is None:
        return "empty"
    if column == "iban":
        return mask_iban(value)
    if column.endswith("_cents"):
        return f"{value // 100},{value % 100:02d}"
    return repr(value if not isinstance(value, str) or len(value) <= 40 else value[:37] + "...")


def _differences(
    table: str, line: int, known: tuple[Any, ...], given: tuple[Any, ...], where: str
) -> Iterator[Problem]:
    """One problem per file column whose value differs from the row already known."""
    named: set[str] = set()
    for name, old, new in zip(_COLUMNS[table], known, given, strict=True):
        if old == new or name in _IGNORED.get(table, ()):
            continue
        column = _FROM.get(name, name)
        if column not in named:
            named.add(column)
            yield Problem(line, column, f"{_show(name, new)} here, but {_show(name, old)} {where}")


@dataclass
class _Seen:
    """The IDs this import wrote or met, with their first line."""

    customers: dict[str, int] = field(default_factory=dict)
    contracts: dict[str, int] = field(default_factory=dict)


def _where(seen: dict[str, int], key: str, what: str) -> str:
    line = seen.get(key)
    return f"on line {line} for {what} {key}" if line else f"in the database for {what} {key}"


def _chunk(connection: Connection, chunk: list[Parsed], seen: _Seen, report: Report) -> None:
    customer_ids = {p.customer[0] for p in chunk}
    customers = _fetch(connection, "customers", "id", customer_ids)
    payments = _fetch(connection, "payment_methods", "customer_id", customer_ids)
    contracts = _fetch(connection, "contracts", "id", {p.contract[0] for p in chunk})
    table = Base.metadata.tables["customers"]
    numbers: dict[str, str] = {
        number: owner
        for owner, number in connection.execute(
            select(table.c.id, table.c.customer_number).where(
                table.c.customer_number.in_({p.customer[1] for p in chunk})
            )
        )
    }
    new: dict[str, list[tuple[Any, ...]]] = {
        "customers": [],
        "payment_methods": [],
        "contracts": [],
    }
    for row in chunk:
        cid, number = row.customer[0], row.customer[1]
        problems: list[Problem] = []
        customer_ok = True
        if cid in customers:
            where = _where(seen.customers, cid, "customer")
            problems += _differences("customers", row.line, customers[cid], row.customer, where)
            if cid in payments:
                problems += _differences(
                    "payment_methods", row.line, payments[cid], row.payment, where
                )
            else:
                problems.append(Problem(row.line, "iban", f"no bank details {where}"))
            customer_ok = not problems
        else:
            owner = numbers.get(number)
            if owner is not None and owner != cid:
                customer_ok = False
                problems.append(
                    Problem(row.line, "customer_number", f"{number!r} is customer {owner}'s")
                )
            else:
                customers[cid] = row.customer
                payments[cid] = row.payment
                seen.customers[cid] = row.line
                numbers[number] = cid
                new["customers"].append(row.customer)
                new["payment_methods"].append(row.payment)
                report.customers += 1
        ctid = row.contract[0]
        if ctid in seen.contracts:
            problems.append(
                Problem(row.line, "contract_id", f"{ctid} is on line {seen.contracts[ctid]} too")
            )
        elif ctid in contracts:
            diffs = list(
                _differences(
                    "contracts", row.line, contracts[ctid], row.contract,
                    f"in the database for contract {ctid}",
                )
            )  # fmt: skip
            problems += diffs
            if not diffs and customer_ok:
                report.present += 1
        elif customer_ok:
            seen.contracts[ctid] = row.line
            new["contracts"].append(row.contract)
            report.contracts += 1
        if problems:
            report.rejected_rows += 1
            report.add(problems)
    for name, rows in new.items():
        _insert_rows(connection, name, rows)


def write_rows(
    engine: Engine, rows: Iterable[Parsed | list[Problem]], *, dry_run: bool = False
) -> Report:
    """Import the rows in one writer transaction, committed when every row is accepted
    and `dry_run` is False; the report says what was (or would have been) imported."""
    report = Report()
    seen = _Seen()
    source = iter(rows)
    with session_factory(engine, immediate=True)() as session:
        connection = session.connection()  # BEGIN IMMEDIATE, or the PostgreSQL writer lock
        while batch := list(itertools.islice(source, CHUNK)):
            report.rows += len(batch)
            valid = []
            for item in batch:
                if isinstance(item, Parsed):
                    valid.append(item)
                else:
                    report.rejected_rows += 1
                    report.add(item)
            _chunk(connection, valid, seen, report)
        report.problems.sort(key=lambda problem: problem.line)  # stable: columns in order
        if report.ok and not dry_run:
            session.commit()
            report.written = True
        else:
            session.rollback()
    return report
