"""Account checks on what is shipped: partwork issues received vs expected, options added
but not validated, announced delivery delays; each takes the `AccountData` fetched once and
today's date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from domain.diagnose.account import AccountData
from domain.diagnose.findings import (
    CMD_CLAIM_NEW,
    CMD_CONTRACT,
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

# Thresholds. Each is a choice of this project ([ours]) unless it cites a rule.
# A parcel shipped but not received is "in transit" for this long after its expected date
# before it counts as missing: carriers are often a few days late.
TRANSIT_GRACE = timedelta(days=7)


def _issues(first: int, last: int) -> Text:
    if first == last:
        return Text(N_("issue {n}"), n=first)
    return Text(N_("issues {first}-{last}"), first=first, last=last)


def _shipment_for(contract: Mapping[str, Any], issue: int) -> Mapping[str, Any] | None:
    for s in contract.get("shipments") or []:
        if int(s.get("issue_from") or 0) <= issue <= int(s.get("issue_to") or 0):
            return s  # type: ignore[no-any-return]
    return None


def check_partwork_issues(data: AccountData, today: date) -> Finding:
    """Issues expected by today vs received; a missing one past its transit grace fails."""
    partworks = [c for c in data.live_contracts() if isinstance(c.get("partwork"), Mapping)]
    if not partworks:
        return ok("account.partwork_issues", Text(N_("no partwork collection on this account")))
    fail: list[Text] = []
    warn: list[Text] = []
    fine: list[Text] = []
    refs: list[str] = []
    first_missing: dict[str, int] = {}
    for c in partworks:
        pw = c["partwork"]
        cid = str(c.get("id"))
        expected, received = pw.get("issues_expected_by_today"), pw.get("issues_received")
        head = Text(
            N_("{contract}: {received} of {expected} issues expected by today received"),
            contract=cid,
            received=str(received),
            expected=str(expected),
        )
        late: list[Text] = []
        transit: list[Text] = []
        for n in pw.get("missing") or []:
            s = _shipment_for(c, int(n))
            exp = parse_date(s.get("expected_on")) if s else None
            delayed = parse_date(s.get("delayed_until")) if s else None
            if delayed is not None and delayed >= today:
                transit.append(Text(N_("issue {n} delayed until {date}"), n=str(n), date=delayed))
            elif exp is not None and exp + TRANSIT_GRACE >= today:
                transit.append(
                    Text(N_("issue {n} in transit (expected {date})"), n=str(n), date=exp)
                )
            elif s is None:
                late.append(Text(N_("issue {n} not shipped"), n=str(n)))
                first_missing.setdefault(cid, int(n))
            else:
                first_missing.setdefault(cid, int(n))
                shipped = s.get("shipped_on")
                expected_on = day(s.get("expected_on"))
                if shipped:
                    late.append(
                        Text(
                            N_("issue {n} missing (expected {expected}, shipped {shipped})"),
                            n=str(n),
                            expected=expected_on,
                            shipped=day(shipped),
                        )
                    )
                else:
                    late.append(
                        Text(
                            N_("issue {n} missing (expected {expected}, never shipped)"),
                            n=str(n),
                            expected=expected_on,
                        )
                    )
        if late:
            fail.append(semicolons([head, Text.joined(late + transit, ", ")]))
            refs.append(cid)
        elif transit:
            warn.append(semicolons([head, Text.joined(transit, ", ")]))
            refs.append(cid)
        else:
            fine.append(head)
    if fail:
        return Finding(
            "account.partwork_issues",
            "fail",
            join(fail + warn),
            remedy=Text(
                N_("report the missing issue: {command}"),
                command=Text(
                    CMD_CLAIM_NEW,
                    category="delivery",
                    contract=next(iter(first_missing)),
                    # The suggested subject is the user's own text: in their language.
                    subject=Text(
                        N_("Issue {n} not received"), n=next(iter(first_missing.values()))
                    ),
                ),
            ),
            refs=unique(refs),
        )
    if warn:
        return Finding(
            "account.partwork_issues",
            "warn",
            join(warn),
            remedy=Text(
                N_("wait for the parcel; report it if it has not arrived a week after the date")
            ),
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
        return ok("account.options", Text(N_("no option waiting for validation")))
    parts = []
    for c, o in pending:
        added = parse_date(o.get("added_on"))
        args = {
            "contract": str(c.get("id")),
            "option": str(o.get("name")),  # the offer's name: shown as sent
            "price": amount(o.get("price_cents")),
            "added": day(o.get("added_on")),
        }
        if added:
            # English says "days" even for one (the JSON's sentence is kept as it was).
            ago = ngettext("{n} days ago", "{n} days ago", (today - added).days)
            parts.append(
                Text(
                    N_(
                        "{contract}: option \u00ab {option} \u00bb ({price}) added on {added}, "
                        "{ago}, not validated"
                    ),
                    ago=ago,
                    **args,
                )
            )
        else:
            parts.append(
                Text(
                    N_(
                        "{contract}: option \u00ab {option} \u00bb ({price}) added on {added}, "
                        "not validated"
                    ),
                    **args,
                )
            )
    return Finding(
        "account.options",
        "warn",
        join(parts),
        remedy=Text(
            N_(
                "validate the option from your online account, or ask support why it is "
                "pending (an option not validated can disable account features)"
            )
        ),
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
        return ok("account.deliveries", Text(N_("no delivery delay announced")))
    parts = [
        Text(
            N_("{contract}: {issues} delayed until {date} (was expected {expected})"),
            contract=str(c.get("id")),
            issues=_issues(int(s.get("issue_from") or 0), int(s.get("issue_to") or 0)),
            date=until,
            expected=day(s.get("expected_on")),
        )
        for c, s, until in delayed
    ]
    first = str(delayed[0][0].get("id"))
    return Finding(
        "account.deliveries",
        "warn",
        join(parts),
        remedy=Text(
            N_("nothing to do before the new date; {command} shows every shipment"),
            command=CMD_CONTRACT.format(contract=first),
        ),
        refs=unique(str(c.get("id")) for c, _, _ in delayed),
    )
