"""The `moncompte diagnose` command: parse the options, run the checks, render the findings
(and write the support file).
"""

from __future__ import annotations

import contextlib
import importlib
import time
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from cli.context import Env
from cli.errors import UsageError
from cli.i18n import _, localized
from cli.output import Column
from commands.bulk import NO_BULK, BulkSpec, bulk_options
from commands.diagnose.fetch import fetch_account, fetch_service_status
from commands.diagnose.prepare import empty_cache, load_config, target
from commands.diagnose.render import render
from commands.diagnose.report import report_format, support_report, write_report
from commands.diagnose.runner import (
    FailOn,
    Once,
    Run,
    check_jobs,
    constant,
    explain_unavailable,
    progress_spinner,
    run_checks,
    settle,
)
from commands.diagnose.staff import diagnose_customers
from domain.diagnose import (
    BY_ID,
    CHECK_IDS,
    CHECKS,
    Finding,
    counts,
    exit_code,
    summary_line,
)

DEFAULT_CHECK_TIMEOUT = 5.0
HUMAN_FORMATS = ("table", "markdown")


def _select(checks: list[str] | None, account_only: bool) -> list[str]:
    if checks:
        unknown = [c for c in checks if c not in BY_ID]
        if unknown:
            raise UsageError(
                _("unknown check {checks}").format(checks=", ".join(repr(c) for c in unknown)),
                hint=_("valid checks: {checks} (moncompte diagnose --list-checks)").format(
                    checks=", ".join(CHECK_IDS)
                ),
            )
    wanted = set(checks) if checks else set(CHECK_IDS)
    if account_only:
        wanted = {c for c in wanted if BY_ID[c].needs == "account"}
        if not wanted:
            raise UsageError(_("--account-only leaves none of the checks given with --check"))
    return [c for c in CHECK_IDS if c in wanted]


@bulk_options
def diagnose(
    ctx: typer.Context,
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check", metavar="ID", help="Run only this check (repeatable; see --list-checks)."
        ),
    ] = None,
    list_checks: Annotated[
        bool, typer.Option("--list-checks", help="List the checks and exit.")
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Local checks only; the others are skipped.")
    ] = False,
    account_only: Annotated[
        bool, typer.Option("--account-only", help="Only the account checks.")
    ] = False,
    fail_on: Annotated[
        str,
        typer.Option(
            "--fail-on", metavar="warn|fail", help="Lowest status that makes the exit code 8."
        ),
    ] = "fail",
    check_timeout: Annotated[
        float,
        typer.Option("--check-timeout", metavar="SECONDS", help="Time allowed to every check."),
    ] = DEFAULT_CHECK_TIMEOUT,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="FILE.md|FILE.json",
            help="Write a support file (no secrets) for the support team.",
        ),
    ] = None,
    clear_cache: Annotated[
        bool, typer.Option("--clear-cache", help="Empty the local cache first.")
    ] = False,
    bulk: BulkSpec = NO_BULK,
) -> None:
    """Check the configuration, the network path and the account for known problems.

    Each check has a stable id, a status (ok, warn, fail, skip), a one-line finding and,
    when not ok, what to do. Exit codes: 0 when no check reached --fail-on (default: fail),
    8 when one did, 2 for bad usage, 1 when the tool itself failed.

    Staff: --account-only with --customer/--customers-file runs the account checks for
    each customer, one row per customer and check; exit 7 when a customer failed.
    """
    env = Env.of(ctx)
    if list_checks:
        # The titles in the user's language for people; -o json/csv keep the English ones.
        human = env.output in HUMAN_FORMATS
        env.out.render(
            [
                {"id": c.id, "needs": c.needs, "title": localized(c.label) if human else c.title}
                for c in CHECKS
            ],
            [
                Column("id", _("check")),
                Column("needs", _("needs")),
                Column("title", _("what it checks")),
            ],
        )
        return
    if fail_on not in ("warn", "fail"):
        raise UsageError(
            _("invalid --fail-on {value}").format(value=repr(fail_on)),
            hint=_("choose warn or fail"),
        )
    if not check_timeout > 0 or check_timeout == float("inf"):
        raise UsageError(
            _("invalid --check-timeout {value}: expected seconds above 0").format(
                value=repr(check_timeout)
            )
        )
    if bulk:
        if not account_only:
            raise UsageError(
                _("--customer and --customers-file need --account-only"),
                hint=_("only the account checks run for other customers"),
            )
        if offline or clear_cache or report is not None:
            raise UsageError(
                _("--offline, --clear-cache and --report cannot be combined with --customer")
            )
        diagnose_customers(env, bulk, _select(check, True), cast(FailOn, fail_on))
        return
    selected = _select(check, account_only)
    report_fmt = report_format(report)

    config_finding = load_config(env)
    cleared: Finding | None = None
    if clear_cache:
        cleared = empty_cache()
    needs_network = not offline and any(BY_ID[c].needs != "local" for c in selected)
    url, target_error = target(env, needs_network)
    if needs_network:
        # Imported here, once: in the check threads a cold import of httpx would eat into
        # the deadline of whichever check gets there first.
        importlib.import_module("cli.http")
    run = Run(
        env=env,
        target_url=url,
        target_error=target_error,
        timeout=check_timeout,
        today=env.today(),
        status=Once(lambda: fetch_service_status(run)),
        account=Once(lambda: fetch_account(run)),
    )
    jobs = check_jobs(run, selected, offline, config_finding)
    if cleared is not None and "local.cache" in jobs:
        jobs["local.cache"] = constant(cleared)
    try:
        with progress_spinner(env, len(jobs)) as progress:
            run.deadline = time.monotonic() + check_timeout
            results = run_checks(jobs, check_timeout, env.now, progress, run.deadline)
    finally:
        if run.client is not None:
            with contextlib.suppress(Exception):
                run.client.close()
    findings = sorted(explain_unavailable(results).values(), key=lambda f: CHECK_IDS.index(f.id))

    code = exit_code(findings, cast(FailOn, fail_on))
    summary: dict[str, Any] = {
        **counts(findings),
        "text": summary_line(findings),
        "fail_on": fail_on,
        "exit_code": code,
        "generated_at": env.now().isoformat(timespec="seconds"),
    }
    render(env, findings, summary)
    if report is not None and report_fmt is not None:
        if not offline and url is not None:
            # The support file names the customer and the support channels even when
            # no account or network check was selected: fetch them now, bounded alike.
            run.deadline = time.monotonic() + check_timeout
            settle([run.account, run.status], run.deadline)
        write_report(env, report, report_fmt, support_report(run, findings, summary))
    if code:
        raise typer.Exit(code)
