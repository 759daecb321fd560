"""Generated customers: realistic shapes, valid IBANs, and the same rows for the same seed."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from domain.calendar import debit_date, invoice_date
from domain.iban import validate_iban
from server.models import Base, Contract, Customer, Instalment, Invoice, PaymentMethod
from server.seed import seed_customers

from .conftest import TODAY, seeded_engine

N = 1000


def _dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order (seeded_on and tokens aside)."""
    out = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(text(f'SELECT * FROM "{table.name}" ORDER BY 1')).all()
            out[table.name] = [tuple(row) for row in rows]
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = seeded_engine(tmp_path_factory.mktemp("gen") / "gen.db", TODAY, customers=N)
    return engine


def test_counts_and_id_shapes(generated: Engine) -> None:
    with Session(generated) as session:
        ids = session.scalars(select(Customer.id)).all()
        assert len(ids) == N + 2
        assert all(re.fullmatch(r"C\d{7}", i) for i in ids)
        assert sorted(ids)[:2] == ["C0000001", "C0000002"]  # the demo customers come first
        contracts = session.scalars(select(Contract)).all()
        assert all(re.fullmatch(r"CT-\d{7}", c.id) for c in contracts)
        per_customer = Counter(c.customer_id for c in contracts)
        generated_counts = [n for cid, n in per_customer.items() if cid > "C0000100"]
        assert len(generated_counts) == N and set(generated_counts) <= {1, 2}
        invoice_ids = session.scalars(select(Invoice.id)).all()
        assert all(re.fullmatch(r"INV-\d{9}", i) for i in invoice_ids)
        assert 9 * N <= len(invoice_ids) <= 13 * N  # about a year of monthly invoices each
        kinds = Counter(c.kind for c in contracts if c.customer_id > "C0000100")
        assert kinds["internet"] == N and kinds["installments"] > N // 5
        assert kinds["partwork"] > 0
        emails = session.scalars(select(Customer.email)).all()
        assert len(set(emails)) == len(emails)
        phones = session.scalars(select(Customer.phone)).all()
        assert all(re.fullmatch(r"06 \d\d \d\d \d\d \d\d", p) for p in phones)


def test_invoices_are_mostly_paid_and_on_the_calendar(generated: Engine) -> None:
    with Session(generated) as session:
        invoices = session.scalars(select(Invoice).where(Invoice.customer_id > "C0000100")).all()
        statuses = Counter(i.status for i in invoices)
        assert statuses["paid"] > 0.9 * len(invoices)
        assert statuses["unpaid"] > 0
        for invoice in invoices[:500]:
            y, m = invoice.period_end.year, invoice.period_end.month
            assert invoice.issue_date == invoice_date(y, m) <= TODAY
            assert invoice.debit_date == debit_date(y, m)
            assert invoice.total_cents == sum(line.amount_cents for line in invoice.lines)
            if invoice.status == "paid":
                assert invoice.debited_cents == invoice.total_cents


def test_instalments_add_up_to_the_purchase(generated: Engine) -> None:
    with Session(generated) as session:
        plans = session.scalars(select(Contract).where(Contract.kind == "installments")).all()
        for plan in plans:
            amounts = session.scalars(
                select(Instalment.amount_cents).where(Instalment.contract_id == plan.id)
            ).all()
            assert sum(amounts) == plan.purchase_cents, plan.id


def test_every_iban_is_valid(generated: Engine) -> None:
    with Session(generated) as session:
        ibans = session.scalars(select(PaymentMethod.iban)).all()
    assert len(ibans) == N + 2
    for iban in ibans:
        assert validate_iban(iban) == iban
    assert any(not iban[14:25].isdigit() for iban in ibans)  # some accounts carry a letter


def test_same_seed_same_rows(tmp_path: Path) -> None:
    first = seeded_engine(tmp_path / "a.db", TODAY, customers=300)
    second = seeded_engine(tmp_path / "b.db", TODAY, customers=300)
    other = seeded_engine(tmp_path / "c.db", TODAY)
    seed_customers(other, 300, TODAY, seed=7)
    try:
        assert _dump(first) == _dump(second)
        assert _dump(first)["customers"] != _dump(other)["customers"]
    finally:
        for engine in (first, second, other):
            engine.dispose()


def test_more_customers_are_numbered_after_the_existing_ones(tmp_path: Path) -> None:
    engine = seeded_engine(tmp_path / "more.db", TODAY, customers=20)
    seed_customers(engine, 10, date(2027, 3, 1), seed=1)
    with Session(engine) as session:
        ids = sorted(session.scalars(select(Customer.id)).all())
    engine.dispose()
    assert len(ids) == 32 and ids[-1] == "C0000130"


@pytest.mark.slow
def test_ten_thousand_customers_are_fast(tmp_path: Path) -> None:
    import time

    engine = seeded_engine(tmp_path / "big.db", TODAY)
    started = time.perf_counter()
    seed_customers(engine, 10_000, TODAY)
    elapsed = time.perf_counter() - started
    engine.dispose()
    assert elapsed < 15, f"10,000 customers took {elapsed:.1f} s"
