"""French business days and the billing calendar built on them.

Invoices are issued on the 2nd and debited on the 5th, both moved to the next business day
(Monday to Friday, minus metropolitan French public holidays from the `holidays` package).
The server asks for these dates once per invoice for thousands of customers, so the holidays
of each year are computed once and kept (`_holidays_of_year`).

This module deliberately does not import the standard library's `calendar`, whose name it
shares; month lengths are computed with `datetime` arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType

import holidays

from domain.i18n import N_, Text

__all__ = [
    "DEBIT_DAY",
    "INVOICE_DAY",
    "add_months",
    "days_in_month",
    "debit_date",
    "debit_moved_reason",
    "format_long_date",
    "holiday_name",
    "invoice_date",
    "is_business_day",
    "long_date",
    "roll_forward",
    "withdrawal_deadline",
]

INVOICE_DAY = 2
DEBIT_DAY = 5

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# The same names for `long_date`, marked for the catalogue (French: "avril", lower case).
_MONTH_NAMES = (
    N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
    N_("July"), N_("August"), N_("September"), N_("October"), N_("November"), N_("December"),
)  # fmt: skip
_WEEKDAY_NAMES = (
    N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
    N_("Saturday"), N_("Sunday"),
)  # fmt: skip
# The English names `holidays` gives the metropolitan French public holidays, marked for
# the catalogue so that a reason reads "lundi de Pâques" in French. A name a later release
# of `holidays` changes stays English in French until the catalogue follows.
_HOLIDAY_NAMES = (
    N_("New Year's Day"), N_("Easter Monday"), N_("Labor Day"), N_("Victory Day"),
    N_("Ascension Day"), N_("Pentecost Monday"), N_("National Day"), N_("Assumption Day"),
    N_("All Saints' Day"), N_("Armistice Day"), N_("Christmas Day"),
)  # fmt: skip


@lru_cache(maxsize=64)
def _holidays_of_year(year: int) -> Mapping[date, str]:
    """Metropolitan French public holidays of one year, with their English names.

    A plain read-only mapping per year rather than one growing `HolidayBase`: lookups are a
    dict access, the cache is bounded, and nothing shared is ever mutated by a caller.
    """
    table = holidays.country_holidays("FR", years=year, language="en_US")
    return MappingProxyType(dict(table.items()))


def holiday_name(d: date) -> str | None:
    """The English name of the French public holiday on `d`, or None."""
    return _holidays_of_year(d.year).get(d)


def is_business_day(d: date) -> bool:
    """Monday to Friday and not a French public holiday."""
    return d.weekday() < 5 and d not in _holidays_of_year(d.year)


def roll_forward(d: date) -> date:
    """`d` itself if it is a business day, else the next business day."""
    while not is_business_day(d):
        d += timedelta(days=1)
    return d


def days_in_month(year: int, month: int) -> int:
    """Number of days in a month (28 to 31)."""
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return (first_of_next - timedelta(days=1)).day


def add_months(d: date, months: int) -> date:
    """`d` plus a number of calendar months, clamped to the last day of the target month.

    31 January + 1 month is 28 (or 29) February. Rules that count months (commitment
    months, mediator delays) always add to the original date, never step month by month,
    so the clamping never accumulates (31 Jan + 2 months is 31 March, not 28 March).
    """
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    return date(year, month, min(d.day, days_in_month(year, month)))


def invoice_date(year: int, month: int) -> date:
    """Issue date of the monthly invoice: the 2nd, moved to the next business day."""
    return roll_forward(date(year, month, INVOICE_DAY))


def debit_date(year: int, month: int) -> date:
    """SEPA debit date of the monthly invoice: the 5th, moved to the next business day."""
    return roll_forward(date(year, month, DEBIT_DAY))


def format_long_date(d: date) -> str:
    """`5 April 2026`: the unambiguous English form used in rule details."""
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def long_date(d: date) -> Text:
    """`format_long_date` as a `domain.i18n.Text`: "5 April 2026" in English (the same
    string), "5 avril 2026" in French. Rule refusals name their dates this way."""
    # Translators: a date written out, e.g. "5 April 2026"; {month} is the month's name.
    return Text(
        N_("{day} {month} {year}"), day=d.day, month=Text(_MONTH_NAMES[d.month - 1]), year=d.year
    )


def _why_not_business_day(d: date) -> Text:
    weekday = d.weekday()
    name = holiday_name(d)
    day, weekday_name = long_date(d), Text(_WEEKDAY_NAMES[weekday])
    if weekday >= 5 and name is not None:
        return Text(
            N_("{date} is a {weekday} and {holiday} (public holiday)"),
            date=day,
            weekday=weekday_name,
            holiday=Text(name),
        )
    if weekday >= 5:
        return Text(N_("{date} is a {weekday}"), date=day, weekday=weekday_name)
    return Text(N_("{date} is {holiday} (public holiday)"), date=day, holiday=Text(name or ""))


def debit_moved_reason(year: int, month: int) -> Text | None:
    """Why the debit of a month is not on the 5th, naming every day skipped; None if it is.

    Customers see this next to the debit date on an invoice, so an unexpected date always
    comes with its reason: "5 April 2026 is a Sunday and 6 April 2026 is Easter Monday
    (public holiday)". The API sends the English sentence; the CLI words it again in the
    user's language from these same rules.
    """
    day = date(year, month, DEBIT_DAY)
    reasons = []
    while not is_business_day(day):
        reasons.append(_why_not_business_day(day))
        day += timedelta(days=1)
    if not reasons:
        return None
    if len(reasons) == 1:
        return reasons[0]
    return Text(
        N_("{reasons} and {last}"), reasons=Text.joined(reasons[:-1], ", "), last=reasons[-1]
    )


def withdrawal_deadline(start: date, days: int = 14) -> date:
    """Last day to withdraw: `start` + `days`, moved to the next business day (L221-18)."""
    return roll_forward(start + timedelta(days=days))
