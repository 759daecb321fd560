"""`moncompte claim escalate` and `claim letter`: seize the mediator, and the registered
letter to the consumer service.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.context import Env
from cli.errors import RuleError, UsageError, outcome_check
from cli.i18n import _
from cli.output import Column, human
from commands.claim._app import ClaimIdArg, app
from commands.claim.message import atomic_write_bytes

# --- escalate / letter ----------------------------------------------------------------------


@app.command("escalate")
def escalate(ctx: typer.Context, claim_id: ClaimIdArg) -> None:
    """Escalate to the mediator: 2 months without answer, within 1 year of the claim."""
    env = Env.of(ctx)
    client = env.api()
    claim = client.get(f"/v1/claims/{claim_id}")
    try:
        with outcome_check(f"moncompte claim show {claim['id']}"):
            escalated = client.post(f"/v1/claims/{claim['id']}/escalate", None)
    except RuleError as exc:
        raise _escalation_refusal(env, claim, exc) from exc
    status = client.get("/v1/status", auth=False)
    mediator = (status or {}).get("mediator") or {}
    if env.out.fmt == "json":
        env.out.json({**escalated, "mediator": mediator})
        return
    if env.out.fmt != "table" and env.out.fmt != "markdown":
        env.out.render(
            [{**escalated, "mediator": mediator}],
            [
                Column(k, k)
                for k in (
                    "id",
                    "status",
                    "escalated_on",
                    "mediator_until",
                    "mediator.name",
                    "mediator.url",
                )
            ],  # fmt: skip
        )
        return
    d = _date_formatter(env)
    env.out.text(
        _("Claim {id} is escalated (on {date}).").format(
            id=escalated["id"], date=d(escalated.get("escalated_on"))
        )
    )
    env.out.text(
        _(
            "Seize the mediator, {name} ({url}), before {until}: one year after your written "
            "claim of {created}."
        ).format(
            name=mediator.get("name", "-"),
            url=mediator.get("url", "-"),
            until=d(escalated.get("mediator_until")),
            created=d(escalated.get("created_on")),
        )
    )
    env.out.text(
        _(
            "The registered letter to the consumer service: "
            "moncompte claim letter {id} --format pdf --to {id}.pdf"
        ).format(id=escalated["id"])
    )


def _escalation_refusal(env: Env, claim: dict[str, Any], exc: RuleError) -> RuleError:
    d = _date_formatter(env)
    rule = exc.rule or "-"
    if exc.code == "escalation_too_early":
        text = _(
            "refused by rule {rule} (escalation_too_early): claim {id} of {created} has had no "
            "answer for less than two months; the mediator can be seized from {date}"
        ).format(rule=rule, id=claim["id"], created=d(claim.get("created_on")),
                 date=d(claim.get("mediator_from")))  # fmt: skip
    elif exc.code == "escalation_too_late":
        text = _(
            "refused by rule {rule} (escalation_too_late): the mediator had to be seized "
            "before {date}, one year after the claim of {created}"
        ).format(rule=rule, date=d(claim.get("mediator_until")),
                 created=d(claim.get("created_on")))  # fmt: skip
    else:
        text = _("refused by rule {rule} ({code}): {detail}").format(
            rule=rule, code=exc.code or "-", detail=exc.detail or exc.message
        )
    return RuleError(text, status=exc.status, code=exc.code, rule=exc.rule, detail=exc.detail)


@app.command("letter")
def letter(
    ctx: typer.Context,
    claim_id: ClaimIdArg,
    format_: Annotated[
        str, typer.Option("--format", "-f", metavar="text|pdf", help="text or pdf.")
    ] = "text",
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="FILE", help="Write to FILE (- for stdout)."),
    ] = None,
) -> None:
    """The registered letter (lettre recommandée avec AR) for the claim, filled in."""
    env = Env.of(ctx)
    if format_ not in ("text", "pdf"):
        raise UsageError(
            _("unknown letter format {format!r}").format(format=format_),
            hint=_("use --format text or --format pdf"),
        )
    to_stdout = to is None or to == "-"
    if format_ == "pdf" and to_stdout and env.stdout_isatty:
        raise UsageError(
            _("refusing to write a PDF to the terminal"),
            hint=_("use --to FILE, or redirect the output to a file"),
        )
    data = env.api().get_bytes(f"/v1/claims/{claim_id}/letter", {"format": format_})
    if to_stdout:
        if format_ == "text":
            env.out.text(data.decode("utf-8"))
        else:
            env.out.bytes(data)
        return
    assert to is not None
    path = Path(os.path.expanduser(to))  # ~nosuchuser stays as typed, like a shell
    atomic_write_bytes(path, data)
    env.out.notice(_("letter written to {path}").format(path=path))


# --- output helpers -----------------------------------------------------------------------


def _date_formatter(env: Env) -> Callable[[Any], str]:
    def fmt(value: Any) -> str:
        return human(value, "date", env.locale)

    return fmt
