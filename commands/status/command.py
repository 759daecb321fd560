"""The `moncompte status` command: fetch the account once, build the overview, render it."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.context import Env
from cli.output import Column
from commands.bulk import NO_BULK, BulkSpec, PerCustomer, bulk_options, run_bulk
from commands.status.fetch import account_findings, bulk_account, customer_account, own_account
from commands.status.view import render_screen
from domain.overview import SUMMARY_KEYS, build_overview, summary_row

HUMAN_FORMATS = ("table", "markdown")


def summary_columns() -> list[Column]:
    kinds: dict[str, Any] = {
        "contracts": "int",
        "next_debit_date": "date",
        "next_debit_cents": "money",
        "unpaid": "int",
        "unpaid_cents": "money",
        "open_claims": "int",
        "mediator_possible": "int",
        "equipment_return_deadline": "date",
    }
    return [Column(key, key, kinds.get(key, "text")) for key in SUMMARY_KEYS]


@bulk_options
def status(
    ctx: typer.Context,
    all_: Annotated[
        bool,
        typer.Option(
            "--all", help="Show everything: ended contracts, every item (the screen is short)."
        ),
    ] = False,
    bulk: BulkSpec = NO_BULK,
) -> None:
    """Everything to keep an eye on: next debits, unpaid items, deadlines, claims, urgent.

    Per contract the next debit (its real business-day date and amount), the commitment
    end and what terminating today would cost, the withdrawal deadline while open, the
    equipment to return with its RM- reference; the unpaid invoices and instalments; open
    claims with their next step and when the mediator may be seized; and what `diagnose`
    flags as urgent (its failed account checks).

    The screen is kept short (--all shows everything); -o json always has every key and
    every item. -o ndjson/csv/tsv print one summary row.

    Staff: --customer ID (once) shows that customer's overview; several --customer or
    --customers-file print one summary row per customer, streamed like other bulk lookups.
    """
    env = Env.of(ctx)
    single = len(bulk.customers) == 1 and bulk.customers_file is None
    if bulk and not single:
        today = env.today()

        def overview_of(transport: Any, customer_id: str) -> dict[str, Any]:
            data = bulk_account(transport, customer_id, env)
            return build_overview(data, account_findings(data, env), today)

        run_bulk(
            env,
            bulk,
            PerCustomer(overview_of),
            summary_columns(),
            lambda _cid, overview: [summary_row(overview)],
        )
        return
    data = customer_account(env, bulk.customers[0]) if single else own_account(env)
    overview = build_overview(data, account_findings(data, env), env.today())
    out = env.out
    if out.fmt == "json":
        out.json(overview)
    elif out.fmt not in HUMAN_FORMATS:
        out.render([summary_row(overview)], summary_columns())
    else:
        render_screen(out, overview, env.locale, show_all=all_)
