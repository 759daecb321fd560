"""The `moncompte calendar` command: fetch the account once, list its events over the
next months, write them as iCalendar to a file (atomically) or to stdout."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from cli.context import Env
from cli.errors import UsageError
from cli.i18n import _
from commands.calendar.ics import build_calendar
from commands.claim.message import atomic_write_bytes
from commands.status.fetch import customer_account, own_account
from domain.agenda import events
from domain.calendar import add_months

DEFAULT_MONTHS = 3
MAX_MONTHS = 24


def calendar(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="FILE.ics",
            help="Write the calendar to FILE.ics, replacing it (- for stdout).",
        ),
    ] = "-",
    months: Annotated[
        int,
        typer.Option(
            "--months",
            metavar="N",
            help=f"How many months ahead, from today (1 to {MAX_MONTHS}).",
        ),
    ] = DEFAULT_MONTHS,
    customer: Annotated[
        str | None,
        typer.Option(
            "--customer",
            metavar="ID",
            help="Staff: the calendar of this customer.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Upcoming debits, instalments, invoice dates and deadlines, as an iCalendar file.

    The dates are those `invoices`, `schedule` and `status` show: monthly invoices on the
    2nd and debits on the 5th, each moved to the next business day (projected from the
    monthly price until the invoice is issued), instalments on their debit date, the
    withdrawal and commitment ends, equipment return deadlines with their RM- reference,
    and when the mediator may be seized for a claim. Each event has a UID derived from
    what it is (`instalment-CT-0000003-3@moncompte`), so importing the file again updates
    the events instead of adding copies. Summaries follow the language (LANG).
    """
    env = Env.of(ctx)
    if not 1 <= months <= MAX_MONTHS:
        raise UsageError(
            _("--months must be between 1 and {max}, not {value}").format(
                max=MAX_MONTHS, value=months
            )
        )
    path = None if to == "-" else Path(os.path.expanduser(to))
    if path is not None:
        _check_destination(path)
    data = customer_account(env, customer) if customer else own_account(env)
    today = env.today()
    found = events(data, today, add_months(today, months))
    who = data.customer.get("id") or customer or ""
    document = build_calendar(
        found, name=f"moncompte {who}".strip(), locale=env.locale, stamp=env.now()
    )
    if path is None:
        env.out.bytes(document)
        return
    atomic_write_bytes(path, document)
    env.out.notice(_("{n} events written to {path}").format(n=len(found), path=path))


def _check_destination(path: Path) -> None:
    """Refuse a destination that cannot be written before any request is made (the write
    itself checks again, and is atomic)."""
    if path.is_dir():
        raise UsageError(
            _("{path} is a directory").format(path=path), hint=_("give a file name: --to FILE.ics")
        )
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(_("cannot write {path}: no such directory").format(path=path))
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(_("cannot write {path}: permission denied").format(path=path))
