"""The generated bulk customers: `_Generator` builds their rows as tuples, `_insert_rows`
writes them, `seed_customers` adds them to a seeded database."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table

from domain.calendar import add_months
from domain.commitment import equipment_return_deadline, return_reference
from server.db import IMMEDIATE_OPTION
from server.models import Base, Claim, Contract, Customer, Invoice
from server.seed.common import (
    _RESERVED_CLAIMS,
    _RESERVED_CONTRACTS,
    _RESERVED_CUSTOMERS,
    _RESERVED_INVOICES,
    _old_terms_version,
    _shift_month,
    current_terms_version,
    french_iban,
)
from server.seed.generated_data import (
    _BANKS,
    _CITIES,
    _CLAIM_SUBJECTS,
    _COLLECTIONS,
    _COLUMNS,
    _FIRST_NAMES,
    _INTERNET_OFFERS,
    _LAST_NAMES,
    _MERCHANTS,
    _STREETS,
    _TABLE_ORDER,
    _ascii,
    _calendar,
    _iso,
    _iso_dt,
    _max_number,
)
from server.seed.invoices import _first_invoice_lines, _Line, _subscription_line


class _Generator:
    """Builds the rows of `n` customers, chunk by chunk, as tuples per table."""

    def __init__(self, connection: Connection, today: date, seed: int) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.months = _calendar(today, 12)
        self.first_key = self.months[0].key
        self.terms_current = current_terms_version(today)
        self.terms_old = (_old_terms_version(today), f"{add_months(today, -8):%Y-%m}")
        self.customer_n = _max_number(connection, Customer.id, 1, _RESERVED_CUSTOMERS)
        self.contract_n = _max_number(connection, Contract.id, 3, _RESERVED_CONTRACTS)
        self.invoice_n = _max_number(connection, Invoice.id, 4, _RESERVED_INVOICES)
        self.claim_n = _max_number(connection, Claim.id, 3, _RESERVED_CLAIMS)
        self.first_ascii = [_ascii(n) for n in _FIRST_NAMES]
        self.last_ascii = [_ascii(n) for n in _LAST_NAMES]
        # Subscription lines repeat for every customer on an offer: build them once.
        self.sub_lines: dict[tuple[str, int], _Line] = {}
        for offer, price, _, _ in _INTERNET_OFFERS:
            for mo in self.months:
                self.sub_lines[(offer, mo.key)] = _subscription_line(
                    offer, price, mo.year, mo.month
                )
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in _TABLE_ORDER}

    def take(self) -> dict[str, list[tuple[Any, ...]]]:
        rows, self.rows = self.rows, {t: [] for t in _TABLE_ORDER}
        return rows

    def customer(self) -> None:
        rng, today, rows = self.rng, self.today, self.rows
        self.customer_n += 1
        cust_id = f"C{self.customer_n:07d}"
        fi = rng.randrange(len(_FIRST_NAMES))
        li = rng.randrange(len(_LAST_NAMES))
        postcode, city = _CITIES[rng.randrange(len(_CITIES))]
        signed = today - timedelta(days=rng.randint(40, 5 * 365))
        email_domain = ("example.com", "example.net", "example.org")[self.customer_n % 3]
        rows["customers"].append(
            (
                cust_id,
                str(10_000_000 + self.customer_n),
                _FIRST_NAMES[fi],
                _LAST_NAMES[li],
                f"{self.first_ascii[fi]}.{self.last_ascii[li]}{self.customer_n}@{email_domain}",
                # 06 39 98 xx xx: the range ARCEP keeps for fiction, never a real line
                f"06 39 98 {rng.randrange(100):02d} {rng.randrange(100):02d}",
                f"{rng.randint(1, 48)} {_STREETS[rng.randrange(len(_STREETS))]}",
                postcode,
                city,
                "FR",
                self.terms_current if rng.random() < 0.85 else rng.choice(self.terms_old),
                (signed - timedelta(days=rng.randint(0, 20))).isoformat(),
            )
        )
        bank, bank_name = _BANKS[rng.randrange(len(_BANKS))]
        branch = f"{rng.randrange(100_000):05d}"
        if bank == "20041":  # La Banque Postale account numbers carry a letter
            account = f"{rng.randrange(10**7):07d}{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}"
            account += f"{rng.randrange(1000):03d}"
        else:
            account = f"{rng.randrange(10**11):011d}"
        rows["payment_methods"].append(
            (
                cust_id,
                "sepa_debit",
                french_iban(bank, branch, account),
                f"RUM-{cust_id}-{signed:%Y%m%d}",
                bank_name,
                _iso_dt(datetime.combine(signed, time(rng.randint(8, 19), rng.randrange(60)))),
            )
        )
        self.internet(cust_id, signed)
        draw = rng.random()
        if draw < 0.35:
            self.instalment_plan(cust_id)
        elif draw < 0.38:
            self.partwork(cust_id)
        if rng.random() < 0.03:
            self.claim(cust_id)

    def _contract_id(self) -> str:
        self.contract_n += 1
        return f"CT-{self.contract_n:07d}"

    def internet(self, cust_id: str, signed: date) -> None:
        rng, today, rows = self.rng, self.today, self.rows
        cid = self._contract_id()
        offer, price, activation, fee = _INTERNET_OFFERS[rng.randrange(len(_INTERNET_OFFERS))]
        received = signed + timedelta(days=rng.randint(3, 10))
        conn = received + timedelta(days=rng.randint(0, 8))
        commitment = rng.choice((0, 12, 24, 24))
        terminated = None
        if rng.random() < 0.05 and (today - conn).days > 90:
            terminated = today - timedelta(days=rng.randint(20, min(300, (today - conn).days - 60)))
        rows["contracts"].append(
            (
                cid, cust_id, "internet", offer,
                "terminated" if terminated else "active",
                price, activation, fee, signed.isoformat(), signed.isoformat(),
                conn.isoformat(), received.isoformat(), commitment,
                conn.isoformat() if commitment else None,
                None, None, None, None, None, None, _iso(terminated), None,
            )
        )  # fmt: skip
        for kind, value, serial in (
            ("box", 12000, f"BX4G-{rng.randrange(10_000):04d}-{rng.randrange(10_000):04d}"),
            ("antenna", 15000, f"ANT-THD-{rng.randint(10, 99)}-{rng.randrange(10**6):06d}"),
        ):
            if terminated is None:
                rows["equipment"].append((cid, kind, serial, value, False, None, None, None))
            else:
                returned = terminated + timedelta(days=rng.randint(3, 25))
                rows["equipment"].append(
                    (
                        cid, kind, serial, value, False, return_reference(cid, terminated),
                        equipment_return_deadline(terminated, False).isoformat(),
                        _iso(returned) if returned <= today else None,
                    )
                )  # fmt: skip
        if rng.random() < 0.04:
            start = datetime.combine(
                today - timedelta(days=rng.randint(2, 300)), time(rng.randrange(24))
            )
            end = start + timedelta(minutes=rng.randint(30, 60 * 60))
            rows["outages"].append((cid, _iso_dt(start), _iso_dt(end)))

        first_y, first_m = _shift_month(conn.year, conn.month, 1)
        first_key = first_y * 12 + first_m - 1
        last_issue = terminated or today
        for mo in self.months:
            if mo.key < first_key or mo.issue > last_issue:
                continue
            self.invoice_n += 1
            inv_id = f"INV-{self.invoice_n:09d}"
            if mo.key == first_key:
                lines = _first_invoice_lines(offer, price, activation, conn, mo.year, mo.month)
                start_iso = conn.isoformat()
            else:
                lines = [self.sub_lines[(offer, mo.key)]]
                start_iso = mo.start_iso
            total = sum(line[2] for line in lines)
            if mo.debit > today:
                status, debited = "unpaid", None  # issued, not debited yet
            else:
                draw = rng.random()
                if draw < 0.02:
                    status, debited = "unpaid", None
                elif draw < 0.025:
                    status, debited = "failed", None
                else:
                    status, debited = "paid", total
            rows["invoices"].append(
                (
                    inv_id, cust_id, cid, mo.issue_iso, mo.debit_iso, start_iso, mo.end_iso,
                    total, debited, status,
                )
            )  # fmt: skip
            for position, (label, kind, amount, why) in enumerate(lines, start=1):
                rows["invoice_lines"].append((inv_id, position, label, kind, amount, why))

    def instalment_plan(self, cust_id: str) -> None:
        rng, today, rows = self.rng, self.today, self.rows
        cid = self._contract_id()
        merchant, item = _MERCHANTS[rng.randrange(len(_MERCHANTS))]
        n = rng.choice((3, 4, 4, 10))
        purchase = rng.randint(150, 2500) * 100 + rng.choice((0, 0, 90, 99))
        bought = today - timedelta(days=rng.randint(0, 300))
        rows["contracts"].append(
            (
                cid, cust_id, "installments", f"Paiement en {n} fois — {item}", "active",
                0, 0, 0, bought.isoformat(), (bought + timedelta(days=3)).isoformat(),
                None, None, 0, None, merchant, purchase, None, None, None, None, None, None,
            )
        )  # fmt: skip
        base, rest = divmod(purchase, n)
        for k in range(n):
            due = add_months(bought, k)
            # past instalments are paid, a few failed; the rest are still to come
            status = "due" if due >= today else "failed" if rng.random() < 0.03 else "paid"
            due_iso = due.isoformat()
            amount = base + (rest if k == 0 else 0)  # the odd cents go on the first one
            rows["instalments"].append((cid, k + 1, due_iso, due_iso, amount, status, 0))

    def partwork(self, cust_id: str) -> None:
        rng, today, rows = self.rng, self.today, self.rows
        cid = self._contract_id()
        offer, total, price = _COLLECTIONS[rng.randrange(len(_COLLECTIONS))]
        first = today - timedelta(days=rng.randint(30, 700))
        rows["contracts"].append(
            (
                cid, cust_id, "partwork", offer, "active", 0, 0, 0,
                (first - timedelta(days=10)).isoformat(), (first + timedelta(days=1)).isoformat(),
                None, None, 0, None, None, None, total, price, first.isoformat(), 14, None, None,
            )
        )  # fmt: skip
        expected_by_today = min(total, (today - first).days // 14 + 1)
        shipping = timedelta(days=3)
        issue = 1
        while issue <= min(total, expected_by_today + 1):
            size = rng.choice((3, 4)) if issue > 2 and rng.random() < 0.1 else 1
            last = min(total, issue + size - 1)
            expected = first + timedelta(days=14 * (issue - 1))
            arrived = expected + timedelta(days=rng.randint(0, 2))
            rows["shipments"].append(
                (
                    cid, issue, last,
                    _iso(expected - timedelta(days=3)) if expected <= today + shipping else None,
                    expected.isoformat(), _iso(arrived) if arrived <= today else None,
                    size > 1, None,
                )
            )  # fmt: skip
            issue = last + 1
        for k in range(total // 2):
            due = add_months(first, k)
            due_iso = due.isoformat()
            status = "paid" if due < today else "due"
            rows["instalments"].append((cid, k + 1, due_iso, due_iso, 2 * price, status, 0))

    def claim(self, cust_id: str) -> None:
        rng, today, rows = self.rng, self.today, self.rows
        self.claim_n += 1
        claim_id = f"CL-{self.claim_n:07d}"
        category, subject = _CLAIM_SUBJECTS[rng.randrange(len(_CLAIM_SUBJECTS))]
        created = today - timedelta(days=rng.randint(3, 400))
        answered = created + timedelta(days=rng.randint(1, 20))
        if answered > today:
            status, answered_on = "open", None
        else:
            status = "closed" if rng.random() < 0.6 else "answered"
            answered_on = answered
        rows["claims"].append(
            (
                claim_id, cust_id, f"CT-{self.contract_n:07d}", category, subject, status,
                created.isoformat(), _iso(answered_on), None,
            )
        )  # fmt: skip
        sent = datetime.combine(created, time(rng.randint(8, 21), rng.randrange(60)))
        rows["claim_messages"].append(
            (claim_id, "customer", _iso_dt(sent), f"Bonjour, {subject.lower()}. Merci.")
        )
        if answered_on is not None:
            reply = datetime.combine(answered_on, time(rng.randint(9, 17), rng.randrange(60)))
            rows["claim_messages"].append(
                (claim_id, "support", _iso_dt(reply), "Bonjour, votre demande a été traitée.")
            )


_DATE_COLUMNS = {
    "created_on", "signed_on", "withdrawal_start", "first_connection_on",
    "equipment_received_on", "commitment_start", "first_issue_on", "terminated_on",
    "withdrawn_on", "return_deadline", "returned_on", "issue_date", "debit_date",
    "period_start", "period_end", "due_date", "original_due_date", "shipped_on",
    "expected_on", "received_on", "delayed_until", "last_answer_on", "escalated_on",
}  # fmt: skip
_DATETIME_COLUMNS = {"updated_at", "start", "end", "sent_at"}


def _converters(columns: Sequence[str]) -> list[Callable[[Any], Any] | None]:
    def to_date(v: Any) -> Any:
        return None if v is None else date.fromisoformat(v)

    def to_datetime(v: Any) -> Any:
        return None if v is None else datetime.fromisoformat(v)

    return [
        to_date if c in _DATE_COLUMNS else to_datetime if c in _DATETIME_COLUMNS else None
        for c in columns
    ]


def _insert_rows(connection: Connection, table: str, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    columns = _COLUMNS[table]
    if connection.dialect.name == "sqlite":
        # Straight to the driver: SQLAlchemy's per-value type processing would triple the
        # time, and the values are already in SQLite's storage format.
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        finally:
            cursor.close()
        return
    # Other databases get real date objects through Core's executemany.
    converters = _converters(columns)
    target: Table = Base.metadata.tables[table]
    dicts = [
        {c: (f(v) if f else v) for c, f, v in zip(columns, converters, row, strict=True)}
        for row in rows
    ]
    connection.execute(target.insert(), dicts)


def _generate_into(connection: Connection, n: int, today: date, seed: int) -> None:
    generator = _Generator(connection, today, seed)
    chunk = 2_000
    for done in range(0, n, chunk):
        for _ in range(min(chunk, n - done)):
            generator.customer()
        rows = generator.take()
        for table in _TABLE_ORDER:
            _insert_rows(connection, table, rows[table])


def seed_customers(engine: Engine, n: int, today: date, *, seed: int = 42) -> None:
    """Add `n` generated customers in one transaction, numbered after the existing ones."""
    if n <= 0:
        return
    with engine.connect() as connection:
        connection.execution_options(**{IMMEDIATE_OPTION: True})
        with connection.begin():
            _generate_into(connection, n, today, seed)
