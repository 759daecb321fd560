"""`diagnose`: the checks support asks for before you call, and how data becomes findings.

Everything here is pure: the command fetches (or probes) once, and these functions turn
plain dicts, numbers and a date into `Finding`s. That keeps every rule testable on crafted
data without a server, and lets the command evaluate all account checks on one fetch.

Statuses: `ok` (checked, nothing to do), `warn` (worth knowing or acting on, nothing is
broken yet), `fail` (something is broken, blocked or costs money), `skip` (not checked, with
the reason). A check that does not apply to the account (no partwork collection) is `ok`
with a finding that says so: it was checked, and there is nothing to do.

Findings are one English line each; ids, statuses and `refs` are the stable,
machine-readable part (`-o json`), the sentences may improve.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from statistics import median
from typing import Any, Literal

from domain.claims import GESTURE_OUTAGE_HOURS, mediator_from, mediator_until
from domain.commitment import equipment_return_deadline
from domain.money import format_money

__all__ = [
    "ACCOUNT_EVALUATORS",
    "CHECKS",
    "CHECK_IDS",
    "EXIT_CHECKS_FAILED",
    "AccountData",
    "CheckSpec",
    "Finding",
    "Status",
    "build_report",
    "counts",
    "evaluate_cache",
    "evaluate_clock",
    "evaluate_latency",
    "evaluate_maintenance",
    "evaluate_tls",
    "exit_code",
    "references",
    "report_markdown",
    "summary_line",
]

Status = Literal["ok", "warn", "fail", "skip"]
Needs = Literal["local", "network", "account"]
STATUSES: tuple[Status, ...] = ("ok", "warn", "fail", "skip")

EXIT_CHECKS_FAILED = 8
"""Exit code when a check reaches the `--fail-on` level (see `exit_code`)."""

# Thresholds. Each is a choice of this project ([ours]) unless it cites a rule.
CLOCK_WARN_S = 60.0
CLOCK_FAIL_S = 300.0
LATENCY_WARN_MS = 1000.0
LATENCY_FAIL_MS = 3000.0
LATENCY_SPREAD_MIN_MS = 250.0  # below this, jitter is noise whatever the median
TLS_WARN_DAYS = 14
CACHE_WARN_BYTES = 100 * 1024 * 1024
MAINTENANCE_SOON = timedelta(days=7)
# A parcel shipped but not received is "in transit" for this long after its expected date
# before it counts as missing: carriers are often a few days late.
TRANSIT_GRACE = timedelta(days=7)
# Outages older than this are history: the gesture would have been asked for long ago,
# and the check would otherwise stay non-ok for the life of the contract.
OUTAGE_LOOKBACK = timedelta(days=365)

# Remedies name commands; kept together so they follow the CLI if a command changes.
CMD_LOGIN = "moncompte login"
CMD_CLEAR_CACHE = "moncompte diagnose --clear-cache"
CMD_UNPAID = "moncompte invoices list --status unpaid"
CMD_EXPLAIN = "moncompte invoices show {invoice} --explain"
CMD_SCHEDULE = "moncompte schedule {contract}"
CMD_CONTRACT = "moncompte contracts show {contract}"
CMD_CLAIM_NEW = (
    'moncompte claim new --category {category} --contract {contract} --subject "{subject}"'
)
CMD_CLAIM_SHOW = "moncompte claim show {claim}"
CMD_ESCALATE = "moncompte claim escalate {claim}"
CMD_LETTER = "moncompte claim letter {claim}"


# --- the checks ------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckSpec:
    """A check: its stable id, what it needs to run, and a short title."""

    id: str
    needs: Needs
    title: str

    @property
    def group(self) -> str:
        return self.id.split(".", 1)[0]


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("local.config", "local", "config file readable and valid"),
    CheckSpec("local.credentials", "local", "credentials present, where, not expired"),
    CheckSpec("local.proxy", "local", "proxy settings in effect for the API"),
    CheckSpec("local.cache", "local", "local cache size"),
    CheckSpec("net.dns", "network", "DNS resolution of the API host"),
    CheckSpec("net.tcp", "network", "TCP connection to the API"),
    CheckSpec("net.tls", "network", "TLS handshake and certificate validity"),
    CheckSpec("net.latency", "network", "latency and stability of the API"),
    CheckSpec("net.clock", "network", "clock skew against the server"),
    CheckSpec("service.maintenance", "network", "announced maintenance"),
    CheckSpec("account.terms", "account", "terms of sale (CGV) accepted vs current"),
    CheckSpec("account.restrictions", "account", "account features disabled"),
    CheckSpec("account.payments", "account", "overdue or failed payments"),
    CheckSpec("account.debits", "account", "amount debited vs invoice total"),
    CheckSpec("account.partwork_issues", "account", "partwork issues received vs expected"),
    CheckSpec("account.options", "account", "options added but not validated"),
    CheckSpec("account.deliveries", "account", "delivery changes and delays"),
    CheckSpec("account.commitment", "account", "commitment end and termination cost today"),
    CheckSpec("account.outages", "account", "outages over 48 hours (commercial gesture)"),
    CheckSpec("account.equipment", "account", "equipment to return and its deadline"),
    CheckSpec("account.claims", "account", "claims unanswered for over 2 months (mediator)"),
)
CHECK_IDS: tuple[str, ...] = tuple(c.id for c in CHECKS)
BY_ID: dict[str, CheckSpec] = {c.id: c for c in CHECKS}


@dataclass(frozen=True)
class Finding:
    """The result of one check. `refs` are the IDs concerned (contracts, invoices, claims,
    return references); `details` holds machine-readable figures (ms, days, cents)."""

    id: str
    status: Status
    finding: str
    remedy: str | None = None
    refs: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    checked_at: str | None = None  # ISO 8601 UTC, set by the runner
    duration_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["refs"] = list(self.refs)
        spec = BY_ID.get(self.id)
        data["title"] = spec.title if spec else None
        return data


def ok(check: str, finding: str, **details: Any) -> Finding:
    return Finding(check, "ok", finding, details=details)


# --- summary and exit code ------------------------------------------------------------------


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    tally: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for f in findings:
        tally[f.status] += 1
    return tally


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def summary_line(findings: Iterable[Finding]) -> str:
    """`12 ok, 2 warnings, 1 failure` (+ `, 3 skipped` when some were)."""
    c = counts(findings)
    parts = [
        f"{c['ok']} ok",
        _plural(c["warn"], "warning", "warnings"),
        _plural(c["fail"], "failure", "failures"),
    ]
    if c["skip"]:
        parts.append(f"{c['skip']} skipped")
    return ", ".join(parts)


def exit_code(findings: Iterable[Finding], fail_on: Literal["warn", "fail"] = "fail") -> int:
    """0 unless a finding reaches `fail_on`; then `EXIT_CHECKS_FAILED` (8).

    A code of its own, not 1: 1 means the tool itself failed unexpectedly, and a CI job
    must tell "the account or the service has a problem" from "the check did not run".
    """
    levels: set[str] = {"fail"} if fail_on == "fail" else {"warn", "fail"}
    return EXIT_CHECKS_FAILED if any(f.status in levels for f in findings) else 0


# --- small parsing helpers (the API's JSON) ----------------------------------------------------


def _date(value: Any) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _stamp(value: Any) -> datetime | None:
    """An ISO timestamp as aware UTC (naive ones are UTC: the API's convention)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _money(cents: Any) -> str:
    return format_money(int(cents)) if isinstance(cents, int) else "?"


def _minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _issues(first: int, last: int) -> str:
    return f"issue {first}" if first == last else f"issues {first}-{last}"


def _join(parts: Sequence[str], limit: int = 4) -> str:
    """At most `limit` items in a one-line finding; the rest are counted, all are in refs."""
    if len(parts) <= limit:
        return "; ".join(parts)
    return "; ".join(parts[:limit]) + f"; and {len(parts) - limit} more"


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


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
            "account.terms", "skip", "the current terms version is unknown (no service status)"
        )
    if accepted == current:
        return ok("account.terms", f"you accepted the current terms (version {current})")
    return Finding(
        "account.terms",
        "warn",
        f"the terms of sale (CGV) changed since you accepted them: accepted {accepted or 'none'}, "
        f"current {current}",
        remedy="read the new terms and accept them from your online account; until then some "
        "features may stay disabled",
        details={"accepted": accepted, "current": current},
    )


