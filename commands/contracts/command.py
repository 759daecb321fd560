"""The `moncompte contracts` Typer app and its commands: list (also bare `contracts`) and
show. Options are parsed here, the API called and the result rendered; the columns and the
detail page's sections are the package's other modules."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

import typer

from cli.complete import contract_ids, remember_ids
from cli.context import Env
from cli.errors import UsageError
from cli.i18n import _
from cli.output import Renderer
from commands.bulk import NO_BULK, BulkSpec, Lookup, bulk_options, list_rows, run_bulk
from commands.contracts.columns import detail_fields, list_columns, progress_fields
from commands.contracts.views import in_words, progress, sections

app = typer.Typer(
    help="Your contracts: offer, price, commitment. Without a subcommand: list them.",
    rich_markup_mode=None,
)

HUMAN_FORMATS = ("table", "markdown")


@app.callback(invoke_without_command=True)
@bulk_options
def contracts(ctx: typer.Context, bulk: BulkSpec = NO_BULK) -> None:
    """Your contracts: offer, price, commitment. `contracts show ID` for the details."""
    if ctx.invoked_subcommand is None:
        _list(Env.of(ctx), bulk)
    elif bulk:
        raise UsageError(_("--customer and --customers-file go after 'contracts list'"))


@app.command("list")
@bulk_options
def list_(ctx: typer.Context, bulk: BulkSpec = NO_BULK) -> None:
    """List your contracts: kind, offer, monthly price, commitment, status."""
    _list(Env.of(ctx), bulk)


def _list(env: Env, bulk: BulkSpec) -> None:
    if bulk:  # staff, many customers: one POST /v1/lookup per 100 of them
        human_rows = env.out.fmt in HUMAN_FORMATS
        rows_of = (lambda c, d: map(in_words, list_rows(c, d))) if human_rows else list_rows
        run_bulk(env, bulk, Lookup("contracts"), list_columns(), rows_of)
        return
    rows: Iterable[Mapping[str, Any]] = env.api().paginate("/v1/contracts")
    rows = remember_ids(env, "contracts", rows)  # for completion of IDs (cli/complete.py)
    if env.out.fmt in HUMAN_FORMATS:
        rows = map(in_words, rows)
    env.out.render(rows, list_columns(), title=_("Contracts"))


@app.command("show")
def show(
    ctx: typer.Context,
    contract_id: Annotated[
        str,
        typer.Argument(
            metavar="ID", help="A contract id, e.g. CT-0000001.", autocompletion=contract_ids
        ),
    ],
) -> None:
    """One contract in full: equipment, options, shipments, partwork progress, outages."""
    env = Env.of(ctx)
    contract = env.api().get(f"/v1/contracts/{contract_id}")
    out = env.out
    if out.fmt == "json":
        out.json(contract)
        return
    if out.fmt == "ndjson":
        out.text(json.dumps(contract, ensure_ascii=False))
        return
    if out.fmt not in HUMAN_FORMATS:  # csv / tsv: the flat fields, one row
        out.render([contract], detail_fields())
        return
    out.render_one(
        in_words(contract), detail_fields(), title=_("Contract {id}").format(id=contract.get("id"))
    )
    for heading, rows, columns in sections(contract, env.today()):
        if rows:
            _heading(out, heading)
            out.render(rows, columns, title=heading)
    partwork = contract.get("partwork")
    if isinstance(partwork, Mapping):
        heading = _("Partwork progress")
        _heading(out, heading)
        out.render_one(progress(partwork), progress_fields(), title=heading)


def _heading(out: Renderer, heading: str) -> None:
    """A blank line and the section's name, unless Rich prints it as the table's title."""
    out.text("")
    if not (out.fmt == "table" and out.isatty):
        out.text(heading)
