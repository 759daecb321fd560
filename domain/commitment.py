"""The minimum-term commitment: its months, the early-termination fee, what follows it.

The fee follows the loi Chatel (Code de la consommation L224-28): before month 13 what
remains due for year 1 is owed in full plus 25 % of year 2; from month 13 on, 25 % of what
remains. How months are counted is this project's choice, stated in `domain.md`: month k
begins on start + (k − 1) calendar months, always from the start date and clamped to the
month's end; the month in which the termination takes effect is served (it was invoiced in
advance), so the months owed are those not yet begun. Everything is integer cents and the
only rounding (half up) happens once, on the 25 % part, which is the only fractional term.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from domain.calendar import add_months, long_date, withdrawal_deadline
from domain.i18n import N_, Text
from domain.money import div_round_half_up
from domain.rules import RuleRefusal

__all__ = [
    "ALLOWED_COMMITMENTS",
    "TerminationFee",
    "check_withdrawal",
    "commitment_end",
    "equipment_return_deadline",
    "month_index",
    "month_start",
    "return_reference",
    "termination_fee",
    "equipment_label",
]

# The kinds of equipment in words (tables, findings, the termination summary); the API's
# code stays in json/csv.
EQUIPMENT_KINDS = {"box": N_("box"), "antenna": N_("antenna")}


def equipment_label(kind: object) -> Text | str:
    """`antenna` → "antenna" / "antenne" where shown; an unknown kind as the API sent it."""
    known = EQUIPMENT_KINDS.get(str(kind))
    return Text(known) if known else str(kind)


ALLOWED_COMMITMENTS = frozenset({0, 12, 24})
"""Commitment lengths offered, in months; over 24 months is banned (L224-28)."""

EQUIPMENT_RETURN_DAYS = 30
EQUIPMENT_RETURN_DAYS_AFTER_EXCHANGE = 40


def month_start(start: date, k: int) -> date:
    """First day of month `k` (1-based) of a commitment starting on `start`."""
    return add_months(start, k - 1)


def commitment_end(start: date, months: int) -> date:
    """Last day of the commitment: the day before start + `months` months.

    With `months == 0` this is the day before `start`: an empty commitment that has
    already ended, so every "is it still running" comparison answers no.
    """
    if months < 0:
        raise ValueError(f"a commitment cannot last a negative number of months ({months})")
    return add_months(start, months) - timedelta(days=1)


def month_index(start: date, on: date) -> int:
    """Which month of the commitment `on` falls in (1-based), 0 before `start`.

    Not capped at the commitment length: after the end it keeps counting, which lets the
    caller compare it with the number of months.
    """
    if on < start:
        return 0
    k = (on.year - start.year) * 12 + (on.month - start.month) + 1
    # Month k begins in on's calendar month; if it begins later in that month, on is
    # still in month k - 1.
    if month_start(start, k) > on:
        k -= 1
    return k


@dataclass(frozen=True)
class TerminationFee:
    """The fee owed for ending a commitment early, with every term of its computation.

    The terms are kept so that the quote can be explained line by line to the customer.
    `year2_cents` is 25 % of the year-2 months, rounded half up; `year1_cents` is exact;
    `chatel_fee_cents` is their sum, i.e. the exact legal amount rounded once.
    """

    effective_date: date
    months_remaining_year1: int
    months_remaining_year2: int
    monthly_price_cents: int
    year1_cents: int
    year2_cents: int
    chatel_fee_cents: int
    provider_fee_cents: int
    total_cents: int


def termination_fee(
    monthly_price_cents: int,
    commitment_months: int,
    commitment_start: date,
    effective_date: date,
    provider_fee_cents: int = 0,
) -> TerminationFee:
    """The fee for a termination taking effect on `effective_date`.

    Months remaining are those of the commitment not yet begun on `effective_date`.
    For a 24-month commitment those among months 1-12 are owed in full and those among
    months 13-24 at 25 %; for a 12-month commitment all are owed in full; nothing is owed
    once the commitment is over or with no commitment. `provider_fee_cents` (a fee from
    the provider's price list) is added on top.
    """
    if commitment_months not in ALLOWED_COMMITMENTS:
        raise ValueError(
            f"a commitment lasts 0, 12 or 24 months, not {commitment_months} "
            "(over 24 months is banned by L224-28)"
        )
    if monthly_price_cents < 0:
        raise ValueError(f"the monthly price cannot be negative ({monthly_price_cents} cents)")
    if provider_fee_cents < 0:
        raise ValueError(f"the provider's fee cannot be negative ({provider_fee_cents} cents)")

    served = min(month_index(commitment_start, effective_date), commitment_months)
    first_year = min(commitment_months, 12)
    remaining_year1 = max(first_year - served, 0)
    remaining_year2 = commitment_months - max(served, first_year)

    year1_cents = remaining_year1 * monthly_price_cents
    year2_cents = div_round_half_up(remaining_year2 * monthly_price_cents, 4)
    chatel_fee_cents = year1_cents + year2_cents
    return TerminationFee(
        effective_date=effective_date,
        months_remaining_year1=remaining_year1,
        months_remaining_year2=remaining_year2,
        monthly_price_cents=monthly_price_cents,
        year1_cents=year1_cents,
        year2_cents=year2_cents,
        chatel_fee_cents=chatel_fee_cents,
        provider_fee_cents=provider_fee_cents,
        total_cents=chatel_fee_cents + provider_fee_cents,
    )


def equipment_return_deadline(terminated_on: date, exchanged: bool) -> date:
    """Last day to return lent equipment: 30 days after termination, 40 after an exchange.

    Not moved to a business day: the seed states calendar days, and a parcel can be
    deposited at a relay point on a Saturday.
    """
    days = EQUIPMENT_RETURN_DAYS_AFTER_EXCHANGE if exchanged else EQUIPMENT_RETURN_DAYS
    return terminated_on + timedelta(days=days)


def return_reference(contract_id: str, terminated_on: date) -> str:
    """The return reference written on the equipment parcel: `RM-YYYYMMDD-XXXXXXXX`.

    Deterministic (the same termination always gets the same reference, so a replayed
    request or a reprinted label agrees) and derived through a hash so it does not expose
    the contract id on the outside of a parcel.
    """
    digest = hashlib.sha256(f"{contract_id}|{terminated_on.isoformat()}".encode()).hexdigest()
    return f"RM-{terminated_on:%Y%m%d}-{digest[:8].upper()}"


def check_withdrawal(start: date, today: date, days: int = 14) -> None:
    """Refuse a withdrawal after its deadline (L221-18); the detail gives the deadline.

    `start` is the contract date for services, the receipt of the first item for goods and
    partworks; the deadline is `calendar.withdrawal_deadline(start, days)`, inclusive.
    """
    deadline = withdrawal_deadline(start, days)
    if today > deadline:
        raise RuleRefusal(
            "withdrawal_period_over",
            "withdrawal.period",
            Text(
                N_(
                    "the {days}-day withdrawal period starting on {start} ended on {deadline}; "
                    "today is {today}"
                ),
                days=days,
                start=long_date(start),
                deadline=long_date(deadline),
                today=long_date(today),
            ),
        )
