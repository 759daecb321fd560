"""`moncompte calendar`: the dated events of an account over the next months.

One `Event` per thing that happens on a day: a monthly invoice and its debit, an
instalment, the end of a withdrawal period or of a commitment, an equipment return
deadline, the first and the last day to seize the mediator. The dates come from
`domain.upcoming`, the same as `status`, `invoices` and `schedule`.

Each event has a `uid` derived from what it is, never from its date or position, so that
re-importing the calendar updates an event (a rescheduled instalment moves) instead of
adding a second one; `sequence` grows when the event changes in a way the data records
(an instalment rescheduled, an estimated bill that became an invoice).

Words are the command's job (they are translated): an event carries a `kind` and its
figures, not a sentence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal

from domain.diagnose import AccountData
from domain.upcoming import (
    claim_step,
    equipment_returns,
    instalments_between,
    monthly_bills,
    open_withdrawal,
    running_commitment_end,
)

__all__ = ["DOMAIN", "EVENT_KINDS", "Event", "EventKind", "events"]

DOMAIN = "moncompte"
"""The right-hand side of every UID (`debit-CT-0000001-2026-12@moncompte`)."""

EventKind = Literal[
    "invoice",
    "debit",
    "instalment",
    "withdrawal_deadline",
    "commitment_end",
    "equipment_return",
    "mediator_from",
    "mediator_last_day",
]
EVENT_KINDS: tuple[EventKind, ...] = (
    "invoice",
    "debit",
    "instalment",
    "withdrawal_deadline",
    "commitment_end",
    "equipment_return",
    "mediator_from",
    "mediator_last_day",
)


@dataclass(frozen=True)
class Event:
    """One all-day event. `ref` names the object (an invoice, `CT-…#3`, a serial, a
    claim); `reference` is the RM- return reference; `estimated` marks a bill projected
    from the price because the invoice is not issued yet."""

    uid: str
    day: date
    kind: EventKind
    contract_id: str | None
    ref: str | None
    amount_cents: int | None = None
    estimated: bool = False
    sequence: int = 0
    reference: str | None = None
    number: int | None = None


def _uid(*parts: str) -> str:
    return "-".join(parts) + f"@{DOMAIN}"


def _bills(data: AccountData, start: date, end: date) -> Iterator[Event]:
    for contract in data.contracts:
        for bill in monthly_bills(contract, data.invoices, start, end):
            # An estimate that became an invoice is an update of the same event.
            sequence = 0 if bill.estimated else 1
            ref = bill.invoice_id or bill.month
            if start <= bill.invoice_on <= end:
                yield Event(
                    uid=_uid("invoice", bill.contract_id, bill.month),
                    day=bill.invoice_on,
                    kind="invoice",
                    contract_id=bill.contract_id,
                    ref=ref,
                    amount_cents=bill.amount_cents,
                    estimated=bill.estimated,
                    sequence=sequence,
                )
            if start <= bill.debit_on <= end and bill.status in (None, "unpaid"):
                yield Event(
                    uid=_uid("debit", bill.contract_id, bill.month),
                    day=bill.debit_on,
                    kind="debit",
                    contract_id=bill.contract_id,
                    ref=ref,
                    amount_cents=bill.amount_cents,
                    estimated=bill.estimated,
                    sequence=sequence,
                )


def _instalments(data: AccountData, start: date, end: date) -> Iterator[Event]:
    for schedule in data.schedules.values():
        for inst in instalments_between(schedule, start, end):
            yield Event(
                uid=_uid("instalment", inst.contract_id, str(inst.number)),
                day=inst.debit_on,
                kind="instalment",
                contract_id=inst.contract_id,
                ref=f"{inst.contract_id}#{inst.number}",
                amount_cents=inst.amount_cents,
                sequence=inst.rescheduled_count,
                number=inst.number,
            )


def _contract_deadlines(data: AccountData, today: date, end: date) -> Iterator[Event]:
    for contract in data.contracts:
        cid = str(contract.get("id"))
        withdrawal = open_withdrawal(contract, today)
        if withdrawal is not None and withdrawal <= end:
            yield Event(_uid("withdrawal", cid), withdrawal, "withdrawal_deadline", cid, cid)
        commitment = running_commitment_end(contract, today)
        if commitment is not None and commitment <= end:
            yield Event(_uid("commitment-end", cid), commitment, "commitment_end", cid, cid)
        for item in equipment_returns(contract):
            if today <= item.deadline <= end:
                yield Event(
                    uid=_uid("return", cid, item.serial),
                    day=item.deadline,
                    kind="equipment_return",
                    contract_id=cid,
                    ref=item.serial,
                    amount_cents=item.value_cents,
                    reference=item.reference,
                )


def _claim_deadlines(data: AccountData, today: date, end: date) -> Iterator[Event]:
    for claim in data.claims:
        step = claim_step(claim, today)
        if step is None or step.step in ("wait_mediator", "too_late"):
            continue
        cid = claim.get("contract_id")
        contract_id = str(cid) if cid else None
        if today <= step.mediator_possible_on <= end:
            yield Event(
                _uid("mediator-from", step.claim_id),
                step.mediator_possible_on,
                "mediator_from",
                contract_id,
                step.claim_id,
            )
        if today <= step.mediator_last_day <= end:
            yield Event(
                _uid("mediator-last-day", step.claim_id),
                step.mediator_last_day,
                "mediator_last_day",
                contract_id,
                step.claim_id,
            )


def events(data: AccountData, today: date, end: date) -> list[Event]:
    """Every event from `today` to `end` included, by date then kind then UID."""
    found = [
        *_bills(data, today, end),
        *_instalments(data, today, end),
        *_contract_deadlines(data, today, end),
        *_claim_deadlines(data, today, end),
    ]
    order = {k: n for n, k in enumerate(EVENT_KINDS)}
    return sorted(found, key=lambda e: (e.day, order[e.kind], e.uid))