def check_restrictions(data: AccountData, today: date) -> Finding:
    restrictions = [r for r in data.customer.get("restrictions") or [] if isinstance(r, Mapping)]
    if not restrictions:
        return ok("account.restrictions", "no account feature is disabled")
    parts = [
        f"{r.get('feature')} disabled since {r.get('since')}: {r.get('reason')}"
        for r in restrictions
    ]
    refs = _unique(ref for r in restrictions for ref in _ID_IN_TEXT.findall(str(r.get("reason"))))
    return Finding(
        "account.restrictions",
        "fail",
        _join(parts),
        remedy="settle what the reason names (see account.terms and account.payments); the "
        "feature comes back once it is settled",
        refs=refs,
        details={"restrictions": [dict(r) for r in restrictions]},
    )


def check_payments(data: AccountData, today: date) -> Finding:
    """Invoices unpaid after their debit date, and instalments failed or overdue."""
    invoices = []
    for inv in data.invoices:
        debit = _date(inv.get("debit_date"))
        if inv.get("status") in ("unpaid", "failed") and debit is not None and debit < today:
            invoices.append((inv, debit))
    instalments = []
    for contract_id, schedule in data.schedules.items():
        for inst in schedule.get("instalments") or []:
            debit = _date(inst.get("debit_date")) or _date(inst.get("due_date"))
            failed = inst.get("status") == "failed"
            overdue = (
                inst.get("status") in ("due", "rescheduled") and debit is not None and debit < today
            )
            if failed or overdue:
                instalments.append((contract_id, inst, "failed" if failed else "overdue"))
    if not invoices and not instalments:
        return ok("account.payments", "no unpaid invoice and no failed instalment")
    parts = [
        f"invoice {inv.get('id')} {inv.get('status')} since {debit.isoformat()} "
        f"({_money(inv.get('total_cents'))}, {(today - debit).days} days)"
        for inv, debit in invoices
    ]
    parts += [
        f"instalment {inst.get('number')} of {cid} {why} on {inst.get('due_date')} "
        f"({_money(inst.get('amount_cents'))})"
        for cid, inst, why in instalments
    ]
    remedies = []
    if invoices:
        remedies.append(CMD_UNPAID)
    for cid in _unique(cid for cid, _, _ in instalments):
        remedies.append(CMD_SCHEDULE.format(contract=cid))
    refs = _unique(
        [str(inv.get("id")) for inv, _ in invoices]
        + [f"{cid}#{inst.get('number')}" for cid, inst, _ in instalments]
    )
    return Finding(
        "account.payments",
        "fail",
        _join(parts),
        remedy="; ".join(remedies) + " (pay what is due, or ask to reschedule an instalment)",
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
            f"all {len(debited)} debited invoices match their total"
            if debited
            else "no invoice debited yet",
        )
    parts, refs = [], []
    for inv, diff in [*over, *under]:
        claims = _claims_mentioning(data, str(inv.get("id")))
        text = (
            f"{inv.get('id')} debited {_money(inv.get('debited_cents'))} for a total of "
            f"{_money(inv.get('total_cents'))} ({'+' if diff > 0 else '-'}{_money(abs(diff))})"
        )
        if claims:
            text += f", already raised in claim {', '.join(claims)}"
        parts.append(text)
        refs += [str(inv.get("id")), *claims]
    first = str((over or under)[0][0].get("id"))
    return Finding(
        "account.debits",
        "fail" if over else "warn",
        _join(parts),
        remedy=f"{CMD_EXPLAIN.format(invoice=first)}; if the difference is not explained: "
        + CMD_CLAIM_NEW.format(
            category="billing",
            contract=(over or under)[0][0].get("contract_id"),
            subject=f"Amount debited for {first}",
        ),
        refs=_unique(refs),
        details={
            "overcharged_cents": sum(d for _, d in over),
            "undercharged_cents": -sum(d for _, d in under),
        },
    )


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
            exp = _date(s.get("expected_on")) if s else None
            delayed = _date(s.get("delayed_until")) if s else None
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
            _join(fail + warn),
            remedy="report the missing issue: "
            + CMD_CLAIM_NEW.format(
                category="delivery",
                contract=next(iter(first_missing)),
                subject=f"Issue {next(iter(first_missing.values()))} not received",
            ),
            refs=_unique(refs),
        )
    if warn:
        return Finding(
            "account.partwork_issues",
            "warn",
            _join(warn),
            remedy="wait for the parcel; report it if it has not arrived a week after the date",
            refs=_unique(refs),
        )
    return ok("account.partwork_issues", _join(fine))


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
        added = _date(o.get("added_on"))
        age = f", {(today - added).days} days ago" if added else ""
        parts.append(
            f"{c.get('id')}: option \u00ab {o.get('name')} \u00bb ({_money(o.get('price_cents'))}) "
            f"added on {o.get('added_on')}{age}, not validated"
        )
    return Finding(
        "account.options",
        "warn",
        _join(parts),
        remedy="validate the option from your online account, or ask support why it is "
        "pending (an option not validated can disable account features)",
        refs=_unique(str(c.get("id")) for c, _ in pending),
    )


