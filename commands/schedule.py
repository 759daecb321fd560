"""`moncompte schedule [CONTRACT]`: the instalments of a plan, paid and remaining.

Without CONTRACT every contract that carries an instalment schedule (pay-in-instalments
plans and partwork collections) is shown, one after the other. In tables the next debit is
marked in its row and restated under the table with its real debit date (the due date
moved to a business day); totals paid and remaining follow.

`-o json` prints the schedules as the API gives them (with `paid_cents`,
`remaining_cents`, `next_debit`): one object for `schedule CONTRACT`, a list otherwise, so
the shape depends on the arguments only, never on how many plans the customer has.
ndjson/csv/tsv print one flat row per instalment, with its contract and a `next` flag.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any

import typer

from cli.complete import contract_ids
from cli.context import Env
from cli.errors import NotFoundError, UsageError
from cli.i18n import _
from cli.output import Column, Renderer, human
from commands.bulk import NO_BULK, BulkSpec, Lookup, bulk_options, list_rows, run_bulk
from domain.money import format_money

# Contract kinds whose payments follow an instalment schedule (domain.md).
SCHEDULED_KINDS = ("installments", "partwork")
HUMAN_FORMATS = ("table", "markdown")


def human_columns() -> list[Column]:
    return [
        Column("marker", ""),
        Column("number", _("no."), "int"),
        Column("due_date", _("due date"), "date"),
        Column("debit_date", _("debit date"), "date"),
        Column("amount_cents", _("amount"), "money"),
        Column("status", _("status")),
    ]


def machine_columns() -> list[Column]:
    return [
        Column("contract_id", "contract_id"),
        Column("number", "number", "int"),
        Column("due_date", "due_date", "date"),
        Column("debit_date", "debit_date", "date"),
        Column("amount_cents", "amount_cents", "money"),
        Column("status", "status"),
        Column("original_due_date", "original_due_date", "date"),
        Column("rescheduled_count", "rescheduled_count", "int"),
        Column("next", "next", "bool"),
    ]


def status_label(status: str) -> str:
    labels = {
        "paid": _("paid"),
        "due": _("due"),
        "failed": _("failed"),
        "rescheduled": _("rescheduled"),
    }
    return labels.get(status, status)


@bulk_options
def schedule(
    ctx: typer.Context,
    contract_id: Annotated[
        str | None,
        typer.Argument(
            metavar="CONTRACT",
            help="A contract id; without it, every contract with instalments.",
            autocompletion=contract_ids,
            show_default=False,
        ),
    ] = None,
    bulk: BulkSpec = NO_BULK,
) -> None:
    """Payment schedule: each instalment's due and debit dates, amount, status; totals."""
    env = Env.of(ctx)
    if bulk:  # staff, many customers: one row per instalment, with the customer's id
        if contract_id is not None:
            raise UsageError(_("CONTRACT cannot be combined with --customer/--customers-file"))
        run_bulk(env, bulk, Lookup("schedule"), machine_columns(), _bulk_rows)
        return
    client = env.api()
    if contract_id is not None:
        schedules: list[Mapping[str, Any]] = [client.get(f"/v1/contracts/{contract_id}/schedule")]
    else:
        ids = [
            str(c["id"])
            for c in client.paginate("/v1/contracts")
            if c.get("kind") in SCHEDULED_KINDS
        ]
        if not ids:
            raise NotFoundError(
                _("no contract with an instalment schedule"),
                hint=_("'moncompte contracts' lists your contracts"),
            )
        schedules = [client.get(f"/v1/contracts/{cid}/schedule") for cid in ids]

    out = env.out
    if out.fmt == "json":
        out.json(schedules[0] if contract_id is not None else schedules)
    elif out.fmt not in HUMAN_FORMATS:
        out.render(_flat_rows(schedules), machine_columns())
    else:
        for n, plan in enumerate(schedules):
            if n:
                out.text("")
            _render_plan(out, plan, env.locale)


def _is_next(plan: Mapping[str, Any], instalment: Mapping[str, Any]) -> bool:
    upcoming = plan.get("next_debit") or {}
    return bool(upcoming) and upcoming.get("number") == instalment.get("number")


def _flat_rows(schedules: list[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    for plan in schedules:
        for inst in plan.get("instalments") or []:
            yield {**inst, "contract_id": plan.get("contract_id"), "next": _is_next(plan, inst)}


def _bulk_rows(_customer_id: str, data: Any) -> Iterator[dict[str, Any]]:
    return _flat_rows(list(list_rows(_customer_id, data)))


def _render_plan(out: Renderer, plan: Mapping[str, Any], locale: str) -> None:
    title = _("Schedule of {contract}").format(contract=plan.get("contract_id"))
    if not (out.fmt == "table" and out.isatty):  # Rich shows the title; plain tables do not
        out.text(title)
    rows = [
        {
            **inst,
            # A space, not "": the renderer shows an empty cell as "-".
            "marker": "→" if _is_next(plan, inst) else " ",
            # Human tables show the status in words, under the same key as json/csv.
            "status": status_label(str(inst.get("status"))),
        }
        for inst in plan.get("instalments") or []
    ]
    if not rows:
        out.text(_("no instalments on this contract"))
        return
    out.render(rows, human_columns(), title=title)
    for line in footer(plan, locale):
        out.text(line)


def footer(plan: Mapping[str, Any], locale: str) -> Iterator[str]:
    """Totals, then the next debit with its real date (said so when it is not the due date,
    because a weekend or a holiday moved it)."""
    paid = format_money(int(plan.get("paid_cents") or 0), locale)
    remaining = format_money(int(plan.get("remaining_cents") or 0), locale)
    # The separator and the arrow stay out of the messages: translators get plain ASCII.
    yield " · ".join(
        (
            _("Paid: {paid}").format(paid=paid),
            _("Remaining: {remaining}").format(remaining=remaining),
        )
    )
    upcoming = plan.get("next_debit")
    if not upcoming:
        yield _("Next debit: none scheduled")
        return
    debit = human(upcoming.get("debit_date"), "date", locale)
    due = human(upcoming.get("due_date"), "date", locale)
    if upcoming.get("debit_date") != upcoming.get("due_date"):
        yield "→ " + _(
            "Next debit: instalment {number} on {debit} (due {due}, moved to the next business day)"
        ).format(number=upcoming.get("number"), debit=debit, due=due)
    else:
        yield "→ " + _("Next debit: instalment {number} on {debit}").format(
            number=upcoming.get("number"), debit=debit
        )
