"""Response shapes (the pydantic models that make the OpenAPI document) and the functions
that turn database rows into them.

The shapes are fixed by `docs/api.md`; change both together. Builders return plain dicts
(validated against the models by FastAPI on the way out), except on the bulk lookup path,
which serialises dicts straight to JSON for speed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from domain import calendar
from domain.claims import mediator_from, mediator_until, outage_hours
from domain.commitment import commitment_end
from domain.iban import mask_iban
from server.models import (
    Claim,
    ClaimMessage,
    Contract,
    Customer,
    Equipment,
    Instalment,
    Invoice,
    InvoiceLine,
    PaymentMethod,
)
from server.problems import Problem, ProblemModel

# --- pagination --------------------------------------------------------------------------

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor: base64url of the last item's sort key."""
    raw = json.dumps(list(values), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != arity:
        raise Problem(422, "validation_error", "query.cursor: not a cursor returned by this API")
    return values


class Page(BaseModel):
    items: list[Any]
    next_cursor: str | None


# --- time --------------------------------------------------------------------------------


def utc(dt: datetime | None) -> datetime | None:
    """Naive UTC from the database → aware UTC, serialised with a `Z`."""
    return None if dt is None else dt.replace(tzinfo=UTC)


# --- customers ---------------------------------------------------------------------------


class AddressOut(BaseModel):
    line1: str
    postcode: str
    city: str
    country: str


class RestrictionOut(BaseModel):
    feature: str
    reason: str
    since: date


class CustomerOut(BaseModel):
    id: str
    customer_number: str
    first_name: str
    last_name: str
    email: str
    phone: str
    address: AddressOut
    terms_version_accepted: str
    restrictions: list[RestrictionOut]


class CustomerPage(Page):
    items: list[CustomerOut]


class MeOut(BaseModel):
    username: str
    scope: Literal["customer", "staff"]
    customer: CustomerOut | None


def customer_out(c: Customer) -> dict[str, Any]:
    return {
        "id": c.id,
        "customer_number": c.customer_number,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "email": c.email,
        "phone": c.phone,
        "address": {
            "line1": c.address_line1,
            "postcode": c.postcode,
            "city": c.city,
            "country": c.country,
        },
        "terms_version_accepted": c.terms_version_accepted,
        "restrictions": [
            {"feature": r.feature, "reason": r.reason, "since": r.since}
            for r in sorted(c.restrictions, key=lambda r: (r.since, r.id))
        ],
    }


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


# --- invoices ----------------------------------------------------------------------------

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


# --- schedule ----------------------------------------------------------------------------


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


# --- payment method ----------------------------------------------------------------------


class PaymentMethodOut(BaseModel):
    kind: Literal["sepa_debit"]
    iban_masked: str
    mandate_reference: str
    bank_name: str | None
    updated_at: datetime


class PaymentMethodChangedOut(BaseModel):
    iban_masked: str
    previous_iban_masked: str | None
    mandate_reference: str
    first_debit_on: date
    received_on: date


def payment_method_out(pm: PaymentMethod) -> dict[str, Any]:
    return {
        "kind": pm.kind,
        "iban_masked": mask_iban(pm.iban),
        "mandate_reference": pm.mandate_reference,
        "bank_name": pm.bank_name,
        "updated_at": utc(pm.updated_at),
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


# --- claims ------------------------------------------------------------------------------

ClaimCategory = Literal[
    "billing", "technical", "delivery", "order_not_received", "not_as_ordered",
    "termination", "other",
]  # fmt: skip


class AttachmentOut(BaseModel):
    filename: str
    content_type: str
    size: int


class MessageOut(BaseModel):
    author: Literal["customer", "support"]
    sent_at: datetime
    body: str
    attachments: list[AttachmentOut]


class ClaimOut(BaseModel):
    id: str
    category: ClaimCategory
    subject: str
    status: Literal["open", "answered", "escalated", "closed"]
    created_on: date
    last_answer_on: date | None
    contract_id: str | None
    messages: list[MessageOut]
    mediator_from: date
    mediator_until: date
    escalated_on: date | None


class ClaimPage(Page):
    items: list[ClaimOut]


def message_out(m: ClaimMessage) -> dict[str, Any]:
    return {
        "author": m.author,
        "sent_at": utc(m.sent_at),
        "body": m.body,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in sorted(m.attachments, key=lambda a: a.id)
        ],
    }


def claim_out(c: Claim) -> dict[str, Any]:
    return {
        "id": c.id,
        "category": c.category,
        "subject": c.subject,
        "status": c.status,
        "created_on": c.created_on,
        "last_answer_on": c.last_answer_on,
        "contract_id": c.contract_id,
        "messages": [message_out(m) for m in c.messages],
        "mediator_from": mediator_from(c.created_on),
        "mediator_until": mediator_until(c.created_on),
        "escalated_on": c.escalated_on,
    }


# --- status ------------------------------------------------------------------------------


class MaintenanceOut(BaseModel):
    start: datetime
    end: datetime
    description: str


class SupportOut(BaseModel):
    phone: str
    email: str
    form_url: str
    postal_address: str


class MediatorOut(BaseModel):
    name: str
    url: str


class StatusOut(BaseModel):
    status: Literal["ok", "maintenance"]
    terms_version: str
    maintenance: list[MaintenanceOut]
    support: SupportOut
    mediator: MediatorOut
    server_time: datetime


# --- auth --------------------------------------------------------------------------------


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"]
    expires_in: int
    scope: Literal["customer", "staff"]


class RevokedOut(BaseModel):
    revoked: bool


# --- lookup ------------------------------------------------------------------------------


class LookupResultOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str
    status: Literal[200, 404, 500]
    data: list[Any] | dict[str, Any] | None
    error: ProblemModel | None


class LookupOut(BaseModel):
    results: list[LookupResultOut]


def json_default(value: Any) -> Any:
    """`json.dumps` default for the lean bulk path: the same forms pydantic would give."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
