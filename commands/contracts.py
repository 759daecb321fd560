"""`moncompte contracts [list] | contracts show ID`: what the customer holds.

The list is one row per contract. `show` is a detail page: the contract's fields, then its
equipment, options, shipments, partwork progress and outages, each as its own table. In
`-o json` `show` prints the contract exactly as the API gives it (every field, nested
lists included), so scripts get one stable document whatever the locale.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any

import typer

from cli import i18n
from cli.bulk import NO_BULK, BulkSpec, Lookup, bulk_options, list_rows, run_bulk
from cli.complete import contract_ids, remember_ids
from cli.context import Env
from cli.errors import UsageError
from cli.i18n import _
from cli.output import Column, Renderer, human

app = typer.Typer(
    help="Your contracts: offer, price, commitment. Without a subcommand: list them.",
    rich_markup_mode=None,
)

HUMAN_FORMATS = ("table", "markdown")


def list_columns() -> list[Column]:
    # Built per call, not at import: headers are translated for the run's locale.
    return [
        Column("id", _("contract")),
        Column("kind", _("kind")),
        Column("offer", _("offer")),
        Column("monthly_price_cents", _("monthly price"), "money"),
        Column("commitment_start", _("commitment start"), "date"),
        Column("commitment_end", _("commitment end"), "date"),
        Column("status", _("status")),
    ]


def kind_label(kind: str) -> str:
    labels = {
        "internet": _("internet"),
        "installments": _("pay in instalments"),
        "partwork": _("partwork"),
    }
    return labels.get(kind, kind)


def status_label(status: str) -> str:
    labels = {
        "active": _("active"),
        "pending_activation": _("pending activation"),
        "terminated": _("terminated"),
        "withdrawn": _("withdrawn"),
    }
    return labels.get(status, status)


def in_words(contract: Mapping[str, Any]) -> dict[str, Any]:
    """Kind and status in words for tables, under the same keys as in json/csv."""
    return {
        **contract,
        "kind": kind_label(str(contract.get("kind"))),
        "status": status_label(str(contract.get("status"))),
    }


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


def detail_fields() -> list[Column]:
    return [
        Column("id", _("contract")),
        Column("kind", _("kind")),
        Column("offer", _("offer")),
        Column("status", _("status")),
        Column("merchant", _("merchant")),
        Column("monthly_price_cents", _("monthly price"), "money"),
        Column("activation_fee_cents", _("activation fee"), "money"),
        Column("termination_fee_cents", _("termination fee"), "money"),
        Column("signed_on", _("signed on"), "date"),
        Column("first_connection_on", _("first connection"), "date"),
        Column("commitment_months", _("commitment (months)"), "int"),
        Column("commitment_start", _("commitment start"), "date"),
        Column("commitment_end", _("commitment end"), "date"),
        Column("withdrawal_deadline", _("withdrawal deadline"), "date"),
        Column("terminated_on", _("terminated on"), "date"),
    ]


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
    for heading, rows, columns in _sections(contract, env.today()):
        if rows:
            _heading(out, heading)
            out.render(rows, columns, title=heading)
    partwork = contract.get("partwork")
    if isinstance(partwork, Mapping):
        heading = _("Partwork progress")
        _heading(out, heading)
        out.render_one(_progress(partwork), _progress_fields(), title=heading)


def _heading(out: Renderer, heading: str) -> None:
    """A blank line and the section's name, unless Rich prints it as the table's title."""
    out.text("")
    if not (out.fmt == "table" and out.isatty):
        out.text(heading)


def _sections(
    contract: Mapping[str, Any], today: dt.date
) -> list[tuple[str, list[dict[str, Any]], list[Column]]]:
    """The nested lists of a contract as (heading, rows, columns), in reading order."""
    equipment = [dict(e) for e in contract.get("equipment") or []]
    options = [
        {**o, "state": _("validated") if o.get("validated") else _("awaiting validation")}
        for o in contract.get("options") or []
    ]
    shipments = [_shipment_row(s, today) for s in contract.get("shipments") or []]
    outages = [dict(o) for o in contract.get("outages") or []]
    return [
        (
            _("Equipment"),
            equipment,
            [
                Column("kind", _("kind")),
                Column("serial", _("serial")),
                Column("value_cents", _("value"), "money"),
                Column("exchanged", _("exchanged"), "bool"),
                Column("return_reference", _("return reference")),
                Column("return_deadline", _("return by"), "date"),
                Column("returned_on", _("returned on"), "date"),
            ],
        ),
        (
            _("Options"),
            options,
            [
                Column("name", _("option")),
                Column("price_cents", _("price"), "money"),
                Column("added_on", _("added on"), "date"),
                Column("state", _("validation")),
            ],
        ),
        (
            _("Shipments"),
            shipments,
            [
                Column("issues", _("issues")),
                Column("grouped", _("grouped"), "bool"),
                Column("shipped_on", _("shipped on"), "date"),
                Column("expected_on", _("expected on"), "date"),
                Column("received_on", _("received on"), "date"),
                Column("state", _("state")),
            ],
        ),
        (
            _("Outages"),
            outages,
            [
                Column("start", _("start"), "date"),
                Column("end", _("end"), "date"),
                Column("hours", _("hours"), align="right"),
            ],
        ),
    ]


def _shipment_row(shipment: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    first, last = shipment.get("issue_from"), shipment.get("issue_to")
    issues = f"{first}" if first == last else f"{first}–{last}"
    return {**shipment, "issues": issues, "state": _shipment_state(shipment, today)}


def _shipment_state(shipment: Mapping[str, Any], today: dt.date) -> str:
    """In words: received, delayed (to when), overdue (expected and not received), or on its
    way. The server gives the dates; the judgement against today is the reader's help."""
    if shipment.get("received_on"):
        return _("received")
    delayed = shipment.get("delayed_until")
    if delayed:
        return _("delayed until {date}").format(date=_date(str(delayed)))
    expected = _parse(str(shipment.get("expected_on") or ""))
    if expected is not None and expected < today:
        return _("not received (expected {date})").format(date=_date(expected.isoformat()))
    if shipment.get("shipped_on"):
        return _("on its way")
    return _("not shipped yet")


def _progress(partwork: Mapping[str, Any]) -> dict[str, Any]:
    missing: Sequence[int] = partwork.get("missing") or []
    return {
        "issues_total": partwork.get("issues_total"),
        "price_per_issue_cents": partwork.get("price_per_issue_cents"),
        "issues_expected_by_today": partwork.get("issues_expected_by_today"),
        "issues_received": partwork.get("issues_received"),
        "missing": ", ".join(str(n) for n in missing) if missing else _("none"),
    }


def _progress_fields() -> list[Column]:
    return [
        Column("issues_total", _("issues in the collection"), "int"),
        Column("price_per_issue_cents", _("price per issue"), "money"),
        Column("issues_expected_by_today", _("expected by today"), "int"),
        Column("issues_received", _("received"), "int"),
        Column("missing", _("missing issues")),
    ]


def _parse(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _date(value: str) -> str:
    """A date as people of the locale write it (the renderer's rule, for inline text)."""
    return human(value, "date", i18n.language())