def check_deliveries(data: AccountData, today: date) -> Finding:
    """Announced delays on parcels not yet received (a change of delivery terms)."""
    delayed = []
    for c in data.live_contracts():
        for s in c.get("shipments") or []:
            until = _date(s.get("delayed_until"))
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
        _join(parts),
        remedy=f"nothing to do before the new date; {CMD_CONTRACT.format(contract=first)} "
        "shows every shipment",
        refs=_unique(str(c.get("id")) for c, _, _ in delayed),
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
        end = _date(c.get("commitment_end"))
        if end is not None and end >= today:
            head = f"{cid}: committed until {end.isoformat()}"
        elif end is not None:
            head = f"{cid}: no commitment since {(end + timedelta(days=1)).isoformat()}"
        else:
            head = f"{cid}: no commitment"
        quote = data.quotes.get(cid)
        if quote is not None:
            total = quote.get("total_cents")
            cost = f"terminating today would cost {_money(total)}"
            extras = []
            if quote.get("chatel_fee_cents"):
                extras.append(f"{_money(quote.get('chatel_fee_cents'))} for the commitment")
            if quote.get("provider_fee_cents"):
                extras.append(f"{_money(quote.get('provider_fee_cents'))} termination fee")
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
    return Finding("account.commitment", "ok", _join(parts), refs=tuple(figures), details=figures)


