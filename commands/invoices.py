"""`moncompte invoices [list] | show ID [--explain] | download ID [--to FILE|-]`.

`invoices` alone lists, as the README's quick start runs it. The list streams page after
page from the API (`ApiClient.paginate`) into the renderer: JSON lines and CSV never hold
every invoice in memory; only tables, which need the whole set to align columns and add
the totals row, are materialised.

`download` writes the PDF through a temporary file in the destination directory and
`os.replace`/`os.link`, so an interrupted run (Ctrl-C, a dropped connection) never leaves a
half-written PDF behind and an existing file is replaced only with `--force`. The option is
`--to` because `-o` is the global output format.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import itertools
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.bulk import NO_BULK, BulkSpec, Lookup, bulk_options, list_rows, run_bulk
from cli.complete import invoice_ids, remember_ids
from cli.context import Env
from cli.errors import UsageError
from cli.i18n import _
from cli.output import Column, human
from domain.money import format_money

app = typer.Typer(
    help="Invoices: list, show, download. Without a subcommand: list them.",
    rich_markup_mode=None,
)

# The server's default page; asked for explicitly so a small --limit fetches no more.
PAGE_SIZE = 50
HUMAN_FORMATS = ("table", "markdown")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Status(enum.StrEnum):
    unpaid = "unpaid"
    paid = "paid"
    failed = "failed"
    all = "all"


def parse_date(value: str | None, option: str) -> dt.date | None:
    """A strict YYYY-MM-DD (fromisoformat alone would also take 20261124 or 2026-W48-2)."""
    if value is None:
        return None
    if _ISO_DATE.fullmatch(value):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value)
    raise UsageError(
        _("invalid {option} {value!r}: expected a date as YYYY-MM-DD").format(
            option=option, value=value
        ),
        hint=_("for example {option} 2026-11-24").format(option=option),
    )


# --- list ---------------------------------------------------------------------------------------


def list_columns() -> list[Column]:
    # Keys are the API's field names (what json/csv print); headers are for people.
    return [
        Column("id", _("invoice")),
        Column("contract_id", _("contract")),
        Column("issue_date", _("issued"), "date"),
        Column("period_start", _("from"), "date"),
        Column("period_end", _("to"), "date"),
        Column("debit_date", _("debit"), "date"),
        Column("total_cents", _("total"), "money"),
        Column("debited_cents", _("debited"), "money"),
        Column("status", _("status")),
    ]


def machine_columns() -> list[Column]:
    """json/ndjson/csv: every field of the API's list item, under its own name."""
    return [
        *list_columns(),
        Column("debit_date_moved_reason", "debit_date_moved_reason"),
    ]


# The list's options, shared by `invoices list` and bare `invoices` (the quick start's
# `moncompte invoices --status unpaid` must work, not only `invoices list --status unpaid`).
SinceOpt = Annotated[
    str | None,
    typer.Option("--since", metavar="YYYY-MM-DD", help="Issued on or after this date."),
]
UntilOpt = Annotated[
    str | None,
    typer.Option("--until", metavar="YYYY-MM-DD", help="Issued on or before this date."),
]
StatusOpt = Annotated[
    Status, typer.Option("--status", help="unpaid (unpaid or failed), paid, failed, all.")
]
ContractOpt = Annotated[
    str | None, typer.Option("--contract", metavar="ID", help="Only this contract's invoices.")
]
LimitOpt = Annotated[
    int | None,
    typer.Option("--limit", min=1, metavar="N", help="At most N invoices (newest first)."),
]


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
                since=start.isoformat(), until=end.isoformat()
            )
        )
    if bulk:
        _bulk_list(env, bulk, status, start, end, contract, limit)
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
        table = [{**r, "status": status_label(str(r.get("status")))} for r in rows]
        totals = {"total_cents": sum(int(r.get("total_cents") or 0) for r in table)}
        out.render(table, list_columns(), title=_("Invoices"), totals=totals)
        if not table:
            out.notice(_("no invoice matches"))
    else:
        out.render(rows, machine_columns())


def _bulk_list(
    env: Env,
    bulk: BulkSpec,
    status: Status,
    start: dt.date | None,
    end: dt.date | None,
    contract: str | None,
    limit: int | None,
) -> None:
    """Staff, many customers: `POST /v1/lookup` filters on the status; the dates, the
    contract and the per-customer --limit are applied here to each customer's list."""
    since, until = (start.isoformat() if start else None), (end.isoformat() if end else None)

    def rows_of(_customer_id: str, data: Any) -> Iterable[Mapping[str, Any]]:
        kept = (
            r
            for r in list_rows(_customer_id, data)
            if (since is None or str(r.get("issue_date")) >= since)
            and (until is None or str(r.get("issue_date")) <= until)
            and (contract is None or r.get("contract_id") == contract)
        )
        return list(itertools.islice(kept, limit))

    run_bulk(env, bulk, Lookup("invoices", {"status": status.value}), machine_columns(), rows_of)


# --- show ---------------------------------------------------------------------------------------


def header_fields() -> list[Column]:
    return [
        Column("id", _("invoice")),
        Column("contract_id", _("contract")),
        Column("issue_date", _("issued"), "date"),
        Column("period_start", _("period from"), "date"),
        Column("period_end", _("period to"), "date"),
        Column("debit_date", _("debit date"), "date"),
        Column("debit_date_moved_reason", _("debit date moved")),
        Column("total_cents", _("total"), "money"),
        Column("debited_cents", _("debited"), "money"),
        Column("status", _("status")),
    ]


