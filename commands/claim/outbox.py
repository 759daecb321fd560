"""`moncompte claim drafts` and `claim send`: the claims saved as drafts, sent later.

Each draft is sent with its original idempotency key, so never twice (`drafts.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import typer

from cli.context import Env
from cli.errors import PartialFailure, UsageError
from cli.i18n import _
from cli.output import Column
from commands.claim._app import app
from commands.claim.drafts import Draft, DraftStore, Outcome, replay_expired, send_saved
from commands.claim.views import draft_columns, draft_row

# --- drafts / send --------------------------------------------------------------------------


@app.command("drafts")
def drafts(
    ctx: typer.Context,
    discard: Annotated[
        list[str] | None,
        typer.Option("--discard", metavar="DRAFT", help="Delete this draft (repeatable)."),
    ] = None,
) -> None:
    """Claims saved while the service could not be reached (send them with claim send)."""
    env = Env.of(ctx)
    store = DraftStore()
    if discard:
        for draft_id in discard:
            store.get(draft_id)  # exit 4 for an unknown draft, before deleting anything
        for draft_id in discard:
            store.delete(draft_id)
            env.out.notice(_("draft {id} discarded").format(id=draft_id))
        return
    found, broken = store.scan()
    for item in broken:
        env.out.warn(
            _("{path} is not a readable draft ({reason}); it was left as is").format(
                path=item.path, reason=item.reason
            )
        )
    now = env.now()
    for draft in found:
        if replay_expired(draft, now):
            env.out.warn(_expired_warning(draft))
    rows = [draft_row(d, env) for d in found]
    env.out.render(rows, draft_columns())
    if not rows and env.out.fmt == "table":
        env.out.notice(_("no drafts in {dir}").format(dir=store.directory))


def _expired_warning(draft: Draft) -> str:
    return _(
        "draft {id} may have reached the server more than 24 hours ago, and the server no "
        "longer recognises its key: check 'moncompte claim list' before sending it "
        "(moncompte claim send {id})"
    ).format(id=draft.id)


def _send_columns() -> list[Column]:
    return [
        Column("draft", _("draft")),
        Column("result", _("result")),
        Column("claim", _("claim")),
        Column("detail", _("detail")),
    ]


@app.command("send")
def send(
    ctx: typer.Context,
    draft_id: Annotated[
        str | None, typer.Argument(metavar="DRAFT", help="The draft to send (or --all).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Send every pending draft.")] = False,
) -> None:
    """Send saved drafts, each with its original idempotency key (never twice).

    A draft is deleted once the server has accepted it. One the server refused for good
    (a rule, an unknown claim, invalid content) is kept, marked "rejected", and skipped by
    --all: send it by its ID, or discard it (claim drafts --discard).
    """
    env = Env.of(ctx)
    if (draft_id is None) == (not all_):
        raise UsageError(_("give either a draft ID or --all"), hint="moncompte claim drafts")

    store = DraftStore()
    if draft_id is not None:
        draft = store.get(draft_id)
        draft.status = "pending"  # named explicitly: the user asks for another try
        queue = [draft]
    else:
        found, broken = store.scan()
        for item in broken:
            env.out.warn(
                _("{path} is not a readable draft ({reason}); it was left as is").format(
                    path=item.path, reason=item.reason
                )
            )
        rejected = [d for d in found if d.status == "rejected"]
        if rejected:
            env.out.notice(
                _("{n} rejected draft(s) skipped: send them by ID, or discard them").format(
                    n=len(rejected)
                )
            )
        now = env.now()
        queue = []
        for d in found:
            if d.status != "pending":
                continue
            if replay_expired(d, now):
                env.out.warn(_expired_warning(d))
                continue
            queue.append(d)
        if not queue:
            env.out.notice(_("no drafts to send"))
            return
    outcomes: list[Outcome] = []
    env.out.render(_sending(env, store, queue, outcomes), _send_columns())
    _conclude(outcomes)


def _sending(
    env: Env, store: DraftStore, queue: list[Draft], outcomes: list[Outcome]
) -> Iterator[dict[str, Any]]:
    """Send one draft at a time, yielding its row as soon as it is known."""
    client = env.api()
    for draft in queue:
        outcome = send_saved(draft, client, store, env.now())
        outcomes.append(outcome)
        human = env.out.fmt in ("table", "markdown")
        yield {
            "draft": draft.id,
            "result": result_label(outcome.result) if human else outcome.result,
            "claim": (outcome.claim or {}).get("id") or draft.claim_id,
            "detail": outcome.error.message if outcome.error else None,
        }


def result_label(result: str) -> str:
    labels = {"sent": _("sent"), "failed": _("failed"), "rejected": _("rejected")}
    return labels.get(result, result)


def _conclude(outcomes: list[Outcome]) -> None:
    failed = [o for o in outcomes if o.result != "sent"]
    if not failed:
        return
    sent = len(outcomes) - len(failed)
    first = failed[0].error
    assert first is not None
    message = _("{n} draft(s) not sent; they are kept (moncompte claim drafts)").format(
        n=len(failed)
    )
    if sent:
        raise PartialFailure(message, hint=_("retry with: moncompte claim send --all"))
    raise type(first)(message + ": " + first.message, status=first.status, code=first.code,
                      rule=first.rule)  # fmt: skip