def check_outages(data: AccountData, today: date) -> Finding:
    """Outages of more than 48 consecutive hours open a commercial gesture (seed 002)."""
    since = datetime.combine(today - OUTAGE_LOOKBACK, datetime.min.time(), UTC)
    long_ones, ongoing = [], []
    for c in data.contracts:
        for o in c.get("outages") or []:
            start = _stamp(o.get("start"))
            hours = o.get("hours")
            if start is None or not isinstance(hours, int | float):
                continue
            end = _stamp(o.get("end"))
            if end is None:
                ongoing.append((c, o, start, float(hours)))
            elif float(hours) > GESTURE_OUTAGE_HOURS and end >= since:
                long_ones.append((c, o, start, float(hours)))
    if not long_ones and not ongoing:
        return ok("account.outages", "no outage over 48 hours in the last 12 months")
    parts, refs = [], []
    for c, _o, start, hours in ongoing:
        parts.append(f"{c.get('id')}: outage in progress since {_minute(start)} ({hours:.1f} h)")
        refs.append(str(c.get("id")))
    for c, o, start, hours in long_ones:
        end = _stamp(o.get("end"))
        assert end is not None
        text = f"{c.get('id')}: outage of {hours:.1f} h from {_minute(start)} to {_minute(end)}"
        claims = [
            str(cl.get("id"))
            for cl in data.claims
            if cl.get("contract_id") == c.get("id")
            and (_date(cl.get("created_on")) or date.min) >= start.date()
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
        _join(parts),
        remedy=(
            "over 48 hours you can ask for a commercial gesture: "
            + CMD_CLAIM_NEW.format(
                category="technical", contract=first, subject="Outage over 48 h: commercial gesture"
            )
            if long_ones or long_ongoing
            else "report the outage: "
            + CMD_CLAIM_NEW.format(category="technical", contract=first, subject="Outage")
        ),
        refs=_unique(refs),
    )


