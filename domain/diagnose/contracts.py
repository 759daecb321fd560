"""Account checks on contracts and claims, and `ACCOUNT_EVALUATORS`, every account check.

Partwork issues, options, deliveries, commitment, outages, equipment to return, and claims
waiting for an answer; each takes the `AccountData` fetched once and today's date.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.claims import GESTURE_OUTAGE_HOURS, mediator_from, mediator_until
from domain.commitment import equipment_return_deadline
from domain.diagnose.account import (
    AccountData,
    check_debits,
    check_payments,
    check_restrictions,
    check_terms,
)
from domain.diagnose.findings import (
    CMD_CLAIM_NEW,
    CMD_CONTRACT,
    CMD_ESCALATE,
    CMD_LETTER,
    Finding,
    join,
    minute,
    money,
    ok,
    parse_date,
    parse_stamp,
    unique,
)

# Thresholds. Each is a choice of this project ([ours]) unless it cites a rule.
# A parcel shipped but not received is "in transit" for this long after its expected date
# before it counts as missing: carriers are often a few days late.
TRANSIT_GRACE = timedelta(days=7)
# Outages older than this are history: the gesture would have been asked for long ago,
# and the check would otherwise stay non-ok for the life of the contract.
OUTAGE_LOOKBACK = timedelta(days=365)


def _issues(first: int, last: int) -> str:
    return f"issue {first}" if first == last else f"issues {first}-{last}"


def _shipment_for(contract: Mapping[str, Any], issue: int) -> Mapping[str, Any] | None:
    for s in contract.get("shipments") or []:
        if int(s.get("issue_from") or 0) <= issue <= int(s.get("issue_to") or 0):
            return s  # type: ignore[no-any-return]
    return None


def check_partwork_issues(data: AccountData, today: date) -> Finding:
    """Issues expected by today vs received; a missing one past its transit grace fails."""
    partworks = [c for c in data.live_contracts() if isinstance(c.get("partwork"), Mapping)]
    if not partworks:
        return ok("account.partwork_issues", "no partwork collection on this account")
    fail, warn, fine = [], [], []
    refs: list[str] = []
    first_missing: dict[str, int] = {}
    for c in partworks:
        pw = c["partwork"]
        cid = str(c.get("id"))
        expected, received = pw.get("issues_expected_by_today"), pw.get("issues_received")
        head = f"{cid}: {received} of {expected} issues expected by today received"
        late, transit = [], []
        for n in pw.get("missing") or []:
            s = _shipment_for(c, int(n))
            exp = parse_date(s.get("expected_on")) if s else None
            delayed = parse_date(s.get("delayed_until")) if s else None
            if delayed is not None and delayed >= today:
                transit.append(f"issue {n} delayed until {delayed.isoformat()}")
            elif exp is not None and exp + TRANSIT_GRACE >= today:
                transit.append(f"issue {n} in transit (expected {exp.isoformat()})")
            elif s is None:
                late.append(f"issue {n} not shipped")
                first_missing.setdefault(cid, int(n))
            else:
                first_missing.setdefault(cid, int(n))
                shipped = s.get("shipped_on")
                late.append(
                    f"issue {n} missing (expected {s.get('expected_on')}"
                    + (f", shipped {shipped})" if shipped else ", never shipped)")
                )
        if late:
            fail.append(f"{head}; " + ", ".join(late + transit))
            refs.append(cid)
        elif transit:
            warn.append(f"{head}; " + ", ".join(transit))
            refs.append(cid)
        else:
            fine.append(head)
    if fail:
        return Finding(
            "account.partwork_issues",
            "fail",
            join(fail + warn),
            remedy="report the missing issue: "
            + CMD_CLAIM_NEW.format(
                category="delivery",
                contract=next(iter(first_missing)),
                subject=f"Issue {next(iter(first_missing.values()))} not received",
            ),
            refs=unique(refs),
        )
    if warn:
        return Finding(
            "account.partwork_issues",
            "warn",
            join(warn),
            remedy="wait for the parcel; report it if it has not arrived a week after the date",
            refs=unique(refs),
        )
    return ok("account.partwork_issues", join(fine))


def check_options(data: AccountData, today: date) -> Finding:
    pending = [
        (c, o)
        for c in data.live_contracts()
        for o in c.get("options") or []
        if not o.get("validated")
    ]
    if not pending:
        return ok("account.options", "no option waiting for validation")
    parts = []
    for c, o in pending:
        added = parse_date(o.get("added_on"))
        age = f", {(today - added).days} days ago" if added else ""
        parts.append(
            f"{c.get('id')}: option \u00ab {o.get('name')} \u00bb ({money(o.get('price_cents'))}) "
            f"added on {o.get('added_on')}{age}, not validated"
        )
    return Finding(
        "account.options",
        "warn",
        join(parts),
        remedy="validate the option from your online account, or ask support why it is "
        "pending (an option not validated can disable account features)",
        refs=unique(str(c.get("id")) for c, _ in pending),
    )


def check_deliveries(data: AccountData, today: date) -> Finding:
    """Announced delays on parcels not yet received (a change of delivery terms)."""
    delayed = []
    for c in data.live_contracts():
        for s in c.get("shipments") or []:
            until = parse_date(s.get("delayed_until"))
            if until is not None and not s.get("received_on"):
                delayed.append((c, s, until))
    if not delayed:
        return ok("account.deliveries", "no delivery delay announced")
    parts = [
        f"{c.get('id')}: {_issues(int(s.get('issue_from') or 0), int(s.get('issue_to') or 0))} "
        f"delayed until {until.isoformat()} (was expected {s.get('expected_on')})"
        for c, s, until in delayed
    ]
    first = str(delayed[0][0].get("id"))
    return Finding(
        "account.deliveries",
        "warn",
        join(parts),
        remedy=f"nothing to do before the new date; {CMD_CONTRACT.format(contract=first)} "
        "shows every shipment",
        refs=unique(str(c.get("id")) for c, _, _ in delayed),
    )


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
            head = f"{cid}: committed until {end.isoformat()}"
        elif end is not None:
            head = f"{cid}: no commitment since {(end + timedelta(days=1)).isoformat()}"
        else:
            head = f"{cid}: no commitment"
        quote = data.quotes.get(cid)
        if quote is not None:
            total = quote.get("total_cents")
            cost = f"terminating today would cost {money(total)}"
            extras = []
            if quote.get("chatel_fee_cents"):
                extras.append(f"{money(quote.get('chatel_fee_cents'))} for the commitment")
            if quote.get("provider_fee_cents"):
                extras.append(f"{money(quote.get('provider_fee_cents'))} termination fee")
            if extras:
                cost += f" ({' + '.join(extras)})"
            if quote.get("withdrawal_possible"):
                cost += f"; withdrawal possible until {quote.get('withdrawal_deadline')}"
            figures[cid] = {"commitment_end": c.get("commitment_end"), "total_cents": total}
        else:
            why = data.quote_errors.get(cid, "not asked")
            cost = f"no quote ({why})"
            figures[cid] = {"commitment_end": c.get("commitment_end"), "total_cents": None}
        parts.append(f"{head}; {cost}")
    if not parts:
        return ok("account.commitment", "no contract with a commitment")
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
        return ok("account.outages", "no outage over 48 hours in the last 12 months")
    parts, refs = [], []
    for c, _o, start, hours in ongoing:
        parts.append(f"{c.get('id')}: outage in progress since {minute(start)} ({hours:.1f} h)")
        refs.append(str(c.get("id")))
    for c, o, start, hours in long_ones:
        end = parse_stamp(o.get("end"))
        assert end is not None
        text = f"{c.get('id')}: outage of {hours:.1f} h from {minute(start)} to {minute(end)}"
        claims = [
            str(cl.get("id"))
            for cl in data.claims
            if cl.get("contract_id") == c.get("id")
            and (parse_date(cl.get("created_on")) or date.min) >= start.date()
        ]
        if claims:
            text += f" (claim {', '.join(claims)})"
        parts.append(text)
        refs += [str(c.get("id")), *claims]
    long_ongoing = any(h > GESTURE_OUTAGE_HOURS for *_, h in ongoing)
    first = refs[0]
    return Finding(
        "account.outages",
        "fail" if ongoing else "warn",
        join(parts),
        remedy=(
            "over 48 hours you can ask for a commercial gesture: "
            + CMD_CLAIM_NEW.format(
                category="technical", contract=first, subject="Outage over 48 h: commercial gesture"
            )
            if long_ones or long_ongoing
            else "report the outage: "
            + CMD_CLAIM_NEW.format(category="technical", contract=first, subject="Outage")
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
        return ok("account.equipment", "no equipment to return")
    parts, refs = [], []
    late = False
    for (cid, reference), items in due.items():
        things = ", ".join(
            f"{e.get('kind')} {e.get('serial')} by {d.isoformat()}" for e, d in items
        )
        late = late or any(d < today for _, d in items)
        label = f" with reference {reference}" if reference else ""
        parts.append(f"{cid}: return {things}{label}")
        refs += [cid, reference]
    value = sum(int(e.get("value_cents") or 0) for items in due.values() for e, _ in items)
    return Finding(
        "account.equipment",
        "fail" if late else "warn",
        join(parts),
        remedy="send it in a closed parcel marked with the return reference and keep the proof "
        f"of deposit; equipment not returned in time is billed (up to {money(value)})",
        refs=unique(refs),
        details={"value_cents": value},
    )


def check_claims(data: AccountData, today: date) -> Finding:
    """Claims with no answer for 2 months: the mediator may be seized (L612-2)."""
    parts, refs = [], []
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
        age = (today - created).days
        if today < until:
            last_day = until - timedelta(days=1)  # mediator_until is exclusive
            parts.append(
                f"{cid} ({claim.get('category')}, {created.isoformat()}) unanswered for {age} "
                f"days: the mediator can be seized until {last_day.isoformat()}"
            )
        else:
            parts.append(
                f"{cid} ({claim.get('category')}, {created.isoformat()}) unanswered for {age} "
                f"days; the one-year limit to seize the mediator passed on {until.isoformat()}"
            )
        refs.append(cid)
    if not parts:
        return ok("account.claims", "no claim waiting for an answer for over 2 months")
    return Finding(
        "account.claims",
        "warn",
        join(parts),
        remedy=f"{CMD_ESCALATE.format(claim=refs[0])} (or {CMD_LETTER.format(claim=refs[0])} "
        "for the registered letter to send first)",
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
