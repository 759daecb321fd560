"""`moncompte status`: everything a customer must keep an eye on, as one JSON-ready dict.

Built from the data `diagnose` fetches once (`AccountData`) and its account findings, with
the blocks of `domain.upcoming`, so the dates are those of `invoices`, `schedule` and
`calendar`. The keys are a contract (`-o json`): every key is always present, lists may be
empty and absent values are null. What the screen keeps short is the command's business;
this dict is always complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from domain.diagnose import AccountData, Finding
from domain.diagnose.findings import parse_date
from domain.upcoming import (
    LIVE_STATUSES,
    claim_step,
    equipment_returns,
    monthly_bills,
    next_instalment,
    open_withdrawal,
    overdue_instalments,
    running_commitment_end,
)

__all__ = [
    "CONTRACT_KEYS",
    "OVERVIEW_KEYS",
    "SUMMARY_KEYS",
    "build_overview",
    "next_debit",
    "summary_row",
    "unpaid_items",
]

OVERVIEW_KEYS = (
    "customer_id",
    "name",
    "today",
    "next_debit",
    "unpaid_cents",
    "contracts",
    "unpaid",
    "claims",
    "urgent",
)
CONTRACT_KEYS = (
    "id",
    "kind",
    "offer",
    "status",
    "next_debit",
    "commitment_end",
    "termination_fee_cents",
    "withdrawal_deadline",
    "equipment_return",
)

# How far ahead a monthly bill is looked for: the next one is always within two months.
_MONTHLY_HORIZON_DAYS = 62


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def next_debit(
    contract: Mapping[str, Any],
    invoices: Sequence[Mapping[str, Any]],
    schedule: Mapping[str, Any] | None,
    today: date,
) -> dict[str, Any] | None:
    """The next debit of a contract, on its real (business-day) date: the next monthly
    bill of an internet contract (the invoice's when issued, else projected), or the
    instalment the schedule names next; None when nothing is scheduled."""
    if contract.get("status") not in LIVE_STATUSES:
        return None
    horizon = today + timedelta(days=_MONTHLY_HORIZON_DAYS)
    for bill in monthly_bills(contract, invoices, today, horizon):
        if bill.debit_on >= today and bill.status in (None, "unpaid"):
            return {
                "contract_id": bill.contract_id,
                "date": bill.debit_on.isoformat(),
                "amount_cents": bill.amount_cents,
                "source": "estimate" if bill.estimated else "invoice",
                "ref": bill.invoice_id or bill.month,
                "due_date": bill.invoice_on.isoformat(),
            }
    if schedule is not None:
        inst = next_instalment(schedule)
        if inst is not None:
            return {
                "contract_id": inst.contract_id,
                "date": inst.debit_on.isoformat(),
                "amount_cents": inst.amount_cents,
                "source": "schedule",
                "ref": f"{inst.contract_id}#{inst.number}",
                "due_date": inst.due_on.isoformat(),
            }
    return None


def _equipment(contract: Mapping[str, Any], today: date) -> dict[str, Any] | None:
    items = equipment_returns(contract)
    if not items:
        return None
    refs = sorted({i.reference for i in items if i.reference})
    return {
        "reference": refs[0] if refs else None,
        "deadline": min(i.deadline for i in items).isoformat(),
        "late": any(i.deadline < today for i in items),
        "value_cents": sum(i.value_cents for i in items),
        "items": [
            {
                "kind": i.kind,
                "serial": i.serial,
                "reference": i.reference,
                "deadline": i.deadline.isoformat(),
                "exchanged": i.exchanged,
                "value_cents": i.value_cents,
            }
            for i in items
        ],
    }


def _contract(data: AccountData, contract: Mapping[str, Any], today: date) -> dict[str, Any]:
    cid = str(contract.get("id"))
    quote = data.quotes.get(cid)
    fee = quote.get("total_cents") if isinstance(quote, Mapping) else None
    return {
        "id": cid,
        "kind": contract.get("kind"),
        "offer": contract.get("offer"),
        "status": contract.get("status"),
        "next_debit": next_debit(contract, data.invoices, data.schedules.get(cid), today),
        "commitment_end": _iso(running_commitment_end(contract, today)),
        "termination_fee_cents": fee if isinstance(fee, int) else None,
        "withdrawal_deadline": _iso(open_withdrawal(contract, today)),
        "equipment_return": _equipment(contract, today),
    }


def unpaid_items(data: AccountData, today: date) -> list[dict[str, Any]]:
    """Unpaid or failed invoices (overdue once their debit date has passed), and failed or
    overdue instalments, oldest first."""
    items: list[dict[str, Any]] = []
    for inv in data.invoices:
        if inv.get("status") not in ("unpaid", "failed"):
            continue
        debit = parse_date(inv.get("debit_date"))
        late = (today - debit).days if debit is not None and debit < today else 0
        items.append(
            {
                "kind": "invoice",
                "ref": str(inv.get("id")),
                "contract_id": inv.get("contract_id"),
                "date": _iso(debit),
                "amount_cents": int(inv.get("total_cents") or 0),
                "status": inv.get("status"),
                "overdue": late > 0,
                "days_late": late,
            }
        )
    for schedule in data.schedules.values():
        for inst in overdue_instalments(schedule, today):
            late = max((today - inst.debit_on).days, 0)
            items.append(
                {
                    "kind": "instalment",
                    "ref": f"{inst.contract_id}#{inst.number}",
                    "contract_id": inst.contract_id,
                    "date": inst.debit_on.isoformat(),
                    "amount_cents": inst.amount_cents,
                    "status": "failed" if inst.status == "failed" else "overdue",
                    "overdue": late > 0,
                    "days_late": late,
                }
            )
    return sorted(items, key=lambda i: (i["date"] or "", i["ref"]))


def _claims(claims: Iterable[Mapping[str, Any]], today: date) -> list[dict[str, Any]]:
    out = []
    for claim in claims:
        step = claim_step(claim, today)
        if step is None:
            continue
        out.append(
            {
                "id": step.claim_id,
                "category": claim.get("category"),
                "subject": claim.get("subject"),
                "status": claim.get("status"),
                "created_on": claim.get("created_on"),
                "contract_id": claim.get("contract_id"),
                "next_step": step.step,
                "mediator_from": step.mediator_possible_on.isoformat(),
                "mediator_last_day": step.mediator_last_day.isoformat(),
                "mediator_possible": step.mediator_possible,
            }
        )
    return sorted(out, key=lambda c: (str(c["created_on"]), c["id"]))


def _urgent(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [
        {"check": f.id, "finding": f.finding, "remedy": f.remedy, "refs": list(f.refs)}
        for f in findings
        if f.status == "fail"
    ]


def build_overview(data: AccountData, findings: Iterable[Finding], today: date) -> dict[str, Any]:
    """The whole overview: contracts (live first), what is unpaid, open claims with their
    next step, and the account checks that failed (what `diagnose` flags as urgent)."""
    customer = data.customer
    name = " ".join(str(customer.get(k)) for k in ("first_name", "last_name") if customer.get(k))
    contracts = sorted(
        (_contract(data, c, today) for c in data.contracts),
        key=lambda c: (c["status"] not in LIVE_STATUSES, str(c["id"])),
    )
    debits = [c["next_debit"] for c in contracts if c["next_debit"] is not None]
    soonest = min(debits, key=lambda d: (d["date"], d["ref"])) if debits else None
    unpaid = unpaid_items(data, today)
    return {
        "customer_id": customer.get("id"),
        "name": name or None,
        "today": today.isoformat(),
        "next_debit": soonest,
        "unpaid_cents": sum(int(i["amount_cents"]) for i in unpaid),
        "contracts": contracts,
        "unpaid": unpaid,
        "claims": _claims(data.claims, today),
        "urgent": _urgent(findings),
    }


SUMMARY_KEYS = (
    "customer_id",
    "contracts",
    "next_debit_date",
    "next_debit_cents",
    "unpaid",
    "unpaid_cents",
    "open_claims",
    "mediator_possible",
    "equipment_return_deadline",
    "urgent",
)


def summary_row(overview: Mapping[str, Any]) -> dict[str, Any]:
    """One flat row per customer (bulk runs, csv): counts, the soonest dates, the urgent
    check ids."""
    contracts = overview.get("contracts") or []
    soonest = overview.get("next_debit") or {}
    returns = [c["equipment_return"]["deadline"] for c in contracts if c.get("equipment_return")]
    claims = overview.get("claims") or []
    return {
        "customer_id": overview.get("customer_id"),
        "contracts": sum(1 for c in contracts if c.get("status") in LIVE_STATUSES),
        "next_debit_date": soonest.get("date"),
        "next_debit_cents": soonest.get("amount_cents"),
        "unpaid": len(overview.get("unpaid") or []),
        "unpaid_cents": overview.get("unpaid_cents"),
        "open_claims": len(claims),
        "mediator_possible": sum(1 for c in claims if c.get("mediator_possible")),
        "equipment_return_deadline": min(returns) if returns else None,
        "urgent": ",".join(u["check"] for u in overview.get("urgent") or []),
    }
