"""`moncompte customers list|search|show`: the staff view of customers.

`list` and `search` read `GET /v1/customers` (sorted by id, cursor pagination): one page
by default, every page with `--all`, streamed to json/ndjson/csv as the pages arrive, so
`customers list --all --columns id -o csv > ids.csv` makes a file of IDs that
`--customers-file` reads back (its `id` header line is skipped).

`show ID` is one customer; `show ID ID ...`, `--customer` and `--customers-file` are a bulk
lookup (`commands.bulk`): 100 customers a request, one JSON line per customer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any

import typer

from cli.context import Env
from cli.errors import AuthError, NotFoundError, UsageError
from cli.i18n import _
from cli.output import Column
from commands.bulk import NO_BULK, BulkSpec, Lookup, bulk_options, run_bulk, single_row

app = typer.Typer(
    help="Staff: list, search and show customers (a staff login is needed).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

PAGE_SIZE = 50  # the server's default page
ALL_PAGE_SIZE = 500  # the server's maximum: --all walks the list in the fewest requests
HUMAN_FORMATS = ("table", "markdown")


def list_columns() -> list[Column]:
    """The columns of `list` and `search`; keys are the API's fields (dotted for nested)."""
    return [
        Column("id", _("id")),
        Column("customer_number", _("customer no.")),
        Column("first_name", _("first name")),
        Column("last_name", _("last name")),
        Column("email", _("email")),
        Column("phone", _("phone")),
        Column("address.postcode", _("postcode")),
        Column("address.city", _("city")),
    ]


def detail_fields() -> list[Column]:
    return [
        *list_columns(),
        Column("address.line1", _("address")),
        Column("address.country", _("country")),
        Column("terms_version_accepted", _("terms accepted")),
        Column("restrictions", _("restrictions")),
    ]


def _restriction_columns() -> list[Column]:
    return [
        Column("feature", _("feature")),
        Column("reason", _("reason")),
        Column("since", _("since"), "date"),
    ]


LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit",
        min=1,
        metavar="N",
        help=f"At most N customers (default {PAGE_SIZE}; all with --all).",
        show_default=False,
    ),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every customer, page after page.")]


@app.command("list")
def list_(ctx: typer.Context, limit: LimitOpt = None, all_: AllOpt = False) -> None:
    """List customers, sorted by id (--all for every one of them)."""
    _list(Env.of(ctx), None, limit, all_)


@app.command("search")
def search(
    ctx: typer.Context,
    words: Annotated[
        list[str],
        typer.Argument(
            metavar="WORDS...",
            help="Words to find in the name, email, customer number or id; all must match.",
        ),
    ],
    limit: LimitOpt = None,
    all_: AllOpt = False,
) -> None:
    """Find customers: every word must appear in the name, email, number or id."""
    query = " ".join(w for w in words if w.strip())
    if not query:
        raise UsageError(_("search needs at least one word"))
    if len(query) > 200:
        raise UsageError(_("the search is too long (200 characters at most)"))
    _list(Env.of(ctx), query, limit, all_)


def _pages(env: Env, query: str | None, limit: int | None, all_: bool) -> Iterator[dict[str, Any]]:
    """The customers, page after page; says on stderr when more were left out."""
    wanted = None if all_ else (limit or PAGE_SIZE)
    size = ALL_PAGE_SIZE if wanted is None else min(wanted, ALL_PAGE_SIZE)
    params: dict[str, str | int | float | bool | None] = {"q": query, "limit": size}
    api = env.api()
    count = 0
    while True:
        try:
            page = api.get("/v1/customers", params)
        except NotFoundError as exc:
            if exc.status == 403:  # a customer's token on the staff collection
                raise AuthError(
                    _("listing customers needs a staff login"),
                    hint=_("log in as a support agent ('moncompte login')"),
                ) from None
            raise
        if not isinstance(page, dict) or not isinstance(page.get("items"), list):
            raise UsageError(_("GET /v1/customers did not answer a list of customers"))
        for item in page["items"]:
            if wanted is not None and count >= wanted:
                break
            count += 1
            yield item
        cursor = page.get("next_cursor")
        if not cursor:
            return
        if wanted is not None and count >= wanted:
            env.out.notice(_("more customers match: --all lists every one, --limit N more of them"))
            return
        params["cursor"] = cursor


def _list(env: Env, query: str | None, limit: int | None, all_: bool) -> None:
    if all_ and limit is not None:
        raise UsageError(_("--all and --limit cannot be used together"))
    rows = _pages(env, query, limit, all_)
    out = env.out
    count = out.render(rows, list_columns(), title=_("Customers"))
    if not count and out.fmt in HUMAN_FORMATS:
        out.notice(_("no customer matches"))


@app.command("show")
@bulk_options
def show(
    ctx: typer.Context,
    customer_ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[ID]...",
            help="Customer ids; several (or --customer, --customers-file) make a bulk lookup.",
            show_default=False,
        ),
    ] = None,
    bulk: BulkSpec = NO_BULK,
) -> None:
    """One customer in full; several are looked up in bulk, one JSON line each."""
    env = Env.of(ctx)
    ids = [i for i in customer_ids or [] if i.strip()]
    if len(ids) > 1 or bulk.active:
        spec = BulkSpec(
            customers=(*ids, *bulk.customers),
            customers_file=bulk.customers_file,
            concurrency=bulk.concurrency,
            rate=bulk.rate,
            errors=bulk.errors,
        )
        run_bulk(env, spec, Lookup("customer"), _bulk_columns(), single_row)
        return
    if not ids:
        raise UsageError(
            _("which customer?"),
            hint=_("give an ID, --customer ID or --customers-file FILE"),
        )
    customer = env.api().get(f"/v1/customers/{ids[0]}")
    _show_one(env, customer)


def _bulk_columns() -> list[Column]:
    """One row per customer: the flat fields (restrictions as a JSON list)."""
    return [c for c in detail_fields() if c.key != "id"]


def _show_one(env: Env, customer: Mapping[str, Any]) -> None:
    out = env.out
    if out.fmt == "json":
        out.json(customer)
        return
    if out.fmt not in HUMAN_FORMATS:
        out.render([customer], detail_fields())
        return
    restrictions = [r for r in customer.get("restrictions") or [] if isinstance(r, Mapping)]
    fields = [c for c in detail_fields() if c.key != "restrictions"]
    out.render_one(customer, fields, title=_("Customer {id}").format(id=customer.get("id")))
    if restrictions:
        out.text("")
        if not (out.fmt == "table" and out.isatty):
            out.text(_("Restrictions"))
        out.render(restrictions, _restriction_columns(), title=_("Restrictions"))
