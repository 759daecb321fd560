"""`moncompte terminate CONTRACT`: what ending a contract costs, withdrawal, termination.

- `--quote [--on DATE]` shows the loi Chatel breakdown the server computes (months left in
  year 1 owed in full, 25 % of the months left in year 2, the provider's fee), the end of
  the commitment, the equipment return and whether withdrawal is still possible;
- `--withdraw` withdraws within the 14-day period (everything paid is refunded);
- otherwise the contract is terminated: the quote first, then a confirmation (the contract
  reference typed at a prompt, or `--yes`), then what happens next.

The server decides everything (fee, dates, refusals); this command only shows it. Refusals
exit 5 and name the rule.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from cli.complete import contract_ids
from cli.context import Env
from cli.errors import RuleError, UsageError, outcome_check
from cli.i18n import _
from cli.output import Column, Renderer, human
from domain.money import format_money

MACHINE_FORMATS = ("json", "ndjson", "csv", "tsv")

# The quote as raw values, for -o ndjson/csv/tsv (-o json prints the server's object).
RAW_QUOTE_COLUMNS = [
    Column(k, k)
    for k in (
        "contract_id",
        "effective_date",
        "months_remaining_year1",
        "months_remaining_year2",
        "monthly_price_cents",
        "year1_cents",
        "year2_cents",
        "chatel_fee_cents",
        "provider_fee_cents",
        "total_cents",
        "commitment_end",
        "equipment_return.reference",
        "equipment_return.deadline",
        "withdrawal_possible",
        "withdrawal_deadline",
    )
]


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
        _fetch(env, contract_id, effective if not withdraw else None, check_withdrawal=withdraw)
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
    contract, quote = _fetch(env, contract_id, effective)
    _render_quote(env, env.out, contract, quote)


def _terminate(
    env: Env, contract_id: str, effective: dt.date | None, *, yes: bool, dry_run: bool
) -> None:
    contract, quote = _fetch(env, contract_id, effective)
    if dry_run:
        _render_quote(env, env.out, contract, quote)
        env.out.notice(_("dry run: nothing was terminated"))
        return
    _render_quote(env, _stderr_renderer(env), contract, quote)
    if not yes:
        _confirm(
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
    _render_termination(env, result)


def _withdraw(env: Env, contract_id: str, *, yes: bool, dry_run: bool) -> None:
    contract, quote = _fetch(env, contract_id, None, check_withdrawal=True)
    deadline = quote.get("withdrawal_deadline")
    notice = _(
        "Withdrawing from {contract} ({offer}) ends it today; everything paid under it is "
        "refunded. Withdrawal possible until {deadline}."
    ).format(contract=contract["id"], offer=contract.get("offer") or "-",
             deadline=_d(env, deadline))  # fmt: skip
    if dry_run:
        env.out.text(notice)
        env.out.notice(_("dry run: nothing was changed"))
        return
    env.stderr.write(notice + "\n")
    if not yes:
        _confirm(
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
            refund=_m(env, result.get("refund_cents")),
        )
    )
    for line in _equipment_lines(env, _pending_equipment(ended)):
        env.out.text(line)


# --- requests ---------------------------------------------------------------------------


def _fetch(
    env: Env, contract_id: str, effective: dt.date | None, *, check_withdrawal: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The contract and its termination quote; with `check_withdrawal`, refuse (exit 5)
    when the withdrawal period is over — checked here for a clear message naming the
    deadline; the server checks again and has the last word."""
    client = env.api()
    contract = client.get(f"/v1/contracts/{contract_id}")
    params = {"date": effective.isoformat()} if effective else None
    with rule_refusals():
        quote = client.get(f"/v1/contracts/{contract['id']}/termination-quote", params)
    if check_withdrawal and not quote.get("withdrawal_possible"):
        raise RuleError(
            _(
                "refused by rule withdrawal.period (withdrawal_period_over): the withdrawal "
                "period of {contract} ended on {deadline}; terminate it instead "
                "(moncompte terminate {contract} --quote shows the cost)"
            ).format(contract=contract["id"], deadline=_d(env, quote.get("withdrawal_deadline"))),
            rule="withdrawal.period",
            code="withdrawal_period_over",
        )
    return contract, quote


@contextlib.contextmanager
def rule_refusals() -> Iterator[None]:
    """Re-raise a server rule refusal so that its message names both the rule and the code.

    The server's `code` (e.g. `already_terminated`) is what scripts and support search
    for; `cli.errors` names only the rule.
    """
    try:
        yield
    except RuleError as exc:
        if not exc.code:
            raise
        raise RuleError(
            _("refused by rule {rule} ({code}): {detail}").format(
                rule=exc.rule or "-", code=exc.code, detail=exc.detail or exc.message
            ),
            hint=exc.hint,
            status=exc.status,
            code=exc.code,
            rule=exc.rule,
            detail=exc.detail,
        ) from exc


def _confirm(env: Env, contract_id: str, question: str) -> None:
    """The contract reference typed back: harder to do by reflex than answering "y"."""
    # End of input (Ctrl-D) propagates: it aborts like Ctrl-C, as every prompt does.
    typed = env.prompt(question, flag="--yes")
    if typed.strip().upper() != contract_id.upper():
        raise UsageError(
            _("the reference typed ({typed}) is not {contract}: nothing was changed").format(
                typed=typed.strip() or _("nothing"), contract=contract_id
            )
        )


