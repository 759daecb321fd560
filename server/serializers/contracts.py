"""Contract shapes (equipment, options, shipments, partwork progress, outages) and the
termination and withdrawal shapes built on them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from domain import calendar
from domain.claims import outage_hours
from domain.commitment import commitment_end
from server.models import Contract, Equipment
from server.serializers.formats import utc
from server.serializers.pagination import Page

# --- contracts ---------------------------------------------------------------------------


class EquipmentOut(BaseModel):
    kind: str
    serial: str
    value_cents: int
    exchanged: bool
    return_reference: str | None
    return_deadline: date | None
    returned_on: date | None


class OptionOut(BaseModel):
    name: str
    price_cents: int
    added_on: date
    validated: bool


class ShipmentOut(BaseModel):
    issue_from: int
    issue_to: int
    shipped_on: date | None
    expected_on: date
    received_on: date | None
    grouped: bool
    delayed_until: date | None


class PartworkOut(BaseModel):
    issues_total: int
    price_per_issue_cents: int
    issues_expected_by_today: int
    issues_received: int
    missing: list[int]


class OutageOut(BaseModel):
    start: datetime
    end: datetime | None
    hours: float


ContractKind = Literal["internet", "installments", "partwork"]
ContractStatus = Literal["active", "pending_activation", "terminated", "withdrawn"]


class ContractOut(BaseModel):
    id: str
    customer_id: str
    kind: ContractKind
    offer: str
    status: ContractStatus
    monthly_price_cents: int
    activation_fee_cents: int
    termination_fee_cents: int
    signed_on: date
    first_connection_on: date | None
    commitment_months: int
    commitment_start: date | None
    commitment_end: date | None
    withdrawal_deadline: date
    equipment: list[EquipmentOut]
    options: list[OptionOut]
    shipments: list[ShipmentOut]
    partwork: PartworkOut | None
    merchant: str | None
    outages: list[OutageOut]
    terminated_on: date | None


class ContractPage(Page):
    items: list[ContractOut]


def equipment_out(e: Equipment) -> dict[str, Any]:
    return {
        "kind": e.kind,
        "serial": e.serial,
        "value_cents": e.value_cents,
        "exchanged": e.exchanged,
        "return_reference": e.return_reference,
        "return_deadline": e.return_deadline,
        "returned_on": e.returned_on,
    }


def _partwork(c: Contract, today: date) -> dict[str, Any] | None:
    if c.kind != "partwork" or not c.issues_total:
        return None
    expected = 0
    if c.first_issue_on is not None and c.first_issue_on <= today:
        interval = max(c.issue_interval_days or 7, 1)
        expected = min(c.issues_total, (today - c.first_issue_on).days // interval + 1)
    received: set[int] = set()
    for s in c.shipments:
        if s.received_on is not None and s.received_on <= today:
            received.update(range(s.issue_from, s.issue_to + 1))
    return {
        "issues_total": c.issues_total,
        "price_per_issue_cents": c.price_per_issue_cents or 0,
        "issues_expected_by_today": expected,
        "issues_received": len(received),
        # Expected by now and not received: what a customer would ask support about.
        "missing": [n for n in range(1, expected + 1) if n not in received],
    }


def _outage(start: datetime, end: datetime | None, now: datetime) -> dict[str, Any]:
    # An outage still going on is counted up to now, so "over 48 h" shows while it lasts.
    until = end if end is not None else max(now, start)
    return {
        "start": utc(start),
        "end": utc(end),
        "hours": round(outage_hours(start, until), 2),
    }


def contract_out(c: Contract, today: date, now: datetime) -> dict[str, Any]:
    end = (
        commitment_end(c.commitment_start, c.commitment_months)
        if c.commitment_start is not None and c.commitment_months
        else None
    )
    return {
        "id": c.id,
        "customer_id": c.customer_id,
        "kind": c.kind,
        "offer": c.offer,
        "status": c.status,
        "monthly_price_cents": c.monthly_price_cents,
        "activation_fee_cents": c.activation_fee_cents,
        "termination_fee_cents": c.termination_fee_cents,
        "signed_on": c.signed_on,
        "first_connection_on": c.first_connection_on,
        "commitment_months": c.commitment_months,
        "commitment_start": c.commitment_start,
        "commitment_end": end,
        "withdrawal_deadline": calendar.withdrawal_deadline(c.withdrawal_start),
        "equipment": [equipment_out(e) for e in sorted(c.equipment, key=lambda e: e.id)],
        "options": [
            {
                "name": o.name,
                "price_cents": o.price_cents,
                "added_on": o.added_on,
                "validated": o.validated,
            }
            for o in sorted(c.options, key=lambda o: o.id)
        ],
        "shipments": [
            {
                "issue_from": s.issue_from,
                "issue_to": s.issue_to,
                "shipped_on": s.shipped_on,
                "expected_on": s.expected_on,
                "received_on": s.received_on,
                "grouped": s.grouped,
                "delayed_until": s.delayed_until,
            }
            for s in c.shipments
        ],
        "partwork": _partwork(c, today),
        "merchant": c.merchant,
        "outages": [_outage(o.start, o.end, now) for o in sorted(c.outages, key=lambda o: o.start)],
        "terminated_on": c.terminated_on,
    }


# --- termination -------------------------------------------------------------------------


class EquipmentReturnOut(BaseModel):
    reference: str
    deadline: date
    items: list[EquipmentOut]


class QuoteOut(BaseModel):
    contract_id: str
    effective_date: date
    months_remaining_year1: int
    months_remaining_year2: int
    monthly_price_cents: int
    year1_cents: int
    year2_cents: int
    chatel_fee_cents: int
    provider_fee_cents: int
    total_cents: int
    equipment_return: EquipmentReturnOut | None
    withdrawal_possible: bool
    withdrawal_deadline: date


class TerminationOut(BaseModel):
    contract: ContractOut
    quote: QuoteOut
    last_invoice_on: date
    equipment_return: EquipmentReturnOut | None


class WithdrawalOut(BaseModel):
    contract: ContractOut
    refund_cents: int
