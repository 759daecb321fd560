"""Checks and findings: what a check is, what it found, and how findings add up.

The registry of checks (`CHECKS`), the `Finding` every check returns, the summary line and
the exit code, the remedy commands, and the small helpers that the account checks and the
probe evaluations share to read the API's JSON and word their findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from domain.i18n import N_, Money, Text, ngettext

Status = Literal["ok", "warn", "fail", "skip"]
Needs = Literal["local", "network", "account"]
STATUSES: tuple[Status, ...] = ("ok", "warn", "fail", "skip")

EXIT_CHECKS_FAILED = 8
"""Exit code when a check reaches the `--fail-on` level (see `exit_code`)."""

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


# Codes of the API worded for people. The English word is the code itself, so the English
# sentence (the JSON's) is unchanged; a code not listed is shown as sent.
CLAIM_CATEGORIES = {
    "billing": N_("billing"),
    "technical": N_("technical"),
    "delivery": N_("delivery"),
    "order_not_received": N_("order_not_received"),
    "not_as_ordered": N_("not_as_ordered"),
    "termination": N_("termination"),
    "other": N_("other"),
}


def category_label(category: Any) -> Text | str:
    known = CLAIM_CATEGORIES.get(str(category))
    return Text(known) if known else str(category)


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

    @property
    def label(self) -> Text:
        """The title as people read it (`title` stays the English one of `-o json`)."""
        return Text(self.title)


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("local.config", "local", N_("config file readable and valid")),
    CheckSpec("local.credentials", "local", N_("credentials present, where, not expired")),
    CheckSpec("local.proxy", "local", N_("proxy settings in effect for the API")),
    CheckSpec("local.cache", "local", N_("local cache size")),
    CheckSpec("net.dns", "network", N_("DNS resolution of the API host")),
    CheckSpec("net.tcp", "network", N_("TCP connection to the API")),
    CheckSpec("net.tls", "network", N_("TLS handshake and certificate validity")),
    CheckSpec("net.latency", "network", N_("latency and stability of the API")),
    CheckSpec("net.clock", "network", N_("clock skew against the server")),
    CheckSpec("service.maintenance", "network", N_("announced maintenance")),
    CheckSpec("account.terms", "account", N_("terms of sale (CGV) accepted vs current")),
    CheckSpec("account.restrictions", "account", N_("account features disabled")),
    CheckSpec("account.payments", "account", N_("overdue or failed payments")),
    CheckSpec("account.debits", "account", N_("amount debited vs invoice total")),
    CheckSpec("account.partwork_issues", "account", N_("partwork issues received vs expected")),
    CheckSpec("account.options", "account", N_("options added but not validated")),
    CheckSpec("account.deliveries", "account", N_("delivery changes and delays")),
    CheckSpec("account.commitment", "account", N_("commitment end and termination cost today")),
    CheckSpec("account.outages", "account", N_("outages over 48 hours (commercial gesture)")),
    CheckSpec("account.equipment", "account", N_("equipment to return and its deadline")),
    CheckSpec("account.claims", "account", N_("claims unanswered for over 2 months (mediator)")),
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


def summary_line(findings: Iterable[Finding]) -> Text:
    """`12 ok, 2 warnings, 1 failure` (+ `, 3 skipped` when some were)."""
    c = counts(findings)
    parts = [
        Text(N_("{n} ok"), n=c["ok"]),
        ngettext("{n} warning", "{n} warnings", c["warn"]),
        ngettext("{n} failure", "{n} failures", c["fail"]),
    ]
    if c["skip"]:
        parts.append(ngettext("{n} skipped", "{n} skipped", c["skip"]))
    return Text.joined(parts, ", ")


def exit_code(findings: Iterable[Finding], fail_on: Literal["warn", "fail"] = "fail") -> int:
    """0 unless a finding reaches `fail_on`; then `EXIT_CHECKS_FAILED` (8).

    A code of its own, not 1: 1 means the tool itself failed unexpectedly, and a CI job
    must tell "the account or the service has a problem" from "the check did not run".
    """
    levels: set[str] = {"fail"} if fail_on == "fail" else {"warn", "fail"}
    return EXIT_CHECKS_FAILED if any(f.status in levels for f in findings) else 0


# --- small parsing helpers (the API's JSON) ----------------------------------------------------


def parse_date(value: Any) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def parse_stamp(value: Any) -> datetime | None:
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


def amount(cents: Any) -> Money | str:
    """An amount of the API's JSON, formatted where it is shown ("?" when there is none)."""
    return Money(cents) if isinstance(cents, int) else "?"


def day(value: Any) -> date | str:
    """A date of the API's JSON, typed so that it is shown in the user's format; what is not
    a plain YYYY-MM-DD is shown as sent (the English text stays the JSON's string)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        parsed = parse_date(value)
        if parsed is not None and parsed.isoformat() == value:
            return parsed
    return str(value)


def minute(moment: datetime) -> datetime:
    """A moment to the minute, in UTC (`2026-12-06 01:00 UTC`, `06/12/2026 01:00 UTC`)."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


# French puts a space before `;`: the separator is a message of its own.
_SEMICOLON = Text(N_("; "))


def semicolons(parts: Sequence[Any]) -> Text:
    """`a; b; c` in English, `a ; b ; c` in French."""
    return Text.joined(parts, _SEMICOLON)


def join(parts: Sequence[Any], limit: int = 4) -> Text:
    """At most `limit` items in a one-line finding; the rest are counted, all are in refs."""
    if len(parts) <= limit:
        return semicolons(parts)
    return semicolons([*parts[:limit], Text(N_("and {n} more"), n=len(parts) - limit)])


def unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))
