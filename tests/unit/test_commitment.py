"""Commitment months, the Chatel termination fee, equipment return, withdrawal."""

from __future__ import annotations

import pickle
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import add_months
from domain.commitment import (
    TerminationFee,
    check_withdrawal,
    commitment_end,
    equipment_return_deadline,
    month_index,
    month_start,
    return_reference,
    termination_fee,
)
from domain.rules import RuleRefusal

START = date(2026, 1, 15)


def test_domain_md_example_last_day_of_month_12() -> None:
    fee = termination_fee(2000, 24, START, date(2027, 1, 14))
    assert (fee.months_remaining_year1, fee.months_remaining_year2) == (0, 12)
    assert fee.chatel_fee_cents == 6000
    assert fee.total_cents == 6000


def test_domain_md_example_month_13_has_begun() -> None:
    fee = termination_fee(2000, 24, START, date(2027, 1, 15))
    assert (fee.months_remaining_year1, fee.months_remaining_year2) == (0, 11)
    assert fee.chatel_fee_cents == 5500


def test_domain_md_example_end_of_month_6() -> None:
    fee = termination_fee(2000, 24, START, date(2026, 7, 14))
    assert (fee.months_remaining_year1, fee.months_remaining_year2) == (6, 12)
    assert fee.year1_cents == 12000
    assert fee.year2_cents == 6000
    assert fee.chatel_fee_cents == 18000


def test_domain_md_example_3999_end_of_month_8() -> None:
    fee = termination_fee(3999, 24, START, date(2026, 9, 14))
    assert fee == TerminationFee(
        effective_date=date(2026, 9, 14),
        months_remaining_year1=4,
        months_remaining_year2=12,
        monthly_price_cents=3999,
        year1_cents=15996,
        year2_cents=11997,
        chatel_fee_cents=27993,
        provider_fee_cents=0,
        total_cents=27993,
    )


def test_rounding_half_up_once() -> None:
    # 25 % of 1 x 9.99 = 2.4975 -> 2.50; of 2 x 9.99 = 4.995 -> 5.00; of 3 x 9.99 = 7.4925.
    assert termination_fee(999, 24, START, add_months(START, 22)).year2_cents == 250
    assert termination_fee(999, 24, START, add_months(START, 21)).year2_cents == 500
    assert termination_fee(999, 24, START, add_months(START, 20)).year2_cents == 749
    # 25 % of 1 x 0.02 = 0.005 -> 0.01 (half up)
    assert termination_fee(2, 24, START, add_months(START, 22)).chatel_fee_cents == 1


def test_provider_fee_is_added() -> None:
    fee = termination_fee(2000, 24, START, date(2027, 1, 15), provider_fee_cents=4900)
    assert fee.chatel_fee_cents == 5500
    assert fee.provider_fee_cents == 4900
    assert fee.total_cents == 10400
    after = termination_fee(2000, 24, START, date(2028, 1, 15), provider_fee_cents=4900)
    assert after.chatel_fee_cents == 0 and after.total_cents == 4900


def test_twelve_month_commitment_owes_every_remaining_month() -> None:
    fee = termination_fee(2999, 12, START, date(2026, 4, 20))  # month 4
    assert (fee.months_remaining_year1, fee.months_remaining_year2) == (8, 0)
    assert fee.chatel_fee_cents == 8 * 2999
    assert termination_fee(2999, 12, START, date(2027, 1, 14)).chatel_fee_cents == 0
    assert termination_fee(2999, 12, START, date(2027, 1, 15)).chatel_fee_cents == 0


def test_no_commitment_costs_nothing() -> None:
    fee = termination_fee(2999, 0, START, START)
    assert fee.chatel_fee_cents == 0 and fee.total_cents == 0


def test_before_the_start_every_month_remains() -> None:
    fee = termination_fee(2000, 24, START, date(2026, 1, 1))
    assert (fee.months_remaining_year1, fee.months_remaining_year2) == (12, 12)
    assert fee.chatel_fee_cents == 12 * 2000 + 12 * 500


def test_first_day_serves_month_1() -> None:
    fee = termination_fee(2000, 24, START, START)
    assert (fee.months_remaining_year1, fee.months_remaining_year2) == (11, 12)


def test_last_day_of_the_commitment_and_after() -> None:
    end = commitment_end(START, 24)
    assert end == date(2028, 1, 14)
    assert termination_fee(2000, 24, START, end).chatel_fee_cents == 0
    assert termination_fee(2000, 24, START, end + timedelta(days=1)).chatel_fee_cents == 0
    # the day before month 24 begins, month 24 is still owed at 25 %
    assert termination_fee(2000, 24, START, date(2027, 12, 14)).chatel_fee_cents == 500


@pytest.mark.parametrize("months", [-12, 1, 6, 18, 36, 48])
def test_commitment_length_is_0_12_or_24(months: int) -> None:
    with pytest.raises(ValueError, match="0, 12 or 24"):
        termination_fee(2000, months, START, START)


def test_negative_amounts_are_refused() -> None:
    with pytest.raises(ValueError):
        termination_fee(-1, 24, START, START)
    with pytest.raises(ValueError):
        termination_fee(2000, 24, START, START, provider_fee_cents=-1)


def test_months_count_from_the_start_date_clamped() -> None:
    start = date(2026, 1, 31)
    assert month_start(start, 1) == start
    assert month_start(start, 2) == date(2026, 2, 28)
    assert month_start(start, 3) == date(2026, 3, 31)  # not 28 March: no drift
    assert month_index(start, date(2026, 2, 27)) == 1
    assert month_index(start, date(2026, 2, 28)) == 2
    assert month_index(start, date(2026, 3, 30)) == 2
    assert month_index(start, date(2026, 3, 31)) == 3
    assert commitment_end(start, 12) == date(2027, 1, 30)
    assert commitment_end(start, 1) == date(2026, 2, 27)