def check_equipment(data: AccountData, today: date) -> Finding:
    """Lent equipment of ended contracts: 30 days to return it, 40 after an exchange."""
    due: dict[tuple[str, str], list[tuple[Mapping[str, Any], date]]] = {}
    for c in data.contracts:
        if c.get("status") not in ("terminated", "withdrawn"):
            continue
        ended = _date(c.get("terminated_on"))
        for e in c.get("equipment") or []:
            if e.get("returned_on"):
                continue
            deadline = _date(e.get("return_deadline"))
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
        _join(parts),
        remedy="send it in a closed parcel marked with the return reference and keep the proof "
        f"of deposit; equipment not returned in time is billed (up to {_money(value)})",
        refs=_unique(refs),
        details={"value_cents": value},
    )


def check_claims(data: AccountData, today: date) -> Finding:
    """Claims with no answer for 2 months: the mediator may be seized (L612-2)."""
    parts, refs = [], []
    for claim in data.claims:
        if claim.get("status") != "open" or claim.get("last_answer_on"):
            continue
        created = _date(claim.get("created_on"))
        if created is None:
            continue
        start = _date(claim.get("mediator_from")) or mediator_from(created)
        until = _date(claim.get("mediator_until")) or mediator_until(created)
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
        _join(parts),
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


# --- evaluation of probe measurements -----------------------------------------------------------


def evaluate_latency(
    samples_ms: Sequence[float | None], errors: Sequence[str] = (), planned: int | None = None
) -> Finding:
    """`samples_ms`: one entry per request sent, None when it got no answer; `planned`
    requests were meant to be sent (fewer when time ran out: the API is slow)."""
    answered = sorted(s for s in samples_ms if s is not None)
    sent = len(samples_ms)
    lost = sent - len(answered)
    unsent = max((planned or sent) - sent, 0)
    details: dict[str, Any] = {"requests": sent, "lost": lost, "not_sent": unsent}
    if not answered:
        why = f": {errors[-1]}" if errors else ""
        return Finding(
            "net.latency",
            "fail",
            f"no answer to {_plural(sent, 'request', 'requests')}{why}",
            remedy="check the network connection and the API URL (see net.tcp)",
            details=details,
        )
    mid = median(answered)
    spread = answered[-1] - answered[0]
    details.update(
        median_ms=round(mid, 1),
        min_ms=round(answered[0], 1),
        max_ms=round(answered[-1], 1),
        spread_ms=round(spread, 1),
    )
    text = (
        f"median {mid:.0f} ms over {_plural(sent, 'request', 'requests')} (min "
        f"{answered[0]:.0f}, max {answered[-1]:.0f} ms), {f'{lost} lost' if lost else 'none lost'}"
    )
    if unsent:
        text += f", {unsent} not sent for lack of time"
    problems = []
    if mid > LATENCY_FAIL_MS:
        problems.append("fail")
    elif mid > LATENCY_WARN_MS:
        problems.append("slow")
    if unsent and not problems:
        problems.append("slow")
    if lost:
        problems.append("loss")
    # Jitter without the extremes: one slow request (the first one opens the connection) is
    # not instability; several are.
    jitter = answered[-2] - answered[1] if len(answered) >= 4 else spread
    if jitter > max(LATENCY_SPREAD_MIN_MS, 2 * mid):
        problems.append("unstable")
    if not problems:
        return Finding("net.latency", "ok", text, details=details)
    return Finding(
        "net.latency",
        "fail" if "fail" in problems else "warn",
        text + f" ({', '.join(p for p in problems if p != 'fail') or 'too slow'})",
        remedy="the connection is slow or unstable: try a wired connection or another "
        "network, and retry later",
        details=details,
    )


