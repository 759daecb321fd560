"""Instalment schedule shapes: the instalments, the totals, the next debit, and the
rescheduling options.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel

from domain import calendar
from server.models import Instalment
from server.problems import ProblemModel


class InstalmentOut(BaseModel):
    number: int
    due_date: date
    debit_date: date
    amount_cents: int
    status: Literal["paid", "due", "failed", "rescheduled"]
    original_due_date: date
    rescheduled_count: int


class NextDebitOut(BaseModel):
    number: int
    due_date: date
    debit_date: date


class ScheduleOut(BaseModel):
    contract_id: str
    instalments: list[InstalmentOut]
    paid_cents: int
    remaining_cents: int
    next_debit: NextDebitOut | None


class RescheduleOptionsOut(BaseModel):
    allowed: bool
    refusal: ProblemModel | None
    earliest: date | None
    latest: date | None
    suggested: list[date]


def instalment_out(i: Instalment) -> dict[str, Any]:
    return {
        "number": i.number,
        "due_date": i.due_date,
        # An instalment is debited on its due date, or the next business day.
        "debit_date": calendar.roll_forward(i.due_date),
        "amount_cents": i.amount_cents,
        "status": i.status,
        "original_due_date": i.original_due_date,
        "rescheduled_count": i.rescheduled_count,
    }


def schedule_out(
    contract_id: str, instalments: Sequence[Instalment], today: date
) -> dict[str, Any]:
    items = [instalment_out(i) for i in sorted(instalments, key=lambda i: i.number)]
    paid = sum(i["amount_cents"] for i in items if i["status"] == "paid")
    remaining = sum(i["amount_cents"] for i in items if i["status"] != "paid")
    upcoming = sorted(
        (i for i in items if i["status"] in ("due", "rescheduled") and i["due_date"] >= today),
        key=lambda i: (i["due_date"], i["number"]),
    )
    next_debit = (
        {k: upcoming[0][k] for k in ("number", "due_date", "debit_date")} if upcoming else None
    )
    return {
        "contract_id": contract_id,
        "instalments": items,
        "paid_cents": paid,
        "remaining_cents": remaining,
        "next_debit": next_debit,
    }
