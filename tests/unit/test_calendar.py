"""Business days, the billing dates built on them, and month arithmetic."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import (
    add_months,
    days_in_month,
    debit_date,
    debit_moved_reason,
    holiday_name,
    invoice_date,
    is_business_day,
    roll_forward,
    withdrawal_deadline,
)

# The metropolitan French public holidays of 2026 and 2027, listed by hand (Easter Sunday
# is 5 April 2026 and 28 March 2027; Ascension is Easter + 39 days, Whit Monday + 50).
HOLIDAYS_BY_HAND = {
    date(2026, 1, 1), date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 8),
    date(2026, 5, 14), date(2026, 5, 25), date(2026, 7, 14), date(2026, 8, 15),
    date(2026, 11, 1), date(2026, 11, 11), date(2026, 12, 25),
    date(2027, 1, 1), date(2027, 3, 29), date(2027, 5, 1), date(2027, 5, 6),
    date(2027, 5, 8), date(2027, 5, 17), date(2027, 7, 14), date(2027, 8, 15),
    date(2027, 11, 1), date(2027, 11, 11), date(2027, 12, 25),
}  # fmt: skip

# The debit date of every month of 2026 and 2027, worked out on a paper calendar.
DEBIT_DATES = {
    (2026, 1): date(2026, 1, 5),  # Monday
    (2026, 2): date(2026, 2, 5),
    (2026, 3): date(2026, 3, 5),
    (2026, 4): date(2026, 4, 7),  # Sunday 5, Easter Monday 6
    (2026, 5): date(2026, 5, 5),
    (2026, 6): date(2026, 6, 5),
    (2026, 7): date(2026, 7, 6),  # Sunday 5
    (2026, 8): date(2026, 8, 5),
    (2026, 9): date(2026, 9, 7),  # Saturday 5
    (2026, 10): date(2026, 10, 5),
    (2026, 11): date(2026, 11, 5),
    (2026, 12): date(2026, 12, 7),  # Saturday 5
    (2027, 1): date(2027, 1, 5),
    (2027, 2): date(2027, 2, 5),
    (2027, 3): date(2027, 3, 5),
    (2027, 4): date(2027, 4, 5),  # Easter Monday was 29 March
    (2027, 5): date(2027, 5, 5),  # Ascension is the 6th, after the 5th
    (2027, 6): date(2027, 6, 7),  # Saturday 5
    (2027, 7): date(2027, 7, 5),
    (2027, 8): date(2027, 8, 5),
    (2027, 9): date(2027, 9, 6),  # Sunday 5
    (2027, 10): date(2027, 10, 5),
    (2027, 11): date(2027, 11, 5),
    (2027, 12): date(2027, 12, 6),  # Sunday 5
}


def _business_by_hand(d: date) -> bool:
    return d.weekday() < 5 and d not in HOLIDAYS_BY_HAND


def _roll_by_hand(d: date) -> date:
    while not _business_by_hand(d):
        d += timedelta(days=1)
    return d


MONTHS_2026_2027 = [(y, m) for y in (2026, 2027) for m in range(1, 13)]


def test_holiday_list_matches_the_holidays_package() -> None:
    day = date(2026, 1, 1)
    while day.year < 2028:
        assert (holiday_name(day) is not None) == (day in HOLIDAYS_BY_HAND), day
        day += timedelta(days=1)


@pytest.mark.parametrize(("year", "month"), MONTHS_2026_2027)
def test_debit_date_every_month_2026_2027(year: int, month: int) -> None:
    expected = DEBIT_DATES[(year, month)]
    assert expected == _roll_by_hand(date(year, month, 5))
    assert debit_date(year, month) == expected


@pytest.mark.parametrize(("year", "month"), MONTHS_2026_2027)
def test_invoice_date_every_month_2026_2027(year: int, month: int) -> None:
    assert invoice_date(year, month) == _roll_by_hand(date(year, month, 2))


def test_invoice_date_examples() -> None:
    assert invoice_date(2026, 1) == date(2026, 1, 2)  # Friday
    assert invoice_date(2026, 5) == date(2026, 5, 4)  # Saturday 2 -> Monday 4
    assert invoice_date(2027, 1) == date(2027, 1, 4)  # Saturday 2 -> Monday 4


@pytest.mark.parametrize(("year", "month"), MONTHS_2026_2027)
def test_debit_moved_reason_only_when_moved(year: int, month: int) -> None:
    reason = debit_moved_reason(year, month)
    moved = DEBIT_DATES[(year, month)].day != 5
    assert (reason is not None) == moved
    if reason is not None:
        assert reason.startswith(f"5 {date(year, month, 1):%B} {year} is ")


def test_debit_moved_reason_names_each_skipped_day() -> None:
    assert debit_moved_reason(2026, 4) == (
        "5 April 2026 is a Sunday and 6 April 2026 is Easter Monday (public holiday)"
    )
    assert debit_moved_reason(2026, 9) == (
        "5 September 2026 is a Saturday and 6 September 2026 is a Sunday"
    )
    assert debit_moved_reason(2026, 7) == "5 July 2026 is a Sunday"
    assert debit_moved_reason(2026, 1) is None


def test_invoice_and_debit_can_fall_on_the_same_day() -> None:
    assert invoice_date(1990, 6) == debit_date(1990, 6) == date(1990, 6, 5)


def test_debit_moved_by_a_holiday_on_a_weekday() -> None:
    # Easter Monday on 5 April 2021: a Monday holiday.
    assert debit_date(2021, 4) == date(2021, 4, 6)
    assert debit_moved_reason(2021, 4) == "5 April 2021 is Easter Monday (public holiday)"


def test_is_business_day() -> None:
    assert is_business_day(date(2026, 4, 7))
    assert not is_business_day(date(2026, 4, 6))  # Easter Monday
    assert not is_business_day(date(2026, 4, 4))  # Saturday
    assert not is_business_day(date(2026, 4, 5))  # Sunday
    assert not is_business_day(date(2026, 7, 14))
    assert not is_business_day(date(2026, 5, 25))  # Whit Monday
    assert is_business_day(date(2026, 12, 24))
    assert is_business_day(date(2026, 12, 26)) is False  # Saturday
    # Alsace-Moselle's Good Friday and 26 December are not metropolitan holidays.
    assert is_business_day(date(2026, 4, 3))
    assert is_business_day(date(2025, 12, 26))


def test_roll_forward_across_new_year() -> None:
    assert roll_forward(date(2026, 12, 31)) == date(2026, 12, 31)  # Thursday
    assert roll_forward(date(2027, 12, 31)) == date(2027, 12, 31)  # Friday
    assert roll_forward(date(2022, 12, 31)) == date(2023, 1, 2)  # Sat, Sun 1 Jan -> Mon 2
    assert roll_forward(date(2027, 12, 25)) == date(2027, 12, 27)


def test_withdrawal_deadline() -> None:
    assert withdrawal_deadline(date(2026, 3, 2)) == date(2026, 3, 16)  # Monday
    assert withdrawal_deadline(date(2026, 3, 23)) == date(2026, 4, 7)  # Mon 6 is Easter Monday
    assert withdrawal_deadline(date(2026, 3, 7)) == date(2026, 3, 23)  # Saturday 21 -> Monday
    assert withdrawal_deadline(date(2026, 1, 1), days=30) == date(2026, 2, 2)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 31), 2, date(2026, 3, 31)),
        (date(2026, 1, 31), 3, date(2026, 4, 30)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 15), 12, date(2027, 1, 15)),
        (date(2026, 1, 15), -13, date(2024, 12, 15)),
        (date(2026, 12, 10), 1, date(2027, 1, 10)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2026, 5, 20), 0, date(2026, 5, 20)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_days_in_month() -> None:
    assert [days_in_month(2026, m) for m in range(1, 13)] == [
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
    ]  # fmt: skip
    assert days_in_month(2028, 2) == 29
    assert days_in_month(2100, 2) == 28
    assert days_in_month(2000, 2) == 29


dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))


@given(dates)
def test_roll_forward_is_the_first_business_day_on_or_after(d: date) -> None:
    rolled = roll_forward(d)
    assert is_business_day(rolled)
    assert rolled >= d
    day = d
    while day < rolled:
        assert not is_business_day(day)
        day += timedelta(days=1)
    assert (rolled - d).days <= 4  # a weekend plus at most two adjacent holidays


@given(dates, st.integers(min_value=-600, max_value=600))
def test_add_months_clamps_to_the_month_end(d: date, months: int) -> None:
    result = add_months(d, months)
    assert (result.year * 12 + result.month) - (d.year * 12 + d.month) == months
    assert result.day == min(d.day, days_in_month(result.year, result.month))
    if d.day <= 28:
        assert add_months(result, -months) == d


@given(dates, st.integers(min_value=0, max_value=60))
def test_withdrawal_deadline_is_a_business_day_not_before_the_term(d: date, days: int) -> None:
    deadline = withdrawal_deadline(d, days)
    assert is_business_day(deadline)
    assert deadline >= d + timedelta(days=days)
    assert deadline == roll_forward(d + timedelta(days=days))


@given(st.integers(min_value=1990, max_value=2090), st.integers(min_value=1, max_value=12))
def test_billing_dates_are_business_days_in_their_month(year: int, month: int) -> None:
    debit = debit_date(year, month)
    issue = invoice_date(year, month)
    assert is_business_day(debit) and is_business_day(issue)
    assert (debit.year, debit.month) == (year, month)
    # Usually before; on the same day when the 2nd to the 4th are all skipped
    # (June 1990: Saturday 2, Sunday 3, Whit Monday 4).
    assert issue <= debit
    assert (debit_moved_reason(year, month) is None) == (debit.day == 5)
