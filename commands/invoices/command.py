"""The `moncompte invoices` Typer app and its commands: list (also bare `invoices`), show,
download. Options are parsed here, the API called and the result rendered; the columns,
the words and the PDF file handling are the package's other modules."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

import typer

from cli.complete import invoice_ids, remember_ids
from cli.context import Env
from cli.errors import UsageError
from cli.files import cannot_write
from cli.i18n import _
from cli.output import human
from commands.bulk import NO_BULK, BulkSpec, bulk_options
from commands.invoices.columns import (
    header_fields,
    line_columns,
    list_columns,
    machine_columns,
    machine_line_columns,
)
from commands.invoices.options import (
    ContractOpt,
    LimitOpt,
    SinceOpt,
    Status,
    StatusOpt,
    UntilOpt,
    parse_date,
)
from commands.invoices.pdf import destination, fetch_pdf, write_atomically
from commands.invoices.staff import bulk_list
from commands.invoices.views import explanation, kind_label, with_words

app = typer.Typer(
    help="Invoices: list, show, download. Without a subcommand: list them.",
    rich_markup_mode=None,
)

# The server's default page; asked for explicitly so a small --limit fetches no more.
PAGE_SIZE = 50
HUMAN_FORMATS = ("table", "markdown")


# --- list ---------------------------------------------------------------------------------------


@app.callback(invoke_without_command=True)
@bulk_options
def invoices(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    status: StatusOpt = Status.all,
    contract: ContractOpt = None,
    limit: LimitOpt = None,
    bulk: BulkSpec = NO_BULK,
) -> None:
    """Invoices: list (the default, with the list's options), show, download."""
    if ctx.invoked_subcommand is None:
        _list(Env.of(ctx), since, until, status, contract, limit, bulk)
    elif (since, until, status, contract, limit) != (None, None, Status.all, None, None) or bulk:
        raise UsageError(
            _("list options go after 'invoices' alone or after 'invoices list'"),
            hint=_("for example: moncompte invoices --status unpaid"),
        )


@app.command("list")
@bulk_options
def list_(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    status: StatusOpt = Status.all,
    contract: ContractOpt = None,
    limit: LimitOpt = None,
    bulk: BulkSpec = NO_BULK,
) -> None:
    """List invoices, newest first, with a totals row in tables."""
    _list(Env.of(ctx), since, until, status, contract, limit, bulk)


def _list(
    env: Env,
    since: str | None,
    until: str | None,
    status: Status,
    contract: str | None,
    limit: int | None,
    bulk: BulkSpec = NO_BULK,
) -> None:
    start, end = parse_date(since, "--since"), parse_date(until, "--until")
    if limit is not None:
        limit = min(limit, sys.maxsize)  # islice refuses more; nobody has that many anyway
    if start is not None and end is not None and start > end:
        raise UsageError(
            _("--since {since} is after --until {until}: no invoice can match").format(
                since=human(start.isoformat(), "date", env.locale),
                until=human(end.isoformat(), "date", env.locale),
            )
        )
    if bulk:
        bulk_list(env, bulk, status, start, end, contract, limit)
        return
    params: dict[str, str | int | float | bool | None] = {
        "status": status.value,
        "since": start.isoformat() if start else None,
        "until": end.isoformat() if end else None,
        "contract": contract,
    }
    page = min(limit, PAGE_SIZE) if limit is not None else PAGE_SIZE
    rows: Iterable[dict[str, Any]] = env.api().paginate("/v1/invoices", params, limit=page)
    if limit is not None:
        # islice stops pulling from the generator, so no page beyond the limit is fetched.
        rows = itertools.islice(rows, limit)
    rows = remember_ids(env, "invoices", rows)  # for completion of IDs (cli/complete.py)
    out = env.out
    if out.fmt in HUMAN_FORMATS:
        # Same keys as json/csv (so --columns names do not change), statuses in words.
        table = [with_words(r) for r in rows]
        totals = {"total_cents": sum(int(r.get("total_cents") or 0) for r in table)}
        out.render(table, list_columns(), title=_("Invoices"), totals=totals)
        if not table:
            out.notice(_("no invoice matches"))
    else:
        out.render(rows, machine_columns())


# --- show ---------------------------------------------------------------------------------------


@app.command("show")
def show(
    ctx: typer.Context,
    invoice_id: Annotated[
        str, typer.Argument(metavar="ID", help="An invoice id.", autocompletion=invoice_ids)
    ],
    explain: Annotated[
        bool, typer.Option("--explain", help="Explain each line, and a moved debit date.")
    ] = False,
) -> None:
    """One invoice: its dates, totals and lines; --explain says where each amount comes from."""
    env = Env.of(ctx)
    invoice = env.api().get(f"/v1/invoices/{invoice_id}")
    lines: list[Mapping[str, Any]] = list(invoice.get("lines") or [])
    out = env.out
    if out.fmt == "json":  # the invoice as the API gives it: lines and explanations included
        out.json(invoice)
        return
    if out.fmt in ("ndjson", "csv", "tsv"):  # flat: one row per line
        rows = (
            {**line, "invoice_id": invoice.get("id"), "position": n}
            for n, line in enumerate(lines, 1)
        )
        out.render(rows, machine_line_columns())
        return
    header = with_words(invoice)
    out.render_one(header, header_fields(), title=_("Invoice {id}").format(id=invoice.get("id")))
    out.text("")
    out.render(
        [{**line, "kind": kind_label(str(line.get("kind")))} for line in lines],
        line_columns(),
        title=_("Lines"),
        totals={"amount_cents": sum(int(line.get("amount_cents") or 0) for line in lines)},
    )
    if explain:
        out.text("")
        for text in explanation(invoice, lines, env.locale):
            out.text(text)


# --- download -----------------------------------------------------------------------------------


@app.command("download")
def download(
    ctx: typer.Context,
    invoice_id: Annotated[
        str, typer.Argument(metavar="ID", help="An invoice id.", autocompletion=invoice_ids)
    ],
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="FILE",
            help="Where to write the PDF (default: ID.pdf here); - for stdout.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Download an invoice as a PDF."""
    env = Env.of(ctx)
    if to == "-":
        if env.stdout_isatty:
            raise UsageError(
                _("refusing to write a PDF to the terminal"),
                hint=_("redirect stdout (> {name}.pdf) or give --to FILE").format(name=invoice_id),
            )
        env.out.bytes(fetch_pdf(env, invoice_id))
        return
    dest = destination(to, invoice_id, force=force)
    try:
        write_atomically(dest, fetch_pdf(env, invoice_id), force=force)
    except OSError as exc:  # a read-only or full file system, no permission
        raise cannot_write(dest, exc) from exc
    env.out.notice(_("saved {path}").format(path=dest))
    if env.out.fmt in ("json", "ndjson"):
        env.out.text(json.dumps({"id": invoice_id, "path": str(dest)}, ensure_ascii=False))
