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

from domain.calendar import long_date as _d
from domain.i18n import N_, Text
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
            Text(
                N_(
                    "instalment {number} failed on {date}; a failed instalment cannot be "
                    "postponed, it has to be settled"
                ),
                number=n,
                date=_d(inst.due_date),
            ),
        )
    if inst.status == "paid":
        return RuleRefusal(
            "reschedule_already_due",
            "reschedule.not_yet_due",
            Text(
                N_("instalment {number} due on {date} is already paid"),
                number=n,
                date=_d(inst.due_date),
            ),
        )
    if today >= inst.due_date:
        return RuleRefusal(
            "reschedule_already_due",
            "reschedule.not_yet_due",
            Text(
                N_(
                    "instalment {number} was due on {date}; only an instalment not yet "
                    "due can be postponed (today is {today})"
                ),
                number=n,
                date=_d(inst.due_date),
                today=_d(today),
            ),
        )
    if inst.rescheduled_count >= rules.max_per_instalment:
        return RuleRefusal(
            "reschedule_instalment_limit",
            "reschedule.per_instalment_limit",
            Text(
                N_(
                    "instalment {number} has already been postponed {count} time(s) "
                    "(originally due on {original}, now on {date}); "
                    "at most {limit} postponement(s) per instalment"
                ),
                number=n,
                count=inst.rescheduled_count,
                original=_d(inst.original_due_date),
                date=_d(inst.due_date),
                limit=rules.max_per_instalment,
            ),
        )
    if plan_rescheduled_count >= rules.max_per_plan:
        return RuleRefusal(
            "reschedule_plan_limit",
            "reschedule.per_plan_limit",
            Text(
                N_("this plan has already had {count} postponement(s); at most {limit} per plan"),
                count=plan_rescheduled_count,
                limit=rules.max_per_plan,
            ),
        )
    return None


def _bounds(
    inst: InstalmentState, last_due_date: date, rules: RescheduleRules
) -> tuple[date, date]:
    return (
        inst.original_due_date + timedelta(days=rules.max_delay_days),
        last_due_date + timedelta(days=rules.after_last_days),
    )


def _too_far(inst: InstalmentState, new_date: date, limit: date, rules: RescheduleRules) -> Text:
    return Text(
        N_(
            "{date} is more than {days} days after the original due date of instalment "
            "{number} ({original}); the latest possible date is {latest}"
        ),
        date=_d(new_date),
        days=rules.max_delay_days,
        number=inst.number,
        original=_d(inst.original_due_date),
        latest=_d(limit),
    )


def _after_end(new_date: date, last_due_date: date, limit: date, rules: RescheduleRules) -> Text:
    return Text(
        N_(
            "{date} is more than {days} days after the plan's last due date ({last}); "
            "the latest possible date is {latest}"
        ),
        date=_d(new_date),
        days=rules.after_last_days,
        last=_d(last_due_date),
        latest=_d(limit),
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
            Text(
                N_(
                    "{date} is not after the current due date of instalment {number} "
                    "({current}); a postponement moves the date later"
                ),
                date=_d(new_date),
                number=inst.number,
                current=_d(inst.due_date),
            ),
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