def test_month_index() -> None:
    assert month_index(START, date(2026, 1, 14)) == 0
    assert month_index(START, START) == 1
    assert month_index(START, date(2026, 2, 14)) == 1
    assert month_index(START, date(2026, 2, 15)) == 2
    assert month_index(START, date(2027, 1, 14)) == 12
    assert month_index(START, date(2027, 1, 15)) == 13
    assert month_index(START, date(2030, 1, 15)) == 49  # keeps counting after the end


def test_commitment_end() -> None:
    assert commitment_end(START, 12) == date(2027, 1, 14)
    assert commitment_end(START, 24) == date(2028, 1, 14)
    assert commitment_end(START, 0) == date(2026, 1, 14)
    with pytest.raises(ValueError):
        commitment_end(START, -1)


starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))
prices = st.integers(min_value=0, max_value=100_000)
offsets = st.integers(min_value=-60, max_value=1000)


@given(starts, st.integers(min_value=-400, max_value=1200))
def test_month_index_agrees_with_month_starts(start: date, offset: int) -> None:
    on = start + timedelta(days=offset)
    k = month_index(start, on)
    if on < start:
        assert k == 0
    else:
        assert month_start(start, k) <= on < month_start(start, k + 1)


@given(prices, st.sampled_from([0, 12, 24]), starts, offsets, offsets)
def test_fee_never_negative_and_never_increases(
    price: int, months: int, start: date, a: int, b: int
) -> None:
    early, late = sorted((start + timedelta(days=a), start + timedelta(days=b)))
    fee_early = termination_fee(price, months, start, early)
    fee_late = termination_fee(price, months, start, late)
    assert 0 <= fee_late.total_cents <= fee_early.total_cents
    assert fee_early.chatel_fee_cents == fee_early.year1_cents + fee_early.year2_cents
    # never more than what the remaining months would cost in full
    remaining = fee_early.months_remaining_year1 + fee_early.months_remaining_year2
    assert fee_early.chatel_fee_cents <= remaining * price


@given(prices, st.sampled_from([0, 12, 24]), starts, st.integers(min_value=0, max_value=2000))
def test_nothing_owed_after_the_commitment(
    price: int, months: int, start: date, days_after: int
) -> None:
    on = commitment_end(start, months) + timedelta(days=days_after)
    fee = termination_fee(price, months, start, on, provider_fee_cents=123)
    assert fee.chatel_fee_cents == 0
    assert fee.months_remaining_year1 == fee.months_remaining_year2 == 0
    assert fee.total_cents == 123


@given(prices, starts, offsets)
def test_twelve_months_is_remaining_times_price(price: int, start: date, offset: int) -> None:
    on = start + timedelta(days=offset)
    fee = termination_fee(price, 12, start, on)
    remaining = 12 - min(month_index(start, on), 12)
    assert fee.months_remaining_year1 == remaining
    assert fee.months_remaining_year2 == 0
    assert fee.chatel_fee_cents == remaining * price


@given(prices, starts, offsets)
def test_twenty_four_months_is_the_legal_formula(price: int, start: date, offset: int) -> None:
    on = start + timedelta(days=offset)
    fee = termination_fee(price, 24, start, on)
    served = min(month_index(start, on), 24)
    remaining = 24 - served
    year1 = max(12 - served, 0)
    assert fee.months_remaining_year1 == year1
    assert fee.months_remaining_year2 == remaining - year1
    exact_quarters = 4 * year1 * price + (remaining - year1) * price  # 4 x the exact fee
    assert abs(4 * fee.chatel_fee_cents - exact_quarters) <= 2
    if served >= 12:  # from month 13 on: at most a quarter of what remains
        assert fee.chatel_fee_cents * 4 <= remaining * price + 2


def test_equipment_return_deadline() -> None:
    assert equipment_return_deadline(date(2026, 3, 10), exchanged=False) == date(2026, 4, 9)
    assert equipment_return_deadline(date(2026, 3, 10), exchanged=True) == date(2026, 4, 19)
    assert equipment_return_deadline(date(2026, 12, 15), exchanged=False) == date(2027, 1, 14)


def test_return_reference() -> None:
    ref = return_reference("C-1001", date(2026, 3, 10))
    assert ref.startswith("RM-20260310-")
    assert ref == return_reference("C-1001", date(2026, 3, 10))
    assert ref != return_reference("C-1002", date(2026, 3, 10))
    assert ref != return_reference("C-1001", date(2026, 3, 11))
    assert "C-1001" not in ref
    assert ref.isascii() and ref == ref.upper()


def test_check_withdrawal() -> None:
    check_withdrawal(date(2026, 3, 23), date(2026, 4, 7))  # deadline moved past Easter Monday
    with pytest.raises(RuleRefusal) as caught:
        check_withdrawal(date(2026, 3, 23), date(2026, 4, 8))
    refusal = caught.value
    assert refusal.code == "withdrawal_period_over"
    assert refusal.rule == "withdrawal.period"
    assert "7 April 2026" in refusal.detail
    assert str(refusal) == refusal.detail


def test_rule_refusal_shape() -> None:
    refusal = RuleRefusal("some_code", "some.rule", "Something failed on 1 May 2026.")
    assert (refusal.code, refusal.rule, refusal.detail) == (
        "some_code",
        "some.rule",
        "Something failed on 1 May 2026.",
    )
    assert str(refusal) == "Something failed on 1 May 2026."
    assert isinstance(refusal, Exception)
    copy = pickle.loads(pickle.dumps(refusal))
    assert copy == refusal and copy.code == "some_code"
