"""Invoice shapes, with their lines and explanations, and why a debit date moved."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel

from domain import calendar
from server.models import Invoice, InvoiceLine
from server.serializers.pagination import Page

LineKind = Literal[
    "subscription", "prorata", "activation", "out_of_plan", "option", "instalment", "fee",
    "gesture",
]  # fmt: skip
InvoiceStatus = Literal["paid", "unpaid", "failed"]


class InvoiceLineOut(BaseModel):
    label: str
    kind: LineKind
    amount_cents: int
    explanation: str


class InvoiceOut(BaseModel):
    id: str
    contract_id: str
    issue_date: date
    debit_date: date
    debit_date_moved_reason: str | None
    period_start: date
    period_end: date
    total_cents: int
    debited_cents: int | None
    status: InvoiceStatus


class InvoiceDetailOut(InvoiceOut):
    lines: list[InvoiceLineOut]


class InvoicePage(Page):
    items: list[InvoiceOut]


def debit_moved_reason(debit: date) -> str | None:
    """Why an invoice's debit is not on the 5th, when the 5th was a non-business day.

    Only for the monthly debit rolled forward by the calendar; a debit on another day for
    another reason (an instalment date) gets no made-up explanation.
    """
    if debit.day == calendar.DEBIT_DAY or calendar.debit_date(debit.year, debit.month) != debit:
        return None
    return calendar.debit_moved_reason(debit.year, debit.month)


INVOICE_COLUMNS = (
    "id", "contract_id", "issue_date", "debit_date", "period_start", "period_end",
    "total_cents", "debited_cents", "status",
)  # fmt: skip


def invoice_row_out(row: Sequence[Any]) -> dict[str, Any]:
    """An invoice without lines from a row of `INVOICE_COLUMNS` (no ORM object needed)."""
    inv = dict(zip(INVOICE_COLUMNS, row, strict=True))
    return {
        "id": inv["id"],
        "contract_id": inv["contract_id"],
        "issue_date": inv["issue_date"],
        "debit_date": inv["debit_date"],
        "debit_date_moved_reason": debit_moved_reason(inv["debit_date"]),
        "period_start": inv["period_start"],
        "period_end": inv["period_end"],
        "total_cents": inv["total_cents"],
        "debited_cents": inv["debited_cents"],
        "status": inv["status"],
    }


def invoice_out(inv: Invoice, lines: Iterable[InvoiceLine] | None = None) -> dict[str, Any]:
    out = invoice_row_out([getattr(inv, c) for c in INVOICE_COLUMNS])
    if lines is not None:
        out["lines"] = [
            {
                "label": ln.label,
                "kind": ln.kind,
                "amount_cents": ln.amount_cents,
                "explanation": ln.explanation,
            }
            for ln in lines
        ]
    return out
