"""The `terminate` command: its options, and the three actions (quote, terminate, withdraw)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import typer

from cli.complete import contract_ids
from cli.context import Env
from cli.errors import UsageError, outcome_check
from cli.i18n import _
from cli.output import Column
from commands.terminate.confirm import confirm
from commands.terminate.requests import fetch, rule_refusals
from commands.terminate.view import (
    MACHINE_FORMATS,
    d,
    equipment_lines,
    m,
    pending_equipment,
    render_quote,
    render_termination,
    stderr_renderer,
)


def terminate(
    ctx: typer.Context,
    contract_id: Annotated[
        str,
        typer.Argument(
            metavar="CONTRACT",
            help="The contract reference, e.g. CT-0000001.",
            autocompletion=contract_ids,
        ),
    ],
    quote: Annotated[
        bool, typer.Option("--quote", help="Only show what terminating would cost.")
    ] = False,
    withdraw: Annotated[
        bool,
        typer.Option("--withdraw", help="Withdraw within the 14-day period (full refund)."),
    ] = False,
    on: Annotated[
        str | None,
        typer.Option(
            "--on", metavar="DATE", help="Date the termination takes effect (YYYY-MM-DD)."
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm without being asked.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen and change nothing.")
    ] = False,
) -> None:
    """Terminate a contract: shows the cost first, then asks you to confirm."""
    env = Env.of(ctx)
    if quote and withdraw:
        raise UsageError(_("--quote and --withdraw cannot be used together"))
    if withdraw and on is not None:
        raise UsageError(_("--on does not apply to --withdraw: a withdrawal takes effect at once"))
    effective = _parse_date(on, "--on") if on is not None else None
    if not quote and not dry_run and not yes and not env.can_prompt:
        # Fail before any change, naming the flag that answers; the quote is fetched first
        # only so that a refusal (already terminated, withdrawal period over) wins.
        fetch(env, contract_id, effective if not withdraw else None, check_withdrawal=withdraw)
        raise UsageError(
            _("withdrawing from a contract needs a confirmation, and there is no terminal to ask")
            if withdraw
            else _("terminating a contract needs a confirmation, and there is no terminal to ask"),
            hint=_("give --yes to confirm (or --dry-run to only see what would happen)"),
        )
    if quote:
        _show_quote(env, contract_id, effective)
    elif withdraw:
        _withdraw(env, contract_id, yes=yes, dry_run=dry_run)
    else:
        _terminate(env, contract_id, effective, yes=yes, dry_run=dry_run)


# --- the three actions ------------------------------------------------------------------


def _show_quote(env: Env, contract_id: str, effective: dt.date | None) -> None:
    contract, quote = fetch(env, contract_id, effective)
    render_quote(env, env.out, contract, quote)


def _terminate(
    env: Env, contract_id: str, effective: dt.date | None, *, yes: bool, dry_run: bool
) -> None:
    contract, quote = fetch(env, contract_id, effective)
    if dry_run:
        render_quote(env, env.out, contract, quote)
        env.out.notice(_("dry run: nothing was terminated"))
        return
    render_quote(env, stderr_renderer(env), contract, quote)
    if not yes:
        confirm(
            env,
            contract["id"],
            _("Type the contract reference ({contract}) to terminate it: ").format(
                contract=contract["id"]
            ),
        )
    body = {"effective_date": effective.isoformat() if effective else None}
    with rule_refusals(), outcome_check(f"moncompte contracts show {contract['id']}"):
        result = env.api().post(
            f"/v1/contracts/{contract['id']}/termination",
            body,
            idempotency_key=str(uuid.uuid4()),
        )
    if env.out.fmt in MACHINE_FORMATS:
        if env.out.fmt == "json":
            env.out.json(result)
        else:
            env.out.render([result], [Column(k, k) for k in ("contract.id", "contract.status",
                "quote.effective_date", "quote.total_cents", "last_invoice_on",
                "equipment_return.reference", "equipment_return.deadline")])  # fmt: skip
        return
    render_termination(env, result)


def _withdraw(env: Env, contract_id: str, *, yes: bool, dry_run: bool) -> None:
    contract, quote = fetch(env, contract_id, None, check_withdrawal=True)
    deadline = quote.get("withdrawal_deadline")
    notice = _(
        "Withdrawing from {contract} ({offer}) ends it today; everything paid under it is "
        "refunded. Withdrawal possible until {deadline}."
    ).format(contract=contract["id"], offer=contract.get("offer") or "-",
             deadline=d(env, deadline))  # fmt: skip
    if dry_run:
        env.out.text(notice)
        env.out.notice(_("dry run: nothing was changed"))
        return
    env.stderr.write(notice + "\n")
    if not yes:
        confirm(
            env,
            contract["id"],
            _("Type the contract reference ({contract}) to withdraw from it: ").format(
                contract=contract["id"]
            ),
        )
    with rule_refusals(), outcome_check(f"moncompte contracts show {contract['id']}"):
        result = env.api().post(
            f"/v1/contracts/{contract['id']}/withdrawal", {}, idempotency_key=str(uuid.uuid4())
        )
    if env.out.fmt == "json":
        env.out.json(result)
        return
    if env.out.fmt in MACHINE_FORMATS:
        env.out.render([result], [Column(k, k) for k in ("contract.id", "contract.status",
            "refund_cents")])  # fmt: skip
        return
    ended = result.get("contract") or {}
    env.out.text(
        _("Withdrawn from {contract}: refund of {refund}.").format(
            contract=ended.get("id", contract["id"]),
            refund=m(env, result.get("refund_cents")),
        )
    )
    for line in equipment_lines(env, pending_equipment(ended)):
        env.out.text(line)


# --- small helpers ----------------------------------------------------------------------


def _parse_date(text: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            _("invalid {flag} {value!r}: expected a date such as 2026-12-31").format(
                flag=flag, value=text
            )
        ) from None
