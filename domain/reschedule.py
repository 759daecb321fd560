"""When a customer may postpone ("décaler") an instalment by themselves.

The conditions are a provider's policy (defaults in `RescheduleRules`), and a refusal must
always say which condition failed, with the dates involved: the customer is asking for
help with a payment, and "refused" alone leaves them with nowhere to go.

Conditions that do not depend on the date asked for (the instalment is paid, already due,
failed, or has used its postponements) are checked first, so a customer is not told to
pick another date when no date would do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.calendar import format_long_date as _d
from domain.rules import RuleRefusal

__all__ = [
    "INSTALMENT_STATUSES",
    "InstalmentState",
    "RescheduleRules",
    "check_reschedule",
    "reschedule_window",
]

INSTALMENT_STATUSES = frozenset({"paid", "due", "failed", "rescheduled"})


@dataclass(frozen=True)
class RescheduleRules:
    """A provider's postponement policy (defaults: the project's, see domain.md)."""

    max_delay_days: int = 30
    """The new date is at most this many days after the instalment's original due date."""
    after_last_days: int = 30
    """The new date is at most this many days after the plan's last due date."""
    max_per_instalment: int = 1
    max_per_plan: int = 2


@dataclass(frozen=True)
class InstalmentState:
    """What the rules need to know about one instalment."""

    number: int
    status: str
    """One of "paid", "due", "failed", "rescheduled"."""
    due_date: date
    """The current due date (after any postponement)."""
    original_due_date: date
    """The due date in the original schedule; the maximum delay counts from it."""
    rescheduled_count: int


_DEFAULT_RULES = RescheduleRules()


def _date_independent_refusal(
    inst: InstalmentState,
    *,
    today: date,
    plan_rescheduled_count: int,
    rules: RescheduleRules,
) -> RuleRefusal | None:
    n = inst.number
    if inst.status == "failed":
        return RuleRefusal(
            "reschedule_failed_instalment",
            "reschedule.not_failed",
            f"instalment {n} failed on {_d(inst.due_date)}; a failed instalment cannot be "
            "postponed, it has to be settled",
        )
    if inst.status == "paid":
        return RuleRefusal(
            "reschedule_already_due",
            "reschedule.not_yet_due",
            f"instalment {n} due on {_d(inst.due_date)} is already paid",
        )
    if today >= inst.due_date:
        return RuleRefusal(
            "reschedule_already_due",
            "reschedule.not_yet_due",
            f"instalment {n} was due on {_d(inst.due_date)}; only an instalment not yet "
            f"due can be postponed (today is {_d(today)})",
        )
    if inst.rescheduled_count >= rules.max_per_instalment:
        return RuleRefusal(
            "reschedule_instalment_limit",
            "reschedule.per_instalment_limit",
            f"instalment {n} has already been postponed {inst.rescheduled_count} time(s) "
            f"(originally due on {_d(inst.original_due_date)}, now on {_d(inst.due_date)}); "
            f"at most {rules.max_per_instalment} postponement(s) per instalment",
        )
    if plan_rescheduled_count >= rules.max_per_plan:
        return RuleRefusal(
            "reschedule_plan_limit",
            "reschedule.per_plan_limit",
            f"this plan has already had {plan_rescheduled_count} postponement(s); at most "
            f"{rules.max_per_plan} per plan",
        )
    return None


def _bounds(
    inst: InstalmentState, last_due_date: date, rules: RescheduleRules
) -> tuple[date, date]:
    return (
        inst.original_due_date + timedelta(days=rules.max_delay_days),
        last_due_date + timedelta(days=rules.after_last_days),
    )


def _too_far(inst: InstalmentState, new_date: date, limit: date, rules: RescheduleRules) -> str:
    return (
        f"{_d(new_date)} is more than {rules.max_delay_days} days after the original due "
        f"date of instalment {inst.number} ({_d(inst.original_due_date)}); the latest "
        f"possible date is {_d(limit)}"
    )


def _after_end(new_date: date, last_due_date: date, limit: date, rules: RescheduleRules) -> str:
    return (
        f"{_d(new_date)} is more than {rules.after_last_days} days after the plan's last due "
        f"date ({_d(last_due_date)}); the latest possible date is {_d(limit)}"
    )


def check_reschedule(
    inst: InstalmentState,
    new_date: date,
    *,
    today: date,
    last_due_date: date,
    plan_rescheduled_count: int,
    rules: RescheduleRules = _DEFAULT_RULES,
) -> None:
    """Raise `RuleRefusal` unless `inst` may be moved to `new_date` on `today`.

    Codes: reschedule_failed_instalment, reschedule_already_due (paid, or today on or after
    the due date), reschedule_instalment_limit, reschedule_plan_limit, then for the date
    asked: reschedule_not_later (not after the current due date), reschedule_too_far (over
    `max_delay_days` after the original due date), reschedule_after_plan_end (over
    `after_last_days` after the plan's last due date).
    """
    refusal = _date_independent_refusal(
        inst, today=today, plan_rescheduled_count=plan_rescheduled_count, rules=rules
    )
    if refusal is not None:
        raise refusal
    if new_date <= inst.due_date:
        raise RuleRefusal(
            "reschedule_not_later",
            "reschedule.later_date",
            f"{_d(new_date)} is not after the current due date of instalment {inst.number} "
            f"({_d(inst.due_date)}); a postponement moves the date later",
        )
    max_delay, plan_end = _bounds(inst, last_due_date, rules)
    if new_date > max_delay:
        raise RuleRefusal(
            "reschedule_too_far", "reschedule.max_delay", _too_far(inst, new_date, max_delay, rules)
        )
    if new_date > plan_end:
        raise RuleRefusal(
            "reschedule_after_plan_end",
            "reschedule.plan_end",
            _after_end(new_date, last_due_date, plan_end, rules),
        )


def reschedule_window(
    inst: InstalmentState,
    *,
    today: date,
    last_due_date: date,
    plan_rescheduled_count: int,
    rules: RescheduleRules = _DEFAULT_RULES,
) -> tuple[date, date] | RuleRefusal:
    """The dates `inst` may be moved to, as (earliest, latest) inclusive, or why none.

    Consistent with `check_reschedule`: a date passes the check exactly when it lies in
    the window. When the window is empty the refusal is the one `check_reschedule` gives
    for its earliest date.
    """
    refusal = _date_independent_refusal(
        inst, today=today, plan_rescheduled_count=plan_rescheduled_count, rules=rules
    )
    if refusal is not None:
        return refusal
    earliest = inst.due_date + timedelta(days=1)
    max_delay, plan_end = _bounds(inst, last_due_date, rules)
    if earliest > max_delay:
        return RuleRefusal(
            "reschedule_too_far", "reschedule.max_delay", _too_far(inst, earliest, max_delay, rules)
        )
    if earliest > plan_end:
        return RuleRefusal(
            "reschedule_after_plan_end",
            "reschedule.plan_end",
            _after_end(earliest, last_due_date, plan_end, rules),
        )
    return earliest, min(max_delay, plan_end)
