"""The list's options, shared by `invoices list` and bare `invoices`, and their parsing:
the statuses, and dates as a strict YYYY-MM-DD."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import re
from typing import Annotated

import typer

from cli.errors import UsageError
from cli.i18n import _

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