def evaluate_clock(skew_s: float, uncertainty_s: float = 1.0) -> Finding:
    """`skew_s` > 0: the local clock is behind the server. Within the uncertainty (the
    Date header's 1-second resolution plus half the round trip) it is not a skew."""
    size = abs(skew_s)
    way = "behind" if skew_s > 0 else "ahead of"
    details = {"skew_s": round(skew_s, 1), "uncertainty_s": round(uncertainty_s, 1)}
    if size <= CLOCK_WARN_S:
        return Finding(
            "net.clock",
            "ok",
            f"local clock within {max(size, uncertainty_s):.0f} s of the server",
            details=details,
        )
    text = f"local clock {_duration(size)} {way} the server"
    return Finding(
        "net.clock",
        "fail" if size > CLOCK_FAIL_S else "warn",
        text + (" (tokens and one-time codes may be refused)" if size > CLOCK_FAIL_S else ""),
        remedy="synchronise the system clock (turn on automatic time / NTP)",
        details=details,
    )


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 120:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 120:
        return f"{minutes} min {sec} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def evaluate_tls(
    protocol: str | None, not_after: datetime, now: datetime, issuer: str | None = None
) -> Finding:
    """A verified handshake; how long the certificate still has to live."""
    days = (not_after - now).total_seconds() / 86400
    details = {"protocol": protocol, "not_after": not_after.isoformat(), "days_left": int(days)}
    who = f", issued by {issuer}" if issuer else ""
    if days < 0:
        return Finding(
            "net.tls",
            "fail",
            f"certificate expired on {not_after.date().isoformat()}",
            remedy="do not continue; tell support the certificate has expired",
            details=details,
        )
    until = not_after.date().isoformat()
    text = f"{protocol or 'TLS'}, certificate valid until {until} ({int(days)} days{who})"
    if days < TLS_WARN_DAYS:
        return Finding(
            "net.tls",
            "warn",
            text,
            remedy="nothing to do on your side; mention it to support if it expires",
            details=details,
        )
    return Finding("net.tls", "ok", text, details=details)


