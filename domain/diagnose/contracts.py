"""Account checks on contracts and claims, and `ACCOUNT_EVALUATORS`, every account check.

Commitment, outages, equipment to return, and claims waiting for an answer; each takes the
`AccountData` fetched once and today's date. The checks on what is shipped (partwork
issues, options, deliveries) are in `parcels`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.claims import GESTURE_OUTAGE_HOURS, mediator_from, mediator_until
from domain.commitment import equipment_label, equipment_return_deadline
from domain.diagnose.account import (
    AccountData,
    check_debits,
    check_payments,
    check_restrictions,
    check_terms,
)
from domain.diagnose.findings import (
    CMD_CLAIM_NEW,
    CMD_ESCALATE,
    CMD_LETTER,
    Finding,
    amount,
    category_label,
    day,
    join,
    minute,
    ok,
    parse_date,
    parse_stamp,
    semicolons,
    unique,
)
from domain.diagnose.parcels import check_deliveries, check_options, check_partwork_issues
from domain.i18n import N_, Text, ngettext

# Thresholds. Each is a choice of this project ([ours]) unless it cites a rule.
# Outages older than this are history: the gesture would have been asked for long ago,
# and the check would otherwise stay non-ok for the life of the contract.
OUTAGE_LOOKBACK = timedelta(days=365)


def check_commitment(data: AccountData, today: date) -> Finding:
    """Information: when each commitment ends and what terminating today would cost."""
    parts = []
    figures: dict[str, Any] = {}
    for c in data.live_contracts():
        cid = str(c.get("id"))
        months = int(c.get("commitment_months") or 0)
        if c.get("kind") != "internet" and not months:
            continue
        end = parse_date(c.get("commitment_end"))
        if end is not None and end >= today:
            head = Text(N_("{contract}: committed until {date}"), contract=cid, date=end)
        elif end is not None:
            head = Text(
                N_("{contract}: no commitment since {date}"),
                contract=cid,
                date=end + timedelta(days=1),
            )
        else:
            head = Text(N_("{contract}: no commitment"), contract=cid)
        quote = data.quotes.get(cid)
        if quote is not None:
            total = quote.get("total_cents")
            cost = Text(N_("terminating today would cost {amount}"), amount=amount(total))
            extras = []
            if quote.get("chatel_fee_cents"):
                extras.append(
                    Text(
                        N_("{amount} for the commitment"),
                        amount=amount(quote.get("chatel_fee_cents")),
                    )
                )
            if quote.get("provider_fee_cents"):
                extras.append(
                    Text(
                        N_("{amount} termination fee"),
                        amount=amount(quote.get("provider_fee_cents")),
                    )
                )
            if extras:
                cost = Text.joined([cost, " (", Text.joined(extras, " + "), ")"], "")
            if quote.get("withdrawal_possible"):
                cost = semicolons(
                    [
                        cost,
                        Text(
                            N_("withdrawal possible until {date}"),
                            date=day(quote.get("withdrawal_deadline")),
                        ),
                    ]
                )
            figures[cid] = {"commitment_end": c.get("commitment_end"), "total_cents": total}
        else:
            # The server's reason for refusing the quote is shown as sent.
            why = data.quote_errors.get(cid) or Text(N_("not asked"))
            cost = Text(N_("no quote ({reason})"), reason=why)
            figures[cid] = {"commitment_end": c.get("commitment_end"), "total_cents": None}
        parts.append(semicolons([head, cost]))
    if not parts:
        return ok("account.commitment", Text(N_("no contract with a commitment")))
    return Finding("account.commitment", "ok", join(parts), refs=tuple(figures), details=figures)


def check_outages(data: AccountData, today: date) -> Finding:
    """Outages of more than 48 consecutive hours open a commercial gesture (seed 002)."""
    since = datetime.combine(today - OUTAGE_LOOKBACK, datetime.min.time(), UTC)
    long_ones, ongoing = [], []
    for c in data.contracts:
        for o in c.get("outages") or []:
            start = parse_stamp(o.get("start"))
            hours = o.get("hours")
            if start is None or not isinstance(hours, int | float):
                continue
            end = parse_stamp(o.get("end"))
            if end is None:
                ongoing.append((c, o, start, float(hours)))
            elif float(hours) > GESTURE_OUTAGE_HOURS and end >= since:
                long_ones.append((c, o, start, float(hours)))
    if not long_ones and not ongoing:
        return ok("account.outages", Text(N_("no outage over 48 hours in the last 12 months")))
    parts: list[Text] = []
    refs: list[str] = []
    for c, _o, start, hours in ongoing:
        parts.append(
            Text(
                N_("{contract}: outage in progress since {start} ({hours} h)"),
                contract=str(c.get("id")),
                start=minute(start),
                hours=round(hours, 1),
            )
        )
        refs.append(str(c.get("id")))
    for c, o, start, hours in long_ones:
        end = parse_stamp(o.get("end"))
        assert end is not None
        text = Text(
            N_("{contract}: outage of {hours} h from {start} to {end}"),
            contract=str(c.get("id")),
            hours=round(hours, 1),
            start=minute(start),
            end=minute(end),
        )
        claims = [
            str(cl.get("id"))
            for cl in data.claims
            if cl.get("contract_id") == c.get("id")
            and (parse_date(cl.get("created_on")) or date.min) >= start.date()
        ]
        if claims:
            text = Text(N_("{outage} (claim {claims})"), outage=text, claims=", ".join(claims))
        parts.append(text)
        refs += [str(c.get("id")), *claims]
    long_ongoing = any(h > GESTURE_OUTAGE_HOURS for *_, h in ongoing)
    first = refs[0]
    return Finding(
        "account.outages",
        "fail" if ongoing else "warn",
        join(parts),
        remedy=(
            Text(
                N_("over 48 hours you can ask for a commercial gesture: {command}"),
                command=Text(
                    CMD_CLAIM_NEW,
                    category="technical",
                    contract=first,
                    subject=Text(N_("Outage over 48 h: commercial gesture")),
                ),
            )
            if long_ones or long_ongoing
            else Text(
                N_("report the outage: {command}"),
                command=Text(
                    CMD_CLAIM_NEW, category="technical", contract=first, subject=Text(N_("Outage"))
                ),
            )
        ),
        refs=unique(refs),
    )


def check_equipment(data: AccountData, today: date) -> Finding:
    """Lent equipment of ended contracts: 30 days to return it, 40 after an exchange."""
    due: dict[tuple[str, str], list[tuple[Mapping[str, Any], date]]] = {}
    for c in data.contracts:
        if c.get("status") not in ("terminated", "withdrawn"):
            continue
        ended = parse_date(c.get("terminated_on"))
        for e in c.get("equipment") or []:
            if e.get("returned_on"):
                continue
            deadline = parse_date(e.get("return_deadline"))
            if deadline is None and ended is not None:
                deadline = equipment_return_deadline(ended, bool(e.get("exchanged")))
            if deadline is None:
                continue
            key = (str(c.get("id")), str(e.get("return_reference") or ""))
            due.setdefault(key, []).append((e, deadline))
    if not due:
        return ok("account.equipment", Text(N_("no equipment to return")))
    parts: list[Text] = []
    refs: list[str] = []
    late = False
    for (cid, reference), items in due.items():
        things = Text.joined(
            (
                Text(
                    N_("{kind} {serial} by {date}"),
                    kind=equipment_label(e.get("kind")),
                    serial=str(e.get("serial")),
                    date=d,
                )
                for e, d in items
            ),
            ", ",
        )
        late = late or any(d < today for _, d in items)
        if reference:
            parts.append(
                Text(
                    N_("{contract}: return {items} with reference {reference}"),
                    contract=cid,
                    items=things,
                    reference=reference,
                )
            )
        else:
            parts.append(Text(N_("{contract}: return {items}"), contract=cid, items=things))
        refs += [cid, reference]
    value = sum(int(e.get("value_cents") or 0) for items in due.values() for e, _ in items)
    return Finding(
        "account.equipment",
        "fail" if late else "warn",
        join(parts),
        remedy=Text(
            N_(
                "send it in a closed parcel marked with the return reference and keep the "
                "proof of deposit; equipment not returned in time is billed (up to {amount})"
            ),
            amount=amount(value),
        ),
        refs=unique(refs),
        details={"value_cents": value},
    )


def check_claims(data: AccountData, today: date) -> Finding:
    """Claims with no answer for 2 months: the mediator may be seized (L612-2)."""
    parts: list[Text] = []
    refs: list[str] = []
    for claim in data.claims:
        if claim.get("status") != "open" or claim.get("last_answer_on"):
            continue
        created = parse_date(claim.get("created_on"))
        if created is None:
            continue
        start = parse_date(claim.get("mediator_from")) or mediator_from(created)
        until = parse_date(claim.get("mediator_until")) or mediator_until(created)
        if today < start:
            continue
        cid = str(claim.get("id"))
        args = {
            "claim": cid,
            "category": category_label(claim.get("category")),
            "created": created,
            # English says "days" even for one (the JSON's sentence is kept as it was).
            "days": ngettext("{n} days", "{n} days", (today - created).days),
        }
        if today < until:
            parts.append(
                Text(
                    N_(
                        "{claim} ({category}, {created}) unanswered for {days}: the mediator "
                        "can be seized until {date}"
                    ),
                    date=until - timedelta(days=1),  # mediator_until is exclusive
                    **args,
                )
            )
        else:
            parts.append(
                Text(
                    N_(
                        "{claim} ({category}, {created}) unanswered for {days}; the one-year "
                        "limit to seize the mediator passed on {date}"
                    ),
                    date=until,
                    **args,
                )
            )
        refs.append(cid)
    if not parts:
        return ok("account.claims", Text(N_("no claim waiting for an answer for over 2 months")))
    return Finding(
        "account.claims",
        "warn",
        join(parts),
        remedy=Text(
            N_("{escalate} (or {letter} for the registered letter to send first)"),
            escalate=CMD_ESCALATE.format(claim=refs[0]),
            letter=CMD_LETTER.format(claim=refs[0]),
        ),
        refs=tuple(refs),
    )


ACCOUNT_EVALUATORS: dict[str, Callable[[AccountData, date], Finding]] = {
    "account.terms": check_terms,
    "account.restrictions": check_restrictions,
    "account.payments": check_payments,
    "account.debits": check_debits,
    "account.partwork_issues": check_partwork_issues,
    "account.options": check_options,
    "account.deliveries": check_deliveries,
    "account.commitment": check_commitment,
    "account.outages": check_outages,
    "account.equipment": check_equipment,
    "account.claims": check_claims,
}
