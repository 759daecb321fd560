"""How an invoice reads to people: statuses and line kinds in words, the `--explain` text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from cli.i18n import _, localized
from cli.output import human
from domain.calendar import debit_moved_reason
from domain.money import format_money


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


def moved_reason(invoice: Mapping[str, Any]) -> Any:
    """Why the debit moved, in the user's language: the server sends the English sentence
    of domain.calendar's rule; when the same rule gives the same sentence here, its
    translation is shown, else the server's own words."""
    sent = invoice.get("debit_date_moved_reason")
    debit = str(invoice.get("debit_date") or "")
    if not sent or len(debit) < 10:
        return sent
    try:
        day = dt.date.fromisoformat(debit[:10])
    except ValueError:
        return sent
    ours = debit_moved_reason(day.year, day.month)
    return localized(ours) if ours is not None and ours == sent else sent


def with_words(invoice: Mapping[str, Any]) -> dict[str, Any]:
    """Status and moved reason in words for tables (json/csv keep the API's values)."""
    return {
        **invoice,
        "status": status_label(str(invoice.get("status"))),
        "debit_date_moved_reason": moved_reason(invoice),
    }


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
    moved = moved_reason(invoice)
    if moved:
        yield _("Debit date moved to {date}: {reason}").format(date=debit, reason=moved)
    elif invoice.get("debit_date"):
        yield _("Debited on {date}.").format(date=debit)
    debited = invoice.get("debited_cents")
    if isinstance(debited, int) and debited != invoice.get("total_cents"):
        yield _("Warning: {debited} was debited for a total of {total}.").format(
            debited=format_money(debited, locale), total=total
        )