def status_label(status: str) -> str:
    """An invoice's status in words (tables only; json/csv keep the API's code)."""
    labels = {"paid": _("paid"), "unpaid": _("unpaid"), "failed": _("failed")}
    return labels.get(status, status)


def kind_label(kind: str) -> str:
    """An invoice line's kind in words (the code itself stays in json/csv)."""
    labels = {
        "subscription": _("subscription"),
        "prorata": _("prorata"),
        "activation": _("activation fee"),
        "out_of_plan": _("out of plan"),
        "option": _("option"),
        "instalment": _("instalment"),
        "fee": _("fee"),
        "gesture": _("commercial gesture"),
    }
    return labels.get(kind, kind)


def line_columns() -> list[Column]:
    return [
        Column("label", _("line")),
        Column("kind", _("kind")),
        Column("amount_cents", _("amount"), "money"),
    ]


def _machine_line_columns() -> list[Column]:
    return [
        Column("invoice_id", "invoice_id"),
        Column("position", "position", "int"),
        Column("label", "label"),
        Column("kind", "kind"),
        Column("amount_cents", "amount_cents", "money"),
        Column("explanation", "explanation"),
    ]


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
        out.render(rows, _machine_line_columns())
        return
    header = {**invoice, "status": status_label(str(invoice.get("status")))}
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


def explanation(
    invoice: Mapping[str, Any], lines: Iterable[Mapping[str, Any]], locale: str
) -> Iterator[str]:
    """Each line in words, then the debit date and why it moved. The sentences come from
    the server, which knows the tariff; the CLI only lays them out."""
    yield _("How this invoice is made up:")
    for n, line in enumerate(lines, 1):
        amount = format_money(int(line.get("amount_cents") or 0), locale)
        yield f"{n}. {line.get('label')} ({kind_label(str(line.get('kind')))}): {amount}"
        why = line.get("explanation")
        if why:
            yield f"   {why}"
    total = format_money(int(invoice.get("total_cents") or 0), locale)
    yield _("Total: {total}").format(total=total)
    debit = human(invoice.get("debit_date"), "date", locale)
    moved = invoice.get("debit_date_moved_reason")
    if moved:
        yield _("Debit date moved to {date}: {reason}").format(date=debit, reason=moved)
    elif invoice.get("debit_date"):
        yield _("Debited on {date}.").format(date=debit)
    debited = invoice.get("debited_cents")
    if isinstance(debited, int) and debited != invoice.get("total_cents"):
        yield _("Warning: {debited} was debited for a total of {total}.").format(
            debited=format_money(debited, locale), total=total
        )


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
        env.out.bytes(_fetch_pdf(env, invoice_id))
        return
    dest = Path(os.path.expanduser(to)) if to else Path(_safe_name(invoice_id) + ".pdf")
    if dest.is_dir():
        dest = dest / (_safe_name(invoice_id) + ".pdf")
    # Checked before the download too, so a refusal costs no request.
    if dest.exists() and not force:
        raise UsageError(
            _("{path} already exists").format(path=dest), hint=_("add --force to replace it")
        )
    if not dest.parent.is_dir():
        raise UsageError(_("no such directory: {path}").format(path=dest.parent))
    if dest.exists() and not dest.is_file():
        # --force replaces a file, never a device such as /dev/full (a rename would).
        raise UsageError(f"cannot write {dest}: not a regular file")
    try:
        write_atomically(dest, _fetch_pdf(env, invoice_id), force=force)
    except OSError as exc:  # a read-only or full file system, no permission
        raise UsageError(f"cannot write {dest}: {exc.strerror or exc}") from exc
    env.out.notice(_("saved {path}").format(path=dest))
    if env.out.fmt in ("json", "ndjson"):
        env.out.text(json.dumps({"id": invoice_id, "path": str(dest)}, ensure_ascii=False))


def _fetch_pdf(env: Env, invoice_id: str) -> bytes:
    data = env.api().get_bytes(f"/v1/invoices/{invoice_id}/pdf")
    if not data.startswith(b"%PDF-"):
        raise UsageError(_("the server did not answer a PDF for {id}").format(id=invoice_id))
    return data


def _safe_name(invoice_id: str) -> str:
    """The default file name: the id with anything but letters, digits, - and _ replaced."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", invoice_id) or "invoice"


def write_atomically(dest: Path, data: bytes, *, force: bool) -> None:
    """Write `data` to `dest` via a temporary file beside it: readers (and a Ctrl-C) see
    either no file or the whole one. Without `force`, a file that appeared meanwhile is
    not replaced: `os.link` fails on an existing name, where `os.replace` would clobber."""
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        # 0600 from mkstemp: an invoice carries personal data (name, address, amounts).
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, dest)
        else:
            try:
                os.link(tmp, dest)
            except FileExistsError:
                raise UsageError(
                    _("{path} already exists").format(path=dest),
                    hint=_("add --force to replace it"),
                ) from None
            except OSError:  # a file system without hard links: best effort
                if dest.exists():
                    raise UsageError(
                        _("{path} already exists").format(path=dest),
                        hint=_("add --force to replace it"),
                    ) from None
                os.replace(tmp, dest)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