def evaluate_maintenance(status: Mapping[str, Any], now: datetime) -> Finding:
    """Maintenance in progress fails; one starting within 7 days warns."""
    windows = []
    for w in status.get("maintenance") or []:
        start, end = _stamp(w.get("start")), _stamp(w.get("end"))
        if start is not None and end is not None:
            windows.append((start, end, str(w.get("description") or "").strip()))
    windows.sort(key=lambda w: w[0])
    for start, end, what in windows:
        if start <= now < end:
            return Finding(
                "service.maintenance",
                "fail",
                f"maintenance in progress until {_minute(end)}" + (f": {what}" if what else ""),
                remedy=f"wait until {_minute(end)}, then try again",
                details={"start": start.isoformat(), "end": end.isoformat()},
            )
    if status.get("status") == "maintenance":
        return Finding(
            "service.maintenance",
            "fail",
            "the service reports a maintenance in progress",
            remedy="try again later",
        )
    upcoming = [w for w in windows if w[0] > now]
    if upcoming and upcoming[0][0] - now <= MAINTENANCE_SOON:
        start, end, what = upcoming[0]
        days = (start - now).total_seconds() / 86400
        when = "in less than a day" if days < 1 else f"in {int(days)} days"
        return Finding(
            "service.maintenance",
            "warn",
            f"maintenance announced from {_minute(start)} to {_minute(end)} ({when})"
            + (f": {what}" if what else ""),
            remedy="plan around it: the service may be unavailable then",
            details={"start": start.isoformat(), "end": end.isoformat()},
        )
    if upcoming:
        return ok(
            "service.maintenance",
            f"no maintenance in the next 7 days (next on {_minute(upcoming[0][0])})",
        )
    return ok("service.maintenance", "no maintenance announced")


def evaluate_cache(path: str, files: int, size: int, *, exists: bool = True) -> Finding:
    details = {"path": path, "files": files, "bytes": size}
    if not exists:
        return Finding("local.cache", "ok", f"no cache ({path})", details=details)
    text = f"cache {path}: {_plural(files, 'file', 'files')}, {human_bytes(size)}"
    if size > CACHE_WARN_BYTES:
        return Finding(
            "local.cache",
            "warn",
            text + f" (over {human_bytes(CACHE_WARN_BYTES)})",
            remedy=CMD_CLEAR_CACHE,
            details=details,
        )
    return Finding("local.cache", "ok", text, details=details)


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns


# --- the support file --------------------------------------------------------------------


REF_KINDS = (("CT-", "contracts"), ("INV-", "invoices"), ("CL-", "claims"), ("RM-", "returns"))


def references(findings: Iterable[Finding]) -> dict[str, list[str]]:
    """The IDs concerned by non-ok findings, by kind (what support asks for first)."""
    out: dict[str, list[str]] = {kind: [] for _, kind in REF_KINDS}
    out["other"] = []
    for f in findings:
        if f.status in ("ok", "skip"):
            continue
        for ref in f.refs:
            kind = next((k for prefix, k in REF_KINDS if ref.startswith(prefix)), "other")
            if ref not in out[kind]:
                out[kind].append(ref)
    return out


def build_report(
    findings: Sequence[Finding],
    data: AccountData | None,
    *,
    service: Mapping[str, Any] | None,
    generated_at: datetime,
    tool: Mapping[str, str],
    system: Mapping[str, str],
    api_url: str | None,
    summary: Mapping[str, Any],
    account_error: str | None = None,
) -> dict[str, Any]:
    """The support file as data. Only listed fields are copied: no token, password or full
    IBAN can reach it, whatever the API or the findings carry."""
    customer: dict[str, Any] | None = None
    contracts: list[dict[str, Any]] = []
    payment: dict[str, Any] | None = None
    if data is not None:
        c = data.customer
        if c:
            customer = {
                "customer_number": c.get("customer_number"),
                "name": " ".join(str(p) for p in (c.get("first_name"), c.get("last_name")) if p),
                "terms_version_accepted": c.get("terms_version_accepted"),
            }
        contracts = [
            {k: ct.get(k) for k in ("id", "kind", "offer", "status", "signed_on", "merchant")}
            for ct in data.contracts
        ]
        pm = data.payment_method
        if pm:
            payment = {k: pm.get(k) for k in ("iban_masked", "mandate_reference", "bank_name")}
    support = dict((service or {}).get("support") or {})
    mediator = dict((service or {}).get("mediator") or {})
    return {
        "generated_at": generated_at.astimezone(UTC).isoformat(timespec="seconds"),
        "tool": dict(tool),
        "system": dict(system),
        "api_url": api_url,
        "customer": customer,
        "account_error": account_error,
        "contracts": contracts,
        "payment_method": payment,
        "references": references(findings),
        "problems": [
            {k: f.to_dict()[k] for k in ("id", "status", "finding", "remedy", "refs", "checked_at")}
            for f in findings
            if f.status in ("warn", "fail")
        ],
        "checks": [
            {k: f.to_dict()[k] for k in ("id", "status", "finding", "checked_at")} for f in findings
        ],
        "summary": dict(summary),
        "support": {k: support.get(k) for k in ("phone", "email", "form_url", "postal_address")},
        "mediator": {k: mediator.get(k) for k in ("name", "url")} if mediator else None,
    }


