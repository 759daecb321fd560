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

from domain.money import format_money

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


def plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def summary_line(findings: Iterable[Finding]) -> str:
    """`12 ok, 2 warnings, 1 failure` (+ `, 3 skipped` when some were)."""
    c = counts(findings)
    parts = [
        f"{c['ok']} ok",
        plural(c["warn"], "warning", "warnings"),
        plural(c["fail"], "failure", "failures"),
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


def money(cents: Any) -> str:
    return format_money(int(cents)) if isinstance(cents, int) else "?"


def minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def join(parts: Sequence[str], limit: int = 4) -> str:
    """At most `limit` items in a one-line finding; the rest are counted, all are in refs."""
    if len(parts) <= limit:
        return "; ".join(parts)
    return "; ".join(parts[:limit]) + f"; and {len(parts) - limit} more"


def unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))
