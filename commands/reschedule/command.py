"""The `reschedule` command: its options, the calls to the server, the summary shown."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Any

import typer

from cli.complete import contract_ids
from cli.context import Env
from cli.errors import NotFoundError, UsageError, outcome_check
from cli.i18n import _
from cli.output import Column, human
from commands.reschedule.refusals import options_refused, out_of_window
from domain.calendar import roll_forward

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def plan_fields(machine: bool) -> list[Column]:
    """The summary's fields; json/csv get the suggested dates as a list of ISO dates."""
    suggested = (
        Column("suggested", "suggested")
        if machine
        else Column("suggested_label", _("suggested dates"))
    )
    return [
        Column("contract_id", _("contract")),
        Column("number", _("instalment"), "int"),
        Column("due_date", _("current due date"), "date"),
        Column("amount_cents", _("amount"), "money"),
        Column("earliest", _("earliest new date"), "date"),
        Column("latest", _("latest new date"), "date"),
        suggested,
        Column("to", _("new due date"), "date"),
        Column("debit_date", _("new debit date"), "date"),
        Column("status", _("status")),
        Column("dry_run", _("dry run"), "bool"),
    ]


def reschedule(
    ctx: typer.Context,
    contract_id: Annotated[
        str,
        typer.Argument(
            metavar="CONTRACT",
            help="The contract id.",
            show_default=False,
            autocompletion=contract_ids,
        ),
    ],
    number: Annotated[
        int,
        typer.Argument(
            metavar="INSTALMENT", min=1, help="The instalment number.", show_default=False
        ),
    ],
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="YYYY-MM-DD", help="The new due date."),
    ] = None,
    by: Annotated[
        int | None,
        typer.Option("--by", metavar="DAYS", min=1, help="Postpone by this many days."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the options and the change, change nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Postpone an instalment to a later date, within what the plan allows."""
    env = Env.of(ctx)
    if (to is None) == (by is None):
        raise UsageError(
            _("give the new date with --to YYYY-MM-DD or a delay with --by DAYS (one of them)")
        )
    new_date = _parse_date(to) if to is not None else None
    if not dry_run and not yes and not env.can_prompt:
        raise UsageError(
            _("postponing an instalment needs a confirmation and there is no terminal to ask"),
            hint=_("add --yes to confirm, or --dry-run to only see the options"),
        )

    client = env.api()
    base = f"/v1/contracts/{contract_id}"
    plan = client.get(f"{base}/schedule")
    instalment = _instalment(plan, number)
    options = client.get(f"{base}/instalments/{number}/reschedule-options")
    if not options.get("allowed"):
        raise options_refused(env, plan, number, options.get("refusal"))
    if new_date is None:
        assert by is not None
        new_date = dt.date.fromisoformat(str(instalment["due_date"])) + dt.timedelta(days=by)

    summary: dict[str, Any] = {
        "contract_id": contract_id,
        "number": number,
        "due_date": instalment.get("due_date"),
        "amount_cents": instalment.get("amount_cents"),
        "earliest": options.get("earliest"),
        "latest": options.get("latest"),
        "suggested": list(options.get("suggested") or []),
        "suggested_label": ", ".join(
            human(d, "date", env.locale) for d in options.get("suggested") or []
        ),
        "to": new_date.isoformat(),
        # The debit follows the due date to the next business day; the server's answer
        # replaces this preview after the change.
        "debit_date": roll_forward(new_date).isoformat(),
        "status": instalment.get("status"),
        "dry_run": True,
    }
    out = env.out
    fields = plan_fields(machine=out.fmt not in ("table", "markdown"))
    earliest, latest = options.get("earliest"), options.get("latest")
    if earliest and latest and not earliest <= new_date.isoformat() <= latest:
        # Outside the server's window the POST would be refused: say why now, with the
        # condition that fails, rather than ask to confirm a change that cannot happen.
        raise out_of_window(env, plan, number, new_date, options)
    if dry_run:
        out.render_one(summary, fields, title=_("Postponement (dry run)"))
        out.notice(_("dry run: nothing was changed"))
        return

    for column in plan_fields(machine=False)[:9]:
        value = human(summary[column.key], column.kind, env.locale)
        out.notice(_("{label}: {value}").format(label=column.header, value=value))
    if not yes and not env.confirm(_("Postpone this instalment? [y/N] ")):
        raise UsageError(_("cancelled: the instalment was not postponed"))

    with outcome_check(f"moncompte schedule {contract_id}"):
        updated = client.post(
            f"{base}/instalments/{number}/reschedule", {"to": new_date.isoformat()}
        )
    result = {
        **summary,
        "due_date": instalment.get("due_date"),
        "to": updated.get("due_date"),
        "debit_date": updated.get("debit_date"),
        "status": updated.get("status"),
        "dry_run": False,
    }
    out.render_one(result, fields, title=_("Instalment postponed"))
    out.notice(
        _("instalment {number} postponed to {date} (debited on {debit})").format(
            number=number,
            date=human(updated.get("due_date"), "date", env.locale),
            debit=human(updated.get("debit_date"), "date", env.locale),
        )
    )


def _parse_date(value: str) -> dt.date:
    if _ISO_DATE.fullmatch(value):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value)
    raise UsageError(
        _("invalid --to {value!r}: expected a date as YYYY-MM-DD").format(value=value),
        hint=_("for example --to 2026-12-28, or --by 7 for a week later"),
    )


def _instalment(schedule: Mapping[str, Any], number: int) -> Mapping[str, Any]:
    for inst in schedule.get("instalments") or []:
        if inst.get("number") == number:
            return dict(inst)
    # The options call would 404 too; saying which numbers exist is more helpful.
    numbers = [i.get("number") for i in schedule.get("instalments") or []]
    raise NotFoundError(
        _("no instalment {number} on {contract}").format(
            number=number, contract=schedule.get("contract_id")
        ),
        hint=_("instalments: {numbers}").format(numbers=", ".join(map(str, numbers)) or "-"),
    )