def _md(text: Any) -> str:
    return "-" if text is None or text == "" else str(text).replace("|", "\\|").replace("\n", " ")


def report_markdown(report: Mapping[str, Any]) -> str:
    """The support file for people: what to read out or paste into the contact form."""
    lines = ["# Support file (moncompte diagnose)", ""]
    lines.append(f"Generated {report['generated_at']} - {report['summary'].get('text', '')}")
    lines += ["", "## Customer", ""]
    customer = report.get("customer")
    if customer:
        lines.append(f"- Customer number: {_md(customer.get('customer_number'))}")
        lines.append(f"- Name: {_md(customer.get('name'))}")
        lines.append(f"- Terms version accepted: {_md(customer.get('terms_version_accepted'))}")
    else:
        lines.append(
            f"- Unknown ({_md(report.get('account_error') or 'account data unavailable')})"
        )
    pm = report.get("payment_method")
    if pm:
        lines.append(
            f"- Payment: SEPA debit {_md(pm.get('iban_masked'))} ({_md(pm.get('bank_name'))}), "
            f"mandate {_md(pm.get('mandate_reference'))}"
        )
    if report.get("contracts"):
        lines += [
            "",
            "## Contracts",
            "",
            "| id | kind | offer | status |",
            "| --- | --- | --- | --- |",
        ]
        for c in report["contracts"]:
            lines.append(
                f"| {_md(c['id'])} | {_md(c['kind'])} | {_md(c['offer'])} | {_md(c['status'])} |"
            )
    lines += ["", "## What failed", ""]
    problems = report.get("problems") or []
    if not problems:
        lines.append("Nothing: every check passed or was skipped.")
    for p in problems:
        cited = f" [{', '.join(p['refs'])}]" if p.get("refs") else ""
        when = _md(p.get("checked_at"))
        lines.append(f"- **{p['status']}** `{p['id']}` at {when}: {_md(p['finding'])}{cited}")
        if p.get("remedy"):
            lines.append(f"  - what to do: {_md(p['remedy'])}")
    refs = report.get("references") or {}
    if any(refs.values()):
        lines += ["", "## References concerned", ""]
        for kind, ids in refs.items():
            if ids:
                lines.append(f"- {kind}: {', '.join(ids)}")
    lines += ["", "## All checks", "", "| check | status | finding |", "| --- | --- | --- |"]
    for c in report.get("checks") or []:
        lines.append(f"| {_md(c['id'])} | {_md(c['status'])} | {_md(c['finding'])} |")
    lines += ["", "## System", ""]
    tool, system = report.get("tool") or {}, report.get("system") or {}
    lines.append(f"- Tool: {_md(tool.get('name'))} {_md(tool.get('version'))}")
    for key, value in system.items():
        lines.append(f"- {key}: {_md(value)}")
    lines.append(f"- API: {_md(report.get('api_url'))}")
    lines += ["", "## Support channels", ""]
    support = report.get("support") or {}
    for key, label in (
        ("phone", "Phone"),
        ("email", "Email"),
        ("form_url", "Form"),
        ("postal_address", "Postal address"),
    ):
        lines.append(f"- {label}: {_md(support.get(key))}")
    mediator = report.get("mediator")
    if mediator and mediator.get("name"):
        lines.append(f"- Mediator: {_md(mediator.get('name'))} {_md(mediator.get('url'))}")
    return "\n".join(lines) + "\n"
