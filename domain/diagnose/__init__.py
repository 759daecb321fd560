"""`diagnose`: the checks support asks for before you call, and how data becomes findings.

Everything here is pure: the command fetches (or probes) once, and these functions turn
plain dicts, numbers and a date into `Finding`s. That keeps every rule testable on crafted
data without a server, and lets the command evaluate all account checks on one fetch.

Statuses: `ok` (checked, nothing to do), `warn` (worth knowing or acting on, nothing is
broken yet), `fail` (something is broken, blocked or costs money), `skip` (not checked, with
the reason). A check that does not apply to the account (no partwork collection) is `ok`
with a finding that says so: it was checked, and there is nothing to do.

Findings are one English line each; ids, statuses and `refs` are the stable,
machine-readable part (`-o json`), the sentences may improve. Each sentence is a
`domain.i18n.Text`: the English string, which the CLI words again in the user's language
where a person reads it (its dates and amounts stay typed until then).

The modules: `findings` (check specs, `Finding`, summary and exit code, remedy commands),
`account` (`AccountData`; terms, restrictions, payments, debits), `parcels` (partwork
issues, options, deliveries), `contracts` (the other account checks and
`ACCOUNT_EVALUATORS`), `network` (evaluations of probe measurements) and
`report` (the support file). Everything public is re-exported here: import from
`domain.diagnose`.
"""

from __future__ import annotations

from domain.diagnose.account import (
    AccountData,
    check_debits,
    check_payments,
    check_restrictions,
    check_terms,
)
from domain.diagnose.contracts import (
    ACCOUNT_EVALUATORS,
    OUTAGE_LOOKBACK,
    check_claims,
    check_commitment,
    check_equipment,
    check_outages,
)
from domain.diagnose.findings import (
    BY_ID,
    CHECK_IDS,
    CHECKS,
    CMD_CLAIM_NEW,
    CMD_CLAIM_SHOW,
    CMD_CLEAR_CACHE,
    CMD_CONTRACT,
    CMD_ESCALATE,
    CMD_EXPLAIN,
    CMD_LETTER,
    CMD_LOGIN,
    CMD_SCHEDULE,
    CMD_UNPAID,
    EXIT_CHECKS_FAILED,
    STATUSES,
    CheckSpec,
    Finding,
    Needs,
    Status,
    counts,
    exit_code,
    ok,
    summary_line,
)
from domain.diagnose.network import (
    CACHE_WARN_BYTES,
    CLOCK_FAIL_S,
    CLOCK_WARN_S,
    LATENCY_FAIL_MS,
    LATENCY_SPREAD_MIN_MS,
    LATENCY_WARN_MS,
    MAINTENANCE_SOON,
    TLS_WARN_DAYS,
    evaluate_cache,
    evaluate_clock,
    evaluate_latency,
    evaluate_maintenance,
    evaluate_tls,
    human_bytes,
)
from domain.diagnose.parcels import (
    TRANSIT_GRACE,
    check_deliveries,
    check_options,
    check_partwork_issues,
)
from domain.diagnose.report import REF_KINDS, build_report, references, report_markdown

__all__ = [
    "ACCOUNT_EVALUATORS",
    "BY_ID",
    "CACHE_WARN_BYTES",
    "CHECKS",
    "CHECK_IDS",
    "CLOCK_FAIL_S",
    "CLOCK_WARN_S",
    "CMD_CLAIM_NEW",
    "CMD_CLAIM_SHOW",
    "CMD_CLEAR_CACHE",
    "CMD_CONTRACT",
    "CMD_ESCALATE",
    "CMD_EXPLAIN",
    "CMD_LETTER",
    "CMD_LOGIN",
    "CMD_SCHEDULE",
    "CMD_UNPAID",
    "EXIT_CHECKS_FAILED",
    "LATENCY_FAIL_MS",
    "LATENCY_SPREAD_MIN_MS",
    "LATENCY_WARN_MS",
    "MAINTENANCE_SOON",
    "OUTAGE_LOOKBACK",
    "REF_KINDS",
    "STATUSES",
    "TLS_WARN_DAYS",
    "TRANSIT_GRACE",
    "AccountData",
    "CheckSpec",
    "Finding",
    "Needs",
    "Status",
    "build_report",
    "check_claims",
    "check_commitment",
    "check_debits",
    "check_deliveries",
    "check_equipment",
    "check_options",
    "check_outages",
    "check_partwork_issues",
    "check_payments",
    "check_restrictions",
    "check_terms",
    "counts",
    "evaluate_cache",
    "evaluate_clock",
    "evaluate_latency",
    "evaluate_maintenance",
    "evaluate_tls",
    "exit_code",
    "human_bytes",
    "ok",
    "references",
    "report_markdown",
    "summary_line",
]
