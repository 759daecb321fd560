"""Mediator deadlines for claims, the merchant-first rule, and outages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.claims import (
    check_claim_category,
    check_escalation,
    mediator_from,
    mediator_until,
    outage_entitles_gesture,
    outage_hours,
)
from domain.rules import RuleRefusal

CLAIM = date(2026, 1, 10)


def test_domain_md_example() -> None:
    assert mediator_from(CLAIM) == date(2026, 3, 10)
    assert mediator_until(CLAIM) == date(2027, 1, 10)


def test_month_ends_are_clamped() -> None:
    assert mediator_from(date(2025, 12, 31)) == date(2026, 2, 28)
    assert mediator_until(date(2024, 2, 29)) == date(2025, 2, 28)


def test_unanswered_claim_too_early() -> None:
    with pytest.raises(RuleRefusal) as caught:
        check_escalation(CLAIM, date(2026, 3, 9), answered=False)
    refusal = caught.value
    assert refusal.code == "escalation_too_early"
    assert refusal.rule == "escalation.two_months"
    assert "10 March 2026" in refusal.detail  # when it becomes possible
    assert str(refusal) == refusal.detail


def test_unanswered_claim_from_two_months() -> None:
    check_escalation(CLAIM, date(2026, 3, 10), answered=False)
    check_escalation(CLAIM, date(2027, 1, 9), answered=False)


def test_answered_claim_any_time_before_the_year() -> None:
    check_escalation(CLAIM, date(2026, 1, 11), answered=True)
    check_escalation(CLAIM, CLAIM, answered=True)


@pytest.mark.parametrize("answered", [True, False])
@pytest.mark.parametrize("today", [date(2027, 1, 10), date(2027, 6, 1)])
def test_too_late(today: date, answered: bool) -> None:
    with pytest.raises(RuleRefusal) as caught:
        check_escalation(CLAIM, today, answered=answered)
    assert caught.value.code == "escalation_too_late"
    assert caught.value.rule == "escalation.one_year"
    assert "10 January 2027" in caught.value.detail


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2080, 1, 1)),
    st.integers(min_value=0, max_value=800),
    st.booleans(),
)
def test_escalation_allowed_exactly_in_its_window(claim: date, days: int, answered: bool) -> None:
    today = claim + timedelta(days=days)
    start = claim if answered else mediator_from(claim)
    expected = start <= today < mediator_until(claim)
    try:
        check_escalation(claim, today, answered)
    except RuleRefusal as refusal:
        assert not expected
        assert refusal.code in {"escalation_too_early", "escalation_too_late"}
    else:
        assert expected


def test_merchant_first() -> None:
    with pytest.raises(RuleRefusal) as caught:
        check_claim_category("order_not_received", merchant_contacted=False)
    assert caught.value.code == "merchant_first"
    check_claim_category("order_not_received", merchant_contacted=True)
    check_claim_category("billing", merchant_contacted=False)
    with pytest.raises(RuleRefusal):
        check_claim_category("not_as_ordered", merchant_contacted=False)


def test_outage_hours_and_gesture() -> None:
    start = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    assert outage_hours(start, start + timedelta(hours=48)) == 48.0
    assert outage_hours(start, start + timedelta(minutes=90)) == 1.5
    assert not outage_entitles_gesture(start, start + timedelta(hours=48))
    assert outage_entitles_gesture(start, start + timedelta(hours=48, seconds=1))
    assert outage_entitles_gesture(start, start + timedelta(days=3))
    with pytest.raises(ValueError):
        outage_hours(start, start - timedelta(hours=1))


@given(st.integers(min_value=0, max_value=10 * 24 * 3600))
def test_gesture_iff_more_than_48_hours(seconds: int) -> None:
    start = datetime(2026, 3, 28, 12, 0)
    end = start + timedelta(seconds=seconds)
    assert outage_entitles_gesture(start, end) == (seconds > 48 * 3600)
    assert outage_hours(start, end) == pytest.approx(seconds / 3600)
