"""Postponing an instalment: each condition, its refusal, and the window of allowed dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.reschedule import (
    InstalmentState,
    RescheduleRules,
    check_reschedule,
    reschedule_window,
)
from domain.rules import RuleRefusal

TODAY = date(2026, 3, 1)
LAST_DUE = date(2026, 5, 10)
INST = InstalmentState(
    number=2,
    status="due",
    due_date=date(2026, 3, 10),
    original_due_date=date(2026, 3, 10),
    rescheduled_count=0,
)


def refusal_for(inst: InstalmentState, new_date: date, **kwargs: object) -> RuleRefusal:
    args: dict[str, object] = {
        "today": TODAY,
        "last_due_date": LAST_DUE,
        "plan_rescheduled_count": 0,
    }
    args.update(kwargs)
    with pytest.raises(RuleRefusal) as caught:
        check_reschedule(inst, new_date, **args)  # type: ignore[arg-type]
    return caught.value


def test_allowed_postponement() -> None:
    check_reschedule(
        INST, date(2026, 3, 20), today=TODAY, last_due_date=LAST_DUE, plan_rescheduled_count=0
    )
    check_reschedule(  # the last allowed day: original + 30 days
        INST, date(2026, 4, 9), today=TODAY, last_due_date=LAST_DUE, plan_rescheduled_count=1
    )
    check_reschedule(  # the first allowed day
        INST, date(2026, 3, 11), today=date(2026, 3, 9), last_due_date=LAST_DUE,
        plan_rescheduled_count=0,
    )  # fmt: skip


def test_already_due_today() -> None:
    refusal = refusal_for(INST, date(2026, 3, 20), today=date(2026, 3, 10))
    assert refusal.code == "reschedule_already_due"
    assert refusal.rule == "reschedule.not_yet_due"
    assert "10 March 2026" in refusal.detail


def test_already_paid() -> None:
    refusal = refusal_for(replace(INST, status="paid"), date(2026, 3, 20))
    assert refusal.code == "reschedule_already_due"
    assert "paid" in refusal.detail


def test_failed_instalment() -> None:
    refusal = refusal_for(
        replace(INST, status="failed"), date(2026, 3, 20), today=date(2026, 3, 12)
    )
    assert refusal.code == "reschedule_failed_instalment"
    assert refusal.rule == "reschedule.not_failed"
    assert "failed" in refusal.detail and "10 March 2026" in refusal.detail


@pytest.mark.parametrize("new_date", [date(2026, 3, 10), date(2026, 3, 5), date(2026, 2, 1)])
def test_not_later(new_date: date) -> None:
    refusal = refusal_for(INST, new_date)
    assert refusal.code == "reschedule_not_later"
    assert refusal.rule == "reschedule.later_date"
    assert "10 March 2026" in refusal.detail


def test_too_far_from_the_original_due_date() -> None:
    refusal = refusal_for(INST, date(2026, 4, 10))
    assert refusal.code == "reschedule_too_far"
    assert refusal.rule == "reschedule.max_delay"
    assert "10 April 2026" in refusal.detail  # the date asked
    assert "10 March 2026" in refusal.detail  # the original due date
    assert "9 April 2026" in refusal.detail  # the latest possible


def test_max_delay_counts_from_the_original_due_date() -> None:
    moved = replace(INST, status="rescheduled", due_date=date(2026, 3, 25), rescheduled_count=1)
    rules = RescheduleRules(max_per_instalment=2)
    refusal = refusal_for(moved, date(2026, 4, 20), rules=rules)
    assert refusal.code == "reschedule_too_far"
    check_reschedule(
        moved, date(2026, 4, 9), today=TODAY, last_due_date=LAST_DUE,
        plan_rescheduled_count=1, rules=rules,
    )  # fmt: skip


def test_after_plan_end() -> None:
    last = replace(INST, number=4, due_date=LAST_DUE, original_due_date=LAST_DUE)
    rules = RescheduleRules(max_delay_days=60)
    refusal = refusal_for(last, date(2026, 6, 10), rules=rules)
    assert refusal.code == "reschedule_after_plan_end"
    assert refusal.rule == "reschedule.plan_end"
    assert "10 May 2026" in refusal.detail and "9 June 2026" in refusal.detail


def test_instalment_limit() -> None:
    moved = replace(INST, status="rescheduled", due_date=date(2026, 3, 20), rescheduled_count=1)
    refusal = refusal_for(moved, date(2026, 3, 25), plan_rescheduled_count=1)
    assert refusal.code == "reschedule_instalment_limit"
    assert refusal.rule == "reschedule.per_instalment_limit"
    assert "10 March 2026" in refusal.detail and "20 March 2026" in refusal.detail


def test_plan_limit() -> None:
    refusal = refusal_for(INST, date(2026, 3, 20), plan_rescheduled_count=2)
    assert refusal.code == "reschedule_plan_limit"
    assert refusal.rule == "reschedule.per_plan_limit"
    assert "2" in refusal.detail


def test_date_independent_conditions_come_first() -> None:
    # A bad date and a reached limit: the limit is what the customer needs to hear.
    refusal = refusal_for(INST, date(2026, 3, 1), plan_rescheduled_count=2)
    assert refusal.code == "reschedule_plan_limit"


def test_window() -> None:
    window = reschedule_window(INST, today=TODAY, last_due_date=LAST_DUE, plan_rescheduled_count=0)
    assert window == (date(2026, 3, 11), date(2026, 4, 9))


def test_window_limited_by_plan_end() -> None:
    last = replace(INST, due_date=LAST_DUE, original_due_date=LAST_DUE)
    window = reschedule_window(
        last, today=TODAY, last_due_date=LAST_DUE, plan_rescheduled_count=0,
        rules=RescheduleRules(max_delay_days=45, after_last_days=20),
    )  # fmt: skip
    assert window == (date(2026, 5, 11), date(2026, 5, 30))


def test_window_refusals() -> None:
    refusal = reschedule_window(
        replace(INST, status="failed"), today=TODAY, last_due_date=LAST_DUE,
        plan_rescheduled_count=0,
    )  # fmt: skip
    assert isinstance(refusal, RuleRefusal)
    assert refusal.code == "reschedule_failed_instalment"
    # Postponed to the very last allowed day, with more postponements allowed: no date left.
    at_limit = replace(INST, status="rescheduled", due_date=date(2026, 4, 9), rescheduled_count=1)
    refusal = reschedule_window(
        at_limit, today=TODAY, last_due_date=LAST_DUE, plan_rescheduled_count=1,
        rules=RescheduleRules(max_per_instalment=3),
    )  # fmt: skip
    assert isinstance(refusal, RuleRefusal)
    assert refusal.code == "reschedule_too_far"


statuses = st.sampled_from(["paid", "due", "failed", "rescheduled"])
base = date(2026, 1, 1)


@st.composite
def situations(draw: st.DrawFn) -> tuple[InstalmentState, date, date, int, RescheduleRules]:
    original = base + timedelta(days=draw(st.integers(0, 120)))
    due = original + timedelta(days=draw(st.integers(0, 40)))
    inst = InstalmentState(
        number=draw(st.integers(1, 12)),
        status=draw(statuses),
        due_date=due,
        original_due_date=original,
        rescheduled_count=draw(st.integers(0, 3)),
    )
    today = base + timedelta(days=draw(st.integers(0, 200)))
    last_due = original + timedelta(days=draw(st.integers(0, 120)))
    rules = RescheduleRules(
        max_delay_days=draw(st.integers(0, 60)),
        after_last_days=draw(st.integers(0, 60)),
        max_per_instalment=draw(st.integers(0, 3)),
        max_per_plan=draw(st.integers(0, 4)),
    )
    return inst, today, last_due, draw(st.integers(0, 4)), rules


@given(situations(), st.integers(-10, 120))
def test_check_agrees_with_window(
    situation: tuple[InstalmentState, date, date, int, RescheduleRules], offset: int
) -> None:
    inst, today, last_due, plan_count, rules = situation
    new_date = inst.due_date + timedelta(days=offset)
    window = reschedule_window(
        inst, today=today, last_due_date=last_due, plan_rescheduled_count=plan_count, rules=rules
    )
    try:
        check_reschedule(
            inst, new_date, today=today, last_due_date=last_due,
            plan_rescheduled_count=plan_count, rules=rules,
        )  # fmt: skip
    except RuleRefusal as refusal:
        allowed = False
        assert refusal.code.startswith("reschedule_")
        assert refusal.rule.startswith("reschedule.")
        assert refusal.detail
        if isinstance(window, RuleRefusal) and offset == 1:
            assert refusal == window  # the window's refusal is the earliest date's
    else:
        allowed = True
    if isinstance(window, RuleRefusal):
        assert not allowed
    else:
        earliest, latest = window
        assert earliest <= latest
        assert allowed == (earliest <= new_date <= latest)
        assert today < inst.due_date < earliest
        assert latest <= inst.original_due_date + timedelta(days=rules.max_delay_days)
