"""What is coming on one contract or claim: debits, instalments, deadlines, next steps.

The building blocks of `moncompte status` (`domain.overview`) and `moncompte calendar`
(`domain.agenda`), so that both show the same dates, and the same dates as `invoices` and
`schedule`: an invoice that exists is taken as the API gives it (its issue and debit
dates); a monthly invoice not issued yet is projected with the rule the server issues it
by (`calendar.invoice_date` / `calendar.debit_date`: the 2nd and the 5th, moved to the next
business day); an instalment's debit date is the schedule's `debit_date`.

Inputs are the API's JSON as plain mappings; outputs are small frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from domain.calendar import debit_date, invoice_date
from domain.claims import mediator_from, mediator_until
from domain.commitment import equipment_return_deadline
from domain.diagnose.findings import parse_date

__all__ = [
    "LIVE_STATUSES",
    "ClaimStep",
    "EquipmentReturn",
    "Instalment",
    "MonthlyBill",
    "claim_step",
    "equipment_returns",
    "instalments_between",
    "is_billed_monthly",
    "monthly_bills",
    "next_instalment",
    "open_withdrawal",
    "overdue_instalments",
    "running_commitment_end",
]

LIVE_STATUSES = ("active", "pending_activation")
"""Contract statuses still running; terminated and withdrawn ones are history."""

UPCOMING_INSTALMENT = ("due", "rescheduled")


def _month_of(d: date) -> tuple[int, int]:
    return d.year, d.month


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


# --- monthly invoices (internet contracts) ---------------------------------------------------


@dataclass(frozen=True)
class MonthlyBill:
    """The monthly invoice of one contract for one month: issued on `invoice_on`, debited
    on `debit_on`. `invoice_id` is set once the invoice exists (then the dates and the
    amount are the invoice's); otherwise `estimated` and the amount is the monthly price
    plus the validated options."""

    contract_id: str
    month: str  # YYYY-MM: the identity of the bill, whatever its dates
    invoice_on: date
    debit_on: date
    amount_cents: int
    invoice_id: str | None
    status: str | None  # the invoice's status, None while estimated

    @property
    def estimated(self) -> bool:
        return self.invoice_id is None


def _monthly_amount(contract: Mapping[str, Any]) -> int:
    price = int(contract.get("monthly_price_cents") or 0)
    options = sum(
        int(o.get("price_cents") or 0) for o in contract.get("options") or [] if o.get("validated")
    )
    return price + options


def is_billed_monthly(contract: Mapping[str, Any]) -> bool:
    """An active internet contract: invoiced on the 2nd, debited on the 5th (seed 002).

    A contract not yet activated is not billed yet (billing starts at the first
    connection), and an ended one gets only its closing invoice, which the API does not
    announce before it is issued.
    """
    return contract.get("kind") == "internet" and contract.get("status") == "active"


def monthly_bills(
    contract: Mapping[str, Any],
    invoices: Sequence[Mapping[str, Any]],
    start: date,
    end: date,
) -> Iterator[MonthlyBill]:
    """The monthly bills of `contract` whose issue or debit date falls in [start, end],
    in month order. Nothing for a contract that is not billed monthly."""
    if not is_billed_monthly(contract) or end < start:
        return
    cid = str(contract.get("id"))
    by_month: dict[str, Mapping[str, Any]] = {}
    for invoice in invoices:
        issued = parse_date(invoice.get("issue_date"))
        if invoice.get("contract_id") == cid and issued is not None:
            by_month.setdefault(f"{issued:%Y-%m}", invoice)
    # The bill of the month before `start` may still be debited in the window.
    year, month = _month_of(start.replace(day=1) - timedelta(days=1))
    while True:
        key = f"{year:04d}-{month:02d}"
        inv = by_month.get(key)
        issued = parse_date(inv.get("issue_date")) if inv else None
        debited = parse_date(inv.get("debit_date")) if inv else None
        invoice_on = issued or invoice_date(year, month)
        debit_on = debited or debit_date(year, month)
        if invoice_on > end:
            return
        if start <= invoice_on <= end or start <= debit_on <= end:
            yield MonthlyBill(
                contract_id=cid,
                month=key,
                invoice_on=invoice_on,
                debit_on=debit_on,
                amount_cents=int(inv.get("total_cents") or 0) if inv else _monthly_amount(contract),
                invoice_id=str(inv.get("id")) if inv else None,
                status=str(inv.get("status")) if inv else None,
            )
        year, month = _next_month(year, month)


# --- instalments (plans and partworks) -------------------------------------------------------


@dataclass(frozen=True)
class Instalment:
    """One instalment of a schedule, as the schedule shows it."""

    contract_id: str
    number: int
    due_on: date
    debit_on: date
    amount_cents: int
    status: str
    rescheduled_count: int


def _instalments(schedule: Mapping[str, Any]) -> Iterator[Instalment]:
    cid = str(schedule.get("contract_id"))
    for inst in schedule.get("instalments") or []:
        due = parse_date(inst.get("due_date"))
        if due is None:
            continue
        yield Instalment(
            contract_id=cid,
            number=int(inst.get("number") or 0),
            due_on=due,
            debit_on=parse_date(inst.get("debit_date")) or due,
            amount_cents=int(inst.get("amount_cents") or 0),
            status=str(inst.get("status")),
            rescheduled_count=int(inst.get("rescheduled_count") or 0),
        )


def instalments_between(schedule: Mapping[str, Any], start: date, end: date) -> list[Instalment]:
    """Instalments still to be debited whose debit date falls in [start, end]."""
    return [
        i
        for i in _instalments(schedule)
        if i.status in UPCOMING_INSTALMENT and start <= i.debit_on <= end
    ]


def next_instalment(schedule: Mapping[str, Any]) -> Instalment | None:
    """The instalment the schedule names as its next debit (`next_debit`), if any."""
    upcoming = schedule.get("next_debit")
    if not isinstance(upcoming, Mapping):
        return None
    number = upcoming.get("number")
    return next((i for i in _instalments(schedule) if i.number == number), None)


def overdue_instalments(schedule: Mapping[str, Any], today: date) -> list[Instalment]:
    """Failed instalments, and those still due whose debit date has passed."""
    return [
        i
        for i in _instalments(schedule)
        if i.status == "failed" or (i.status in UPCOMING_INSTALMENT and i.debit_on < today)
    ]


# --- deadlines of a contract ---------------------------------------------------------------


def open_withdrawal(contract: Mapping[str, Any], today: date) -> date | None:
    """The withdrawal deadline (L221-18, as the API computed it) while it is still open."""
    if contract.get("status") not in LIVE_STATUSES:
        return None
    deadline = parse_date(contract.get("withdrawal_deadline"))
    return deadline if deadline is not None and deadline >= today else None


def running_commitment_end(contract: Mapping[str, Any], today: date) -> date | None:
    """The last day of the commitment of a live contract, while it still runs."""
    if contract.get("status") not in LIVE_STATUSES:
        return None
    end = parse_date(contract.get("commitment_end"))
    return end if end is not None and end >= today else None


@dataclass(frozen=True)
class EquipmentReturn:
    """One item of lent equipment to send back after the contract ended."""

    contract_id: str
    kind: str
    serial: str
    reference: str | None  # RM-…, written on the parcel
    deadline: date
    exchanged: bool
    value_cents: int


def equipment_returns(contract: Mapping[str, Any]) -> list[EquipmentReturn]:
    """Equipment of an ended contract not returned yet: 30 days after the termination,
    40 after an exchange (the API's deadline when it gives one, else the same rule)."""
    if contract.get("status") not in ("terminated", "withdrawn"):
        return []
    ended = parse_date(contract.get("terminated_on"))
    found = []
    for e in contract.get("equipment") or []:
        if e.get("returned_on"):
            continue
        exchanged = bool(e.get("exchanged"))
        deadline = parse_date(e.get("return_deadline"))
        if deadline is None and ended is not None:
            deadline = equipment_return_deadline(ended, exchanged)
        if deadline is None:
            continue
        found.append(
            EquipmentReturn(
                contract_id=str(contract.get("id")),
                kind=str(e.get("kind")),
                serial=str(e.get("serial")),
                reference=str(e["return_reference"]) if e.get("return_reference") else None,
                deadline=deadline,
                exchanged=exchanged,
                value_cents=int(e.get("value_cents") or 0),
            )
        )
    return sorted(found, key=lambda r: (r.deadline, r.serial))


# --- claims ----------------------------------------------------------------------------------

Step = Literal["wait_answer", "escalate", "reply_or_escalate", "wait_mediator", "too_late"]


@dataclass(frozen=True)
class ClaimStep:
    """What the customer can do next about a claim that is not closed, and when the
    mediator may be seized (L612-2): `mediator_possible_on` is the first day (the day of
    the first answer when support answered, else the claim + 2 months), `mediator_last_day`
    the last one (the claim + 1 year, exclusive, minus a day)."""

    claim_id: str
    step: Step
    mediator_possible_on: date
    mediator_last_day: date
    mediator_possible: bool


def claim_step(claim: Mapping[str, Any], today: date) -> ClaimStep | None:
    """None for a closed claim, or one without a date."""
    status = claim.get("status")
    created = parse_date(claim.get("created_on"))
    if status == "closed" or created is None:
        return None
    start = parse_date(claim.get("mediator_from")) or mediator_from(created)
    until = parse_date(claim.get("mediator_until")) or mediator_until(created)
    answered_on = parse_date(claim.get("last_answer_on"))
    possible_on = min(answered_on, start) if answered_on is not None else start
    possible = possible_on <= today < until
    step: Step
    if status == "escalated":
        step = "wait_mediator"
    elif today >= until:
        step = "too_late"
    elif status == "answered":
        step = "reply_or_escalate"
    elif possible:
        step = "escalate"
    else:
        step = "wait_answer"
    return ClaimStep(
        claim_id=str(claim.get("id")),
        step=step,
        mediator_possible_on=possible_on,
        mediator_last_day=until - timedelta(days=1),
        mediator_possible=possible and status != "escalated",
    )
