"""Why `reschedule` refuses: the server's reason from the options, or the condition a date
outside the window breaks, by the shared domain rules; both the exit-5 error a 409 would be.

A refusal the domain rules give here is shown in the user's language (`localized`); the
server's refusal inside the options is data in English (a successful answer does not
change with Accept-Language), so the same rules are applied here to word it in French,
and the server's English is shown only when they do not find the same refusal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from cli.context import Env
from cli.errors import RuleError
from cli.i18n import _, localized
from cli.output import human
from domain.reschedule import InstalmentState, check_reschedule, reschedule_window
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


def options_refused(env: Env, schedule: Mapping[str, Any], number: int, problem: Any) -> RuleError:
    """The options' refusal, worded by the domain rules when they refuse alike."""
    body: Mapping[str, Any] = problem if isinstance(problem, Mapping) else {}
    plan = list(schedule.get("instalments") or [])
    try:
        window = reschedule_window(
            _state(plan, number),
            today=env.today(),
            last_due_date=max(_day(i.get("due_date")) for i in plan),
            plan_rescheduled_count=sum(int(i.get("rescheduled_count") or 0) for i in plan),
        )
    except (StopIteration, TypeError, ValueError):  # a schedule these rules cannot read
        return refused(body)
    if isinstance(window, RuleRefusal) and (window.code, window.rule) == (
        body.get("code"),
        body.get("rule"),
    ):
        return refused({**body, "detail": localized(window.detail)})
    return refused(body)


def _day(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value))


def _state(plan: list[Mapping[str, Any]], number: int) -> InstalmentState:
    inst = next(i for i in plan if i.get("number") == number)
    return InstalmentState(
        number=number,
        status=str(inst.get("status")),
        due_date=_day(inst.get("due_date")),
        original_due_date=_day(inst.get("original_due_date") or inst.get("due_date")),
        rescheduled_count=int(inst.get("rescheduled_count") or 0),
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
    try:
        check_reschedule(
            _state(plan, number),
            new_date,
            today=env.today(),
            last_due_date=max(_day(i.get("due_date")) for i in plan),
            plan_rescheduled_count=sum(int(i.get("rescheduled_count") or 0) for i in plan),
        )
    except RuleRefusal as refusal:
        detail = localized(refusal.detail)  # a domain Text: dates written in the language
        return refused({"code": refusal.code, "rule": refusal.rule, "detail": detail})
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
