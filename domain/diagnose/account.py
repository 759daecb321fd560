"""Account checks on the customer and the money: terms, restrictions, payments, debits.

Also `AccountData`, what the command fetched once for all account checks; the checks on
contracts and claims, and the registry of all account checks, are in `contracts`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.diagnose.findings import (
    CMD_CLAIM_NEW,
    CMD_EXPLAIN,
    CMD_SCHEDULE,
    CMD_UNPAID,
    Finding,
    amount,
    day,
    join,
    ok,
    parse_date,
    semicolons,
    unique,
)
from domain.i18n import N_, Text, ngettext

# --- account data ------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountData:
    """What the command fetched once for all account checks (the API's JSON, as dicts).

    `schedules` and `quotes` are keyed by contract id; a quote the server refused is in
    `quote_errors` with its message instead.
    """

    me: Mapping[str, Any]
    status: Mapping[str, Any] | None = None
    contracts: Sequence[Mapping[str, Any]] = ()
    invoices: Sequence[Mapping[str, Any]] = ()
    claims: Sequence[Mapping[str, Any]] = ()
    schedules: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    quotes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    quote_errors: Mapping[str, str] = field(default_factory=dict)
    payment_method: Mapping[str, Any] | None = None

    @property
    def customer(self) -> Mapping[str, Any]:
        value = self.me.get("customer")
        return value if isinstance(value, Mapping) else {}

    def live_contracts(self) -> list[Mapping[str, Any]]:
        """Contracts still running (terminated and withdrawn ones are history)."""
        return [c for c in self.contracts if c.get("status") in ("active", "pending_activation")]


_ID_IN_TEXT = re.compile(r"\b(?:CT|INV|CL|RM)-[0-9A-Z-]+\b")


def check_terms(data: AccountData, today: date) -> Finding:
    accepted = data.customer.get("terms_version_accepted")
    current = (data.status or {}).get("terms_version")
    if not current or current == "unknown":
        return Finding(
            "account.terms",
            "skip",
            Text(N_("the current terms version is unknown (no service status)")),
        )
    if accepted == current:
        return ok(
            "account.terms",
            Text(N_("you accepted the current terms (version {version})"), version=current),
        )
    return Finding(
        "account.terms",
        "warn",
        Text(
            N_(
                "the terms of sale (CGV) changed since you accepted them: accepted {accepted}, "
                "current {current}"
            ),
            accepted=accepted or Text(N_("none")),
            current=current,
        ),
        remedy=Text(
            N_(
                "read the new terms and accept them from your online account; until then "
                "some features may stay disabled"
            )
        ),
        details={"accepted": accepted, "current": current},
    )


def check_restrictions(data: AccountData, today: date) -> Finding:
    restrictions = [r for r in data.customer.get("restrictions") or [] if isinstance(r, Mapping)]
    if not restrictions:
        return ok("account.restrictions", Text(N_("no account feature is disabled")))
    # The feature is the API's code and the reason its sentence: shown as sent.
    parts = [
        Text(
            N_("{feature} disabled since {since}: {reason}"),
            feature=str(r.get("feature")),
            since=day(r.get("since")),
            reason=str(r.get("reason")),
        )
        for r in restrictions
    ]
    refs = unique(ref for r in restrictions for ref in _ID_IN_TEXT.findall(str(r.get("reason"))))
    return Finding(
        "account.restrictions",
        "fail",
        join(parts),
        remedy=Text(
            N_(
                "settle what the reason names (see account.terms and account.payments); the "
                "feature comes back once it is settled"
            )
        ),
        refs=refs,
        details={"restrictions": [dict(r) for r in restrictions]},
    )


def check_payments(data: AccountData, today: date) -> Finding:
    """Invoices unpaid after their debit date, and instalments failed or overdue."""
    invoices = []
    for inv in data.invoices:
        debit = parse_date(inv.get("debit_date"))
        if inv.get("status") in ("unpaid", "failed") and debit is not None and debit < today:
            invoices.append((inv, debit))
    instalments = []
    for contract_id, schedule in data.schedules.items():
        for inst in schedule.get("instalments") or []:
            debit = parse_date(inst.get("debit_date")) or parse_date(inst.get("due_date"))
            failed = inst.get("status") == "failed"
            overdue = (
                inst.get("status") in ("due", "rescheduled") and debit is not None and debit < today
            )
            if failed or overdue:
                instalments.append((contract_id, inst, "failed" if failed else "overdue"))
    if not invoices and not instalments:
        return ok("account.payments", Text(N_("no unpaid invoice and no failed instalment")))
    parts: list[Text] = []
    for inv, debit in invoices:
        args = {
            "invoice": str(inv.get("id")),
            "since": debit,
            "amount": amount(inv.get("total_cents")),
            # English says "days" even for one (the JSON's sentence is kept as it was).
            "days": ngettext("{n} days", "{n} days", (today - debit).days),
        }
        if inv.get("status") == "failed":
            parts.append(
                Text(N_("invoice {invoice} failed since {since} ({amount}, {days})"), **args)
            )
        else:
            parts.append(
                Text(N_("invoice {invoice} unpaid since {since} ({amount}, {days})"), **args)
            )
    for cid, inst, why in instalments:
        args = {
            "number": str(inst.get("number")),
            "contract": cid,
            "date": day(inst.get("due_date")),
            "amount": amount(inst.get("amount_cents")),
        }
        if why == "failed":
            parts.append(
                Text(N_("instalment {number} of {contract} failed on {date} ({amount})"), **args)
            )
        else:
            parts.append(
                Text(N_("instalment {number} of {contract} overdue on {date} ({amount})"), **args)
            )
    remedies: list[str] = []
    if invoices:
        remedies.append(CMD_UNPAID)
    for cid in unique(cid for cid, _, _ in instalments):
        remedies.append(CMD_SCHEDULE.format(contract=cid))
    refs = unique(
        [str(inv.get("id")) for inv, _ in invoices]
        + [f"{cid}#{inst.get('number')}" for cid, inst, _ in instalments]
    )
    return Finding(
        "account.payments",
        "fail",
        join(parts),
        remedy=Text(
            N_("{commands} (pay what is due, or ask to reschedule an instalment)"),
            commands=semicolons(remedies),
        ),
        refs=refs,
        details={
            "unpaid_cents": sum(int(inv.get("total_cents") or 0) for inv, _ in invoices)
            + sum(int(inst.get("amount_cents") or 0) for _, inst, _ in instalments)
        },
    )


def _claims_mentioning(data: AccountData, ref: str) -> list[str]:
    """Claims whose subject or messages name `ref`: the customer already asked about it."""
    found = []
    for claim in data.claims:
        texts = [str(claim.get("subject") or "")]
        texts += [str(m.get("body") or "") for m in claim.get("messages") or []]
        if any(ref in t for t in texts):
            found.append(str(claim.get("id")))
    return found


def check_debits(data: AccountData, today: date) -> Finding:
    """Each debited invoice: the amount taken must be the total shown."""
    debited = [inv for inv in data.invoices if isinstance(inv.get("debited_cents"), int)]
    over, under = [], []
    for inv in debited:
        diff = int(inv["debited_cents"]) - int(inv.get("total_cents") or 0)
        if diff > 0:
            over.append((inv, diff))
        elif diff < 0:
            under.append((inv, diff))
    if not over and not under:
        return ok(
            "account.debits",
            ngettext(
                "all {n} debited invoices match their total",
                "all {n} debited invoices match their total",
                len(debited),
            )
            if debited
            else Text(N_("no invoice debited yet")),
        )
    parts: list[Text] = []
    refs: list[str] = []
    for inv, diff in [*over, *under]:
        claims = _claims_mentioning(data, str(inv.get("id")))
        text = Text(
            N_("{invoice} debited {debited} for a total of {total} ({sign}{difference})"),
            invoice=str(inv.get("id")),
            debited=amount(inv.get("debited_cents")),
            total=amount(inv.get("total_cents")),
            sign="+" if diff > 0 else "-",
            difference=amount(abs(diff)),
        )
        if claims:
            text = Text(
                N_("{debit}, already raised in claim {claims}"),
                debit=text,
                claims=", ".join(claims),
            )
        parts.append(text)
        refs += [str(inv.get("id")), *claims]
    first = str((over or under)[0][0].get("id"))
    return Finding(
        "account.debits",
        "fail" if over else "warn",
        join(parts),
        remedy=Text(
            N_("{explain}; if the difference is not explained: {claim}"),
            explain=CMD_EXPLAIN.format(invoice=first),
            # The suggested subject is the user's own text: in their language.
            claim=Text(
                CMD_CLAIM_NEW,
                category="billing",
                contract=str((over or under)[0][0].get("contract_id")),
                subject=Text(N_("Amount debited for {invoice}"), invoice=first),
            ),
        ),
        refs=unique(refs),
        details={
            "overcharged_cents": sum(d for _, d in over),
            "undercharged_cents": -sum(d for _, d in under),
        },
    )
