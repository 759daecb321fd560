"""The invoice lines shared by the demo and the generated customers, and the demo
accounts' invoices built from them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from domain.calendar import days_in_month, debit_date, invoice_date
from domain.money import div_round_half_up
from server.models import Invoice, InvoiceLine
from server.seed.common import _last_day, _long, _month_name

_Line = tuple[str, str, int, str]  # label, kind, amount_cents, explanation


def _subscription_line(offer: str, price: int, year: int, month: int) -> _Line:
    name = _month_name(year, month)
    return (
        f"Subscription {offer} — {name}",
        "subscription",
        price,
        f"The monthly price of {offer} for {name}, billed in advance: invoices are issued "
        "on the 2nd and debited on the 5th (next business day).",
    )


def _first_invoice_lines(
    offer: str, price: int, activation: int, first_connection: date, year: int, month: int
) -> list[_Line]:
    """Activation fee + prorata from the first connection to the end of its month + the
    current month: why the first invoice is larger (seed 002)."""
    dim = days_in_month(first_connection.year, first_connection.month)
    days = dim - first_connection.day + 1
    last = _last_day(first_connection.year, first_connection.month)
    prorata = div_round_half_up(price * days, dim)
    lines: list[_Line] = []
    if activation:
        lines.append(
            (
                "Activation fee",
                "activation",
                activation,
                "One-off fee for putting the line into service, charged on the first invoice only.",
            )
        )
    lines.append(
        (
            f"Prorata {_long(first_connection)} – {_long(last)} ({days}/{dim} days)",
            "prorata",
            prorata,
            f"Billing starts at the first connection ({_long(first_connection)}): {days} of "
            f"the {dim} days of {_month_name(first_connection.year, first_connection.month)} "
            f"at {price / 100:.2f} €/month = {price / 100:.2f} × {days} / {dim}, "
            "rounded to the cent.",
        )
    )
    lines.append(_subscription_line(offer, price, year, month))
    return lines


def _invoice(
    number: int,
    customer_id: str,
    contract_id: str,
    year: int,
    month: int,
    lines: Sequence[_Line],
    period_start: date,
    *,
    today: date,
    unpaid: bool = False,
    debited_extra: int = 0,
) -> Invoice:
    total = sum(line[2] for line in lines)
    debit = debit_date(year, month)
    if debit > today or unpaid:
        status, debited = "unpaid", None
    else:
        status, debited = "paid", total + debited_extra
    return Invoice(
        id=f"INV-{number:09d}",
        customer_id=customer_id,
        contract_id=contract_id,
        issue_date=invoice_date(year, month),
        debit_date=debit,
        period_start=period_start,
        period_end=_last_day(year, month),
        total_cents=total,
        debited_cents=debited,
        status=status,
        lines=[
            InvoiceLine(position=i, label=label, kind=kind, amount_cents=amount, explanation=why)
            for i, (label, kind, amount, why) in enumerate(lines, start=1)
        ],
    )
