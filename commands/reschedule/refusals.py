"""Why `reschedule` refuses: the server's reason from the options, or the condition a date
outside the window breaks, by the shared domain rules; both the exit-5 error a 409 would be."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from cli.context import Env
from cli.errors import RuleError
from cli.i18n import _
from cli.output import human
from domain.reschedule import InstalmentState, check_reschedule
from domain.rules import RuleRefusal


def refused(problem: Any) -> RuleError:
    """The refusal the server gave in the options, as the exit-5 error a 409 would be."""
    body: Mapping[str, Any] = problem if isinstance(problem, Mapping) else {}
    rule, code = body.get("rule"), body.get("code")
    detail = body.get("detail") or _("this instalment cannot be postponed")
    named = f" ({rule})" if rule else (f" ({code})" if code else "")
    return RuleError(
        _("refused by rule{named}: {detail}").format(named=named, detail=detail),
        status=409,
        code=code,
        rule=rule,
        detail=detail,
    )


def out_of_window(
    env: Env,
    schedule: Mapping[str, Any],
    number: int,
    new_date: dt.date,
    options: Mapping[str, Any],
) -> RuleError:
    """Which condition a date outside the window breaks, by the shared domain rules (the
    server applies the same ones); a generic refusal if they disagree with the window."""
    plan = list(schedule.get("instalments") or [])
    inst = next(i for i in plan if i.get("number") == number)

    def day(value: Any) -> dt.date:
        return dt.date.fromisoformat(str(value))

    state = InstalmentState(
        number=number,
        status=str(inst.get("status")),
        due_date=day(inst.get("due_date")),
        original_due_date=day(inst.get("original_due_date") or inst.get("due_date")),
        rescheduled_count=int(inst.get("rescheduled_count") or 0),
    )
    try:
        check_reschedule(
            state,
            new_date,
            today=env.today(),
            last_due_date=max(day(i.get("due_date")) for i in plan),
            plan_rescheduled_count=sum(int(i.get("rescheduled_count") or 0) for i in plan),
        )
    except RuleRefusal as refusal:
        return refused({"code": refusal.code, "rule": refusal.rule, "detail": refusal.detail})
    return refused(
        {
            "code": "reschedule_out_of_window",
            "rule": "reschedule.window",
            "detail": _("{date} is outside the possible dates ({earliest} to {latest})").format(
                date=human(new_date.isoformat(), "date", env.locale),
                earliest=human(options.get("earliest"), "date", env.locale),
                latest=human(options.get("latest"), "date", env.locale),
            ),
        }
    )