# --- rendering --------------------------------------------------------------------------


def _stderr_renderer(env: Env) -> Renderer:
    """Tables shown before a prompt belong with the prompt, on stderr: stdout is the result."""
    return Renderer(
        env.stderr,
        env.stderr,
        fmt="table",
        isatty=bool(env.stderr_isatty),
        color=False,
        locale=env.locale,
    )


def _render_quote(env: Env, out: Renderer, contract: dict[str, Any], quote: dict[str, Any]) -> None:
    if out.fmt == "json":
        out.json({**quote, "commitment_end": contract.get("commitment_end")})
        return
    if out.fmt in MACHINE_FORMATS:
        out.render([{**quote, "commitment_end": contract.get("commitment_end")}],
                   RAW_QUOTE_COLUMNS)  # fmt: skip
        return
    fields = _quote_fields(env, contract, quote)
    out.render_one(
        {key: value for key, _label, value in fields},
        [Column(key, label) for key, label, _value in fields],
        title=_("Termination quote"),
    )


def _quote_fields(
    env: Env, contract: dict[str, Any], q: dict[str, Any]
) -> list[tuple[str, str, str]]:
    """(key, label, value) lines of the quote as a person reads it."""
    price = _m(env, q["monthly_price_cents"])
    end = contract.get("commitment_end")
    ret = q.get("equipment_return")
    if ret:
        items = ", ".join(f"{i.get('kind')} {i.get('serial')}" for i in ret.get("items") or [])
        returning = _("{items}: by {deadline}, reference {reference}").format(
            items=items or "-", deadline=_d(env, ret["deadline"]), reference=ret["reference"]
        )
    else:
        returning = _("none")
    deadline = _d(env, q.get("withdrawal_deadline"))
    if q.get("withdrawal_possible"):
        withdrawal = _("possible until {date} (terminate --withdraw)").format(date=deadline)
    else:
        withdrawal = _("no longer possible (the period ended on {date})").format(date=deadline)
    year1 = _("{n} month(s) left × {price} = {amount}").format(
        n=q["months_remaining_year1"], price=price, amount=_m(env, q["year1_cents"])
    )
    year2 = _("{n} month(s) left × {price} × 25 % = {amount}").format(
        n=q["months_remaining_year2"], price=price, amount=_m(env, q["year2_cents"])
    )
    return [
        ("contract", _("Contract"), f"{q['contract_id']} — {contract.get('offer') or '-'}"),
        ("effective_date", _("Takes effect on"), _d(env, q["effective_date"])),
        ("monthly_price", _("Monthly price"), price),
        ("year1", _("Year 1, owed in full"), year1),
        ("year2", _("Year 2, 25 %"), year2),
        ("chatel_fee", _("Early termination fee (loi Chatel)"), _m(env, q["chatel_fee_cents"])),
        ("provider_fee", _("Provider's termination fee"), _m(env, q["provider_fee_cents"])),
        ("total", _("Total"), _m(env, q["total_cents"])),
        ("commitment_end", _("Commitment ends on"), _d(env, end) if end else _("no commitment")),
        ("equipment_return", _("Equipment to return"), returning),
        ("withdrawal", _("Withdrawal (full refund)"), withdrawal),
    ]


def _render_termination(env: Env, result: dict[str, Any]) -> None:
    contract = result.get("contract") or {}
    quote = result.get("quote") or {}
    env.out.text(
        _("Contract {contract} is terminated, effective {date}.").format(
            contract=contract.get("id", "-"),
            date=_d(env, contract.get("terminated_on") or quote.get("effective_date")),
        )
    )
    env.out.text(
        _("Termination fee: {total}, on your last invoice of {date}.").format(
            total=_m(env, quote.get("total_cents")), date=_d(env, result.get("last_invoice_on"))
        )
    )
    ret = result.get("equipment_return")
    items = (ret or {}).get("items") or []
    lines = _equipment_lines(
        env,
        [
            {**item, "return_reference": ret["reference"], "return_deadline": ret["deadline"]}
            for item in items
        ]
        if ret
        else [],
    )
    for line in lines:
        env.out.text(line)


def _pending_equipment(contract: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e
        for e in contract.get("equipment") or []
        if e.get("returned_on") is None and e.get("return_reference")
    ]


def _equipment_lines(env: Env, items: list[dict[str, Any]]) -> list[str]:
    """What to do with lent equipment: the reference, the deadline, the closed parcel."""
    if not items:
        return [_("No equipment to return.")]
    reference = items[0]["return_reference"]
    deadline = max(str(i["return_deadline"]) for i in items)
    lines = [
        _("Return the equipment by {deadline} with the return reference {reference}:").format(
            deadline=_d(env, deadline), reference=reference
        )
    ]
    for item in items:
        lines.append(
            _("  - {kind} {serial} (price-list value {value}), by {deadline}").format(
                kind=item.get("kind"),
                serial=item.get("serial"),
                value=_m(env, item.get("value_cents")),
                deadline=_d(env, item.get("return_deadline")),
            )
        )
    lines.append(
        _(
            "Send it in a closed parcel showing the reference {reference}; equipment not "
            "returned in time is billed at its price-list value."
        ).format(reference=reference)
    )
    return lines


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


def _m(env: Env, cents: Any) -> str:
    return format_money(cents, env.locale) if isinstance(cents, int) else "-"


def _d(env: Env, value: Any) -> str:
    return human(value, "date", env.locale)
