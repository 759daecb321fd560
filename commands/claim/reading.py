"""`moncompte claim list` and `claim show`: your claims, and one with its messages."""

from __future__ import annotations

from typing import Any

import typer

from cli.context import Env
from cli.i18n import _
from cli.output import Column
from commands.claim._app import ClaimIdArg, app
from commands.claim.message import TYPE_NAMES, human_size
from commands.claim.views import claim_columns, claim_fields, in_words

# --- list / show --------------------------------------------------------------------------


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Your claims, newest first."""
    env = Env.of(ctx)
    rows = (in_words(env, claim) for claim in env.api().paginate("/v1/claims"))
    count = env.out.render(rows, claim_columns())
    if count == 0 and env.out.fmt == "table":
        env.out.notice(_("no claims"))


@app.command("show")
def show(ctx: typer.Context, claim_id: ClaimIdArg) -> None:
    """A claim with its messages, attachments and mediator dates."""
    env = Env.of(ctx)
    claim = env.api().get(f"/v1/claims/{claim_id}")
    if env.out.fmt == "json":
        env.out.json(claim)
        return
    env.out.render_one(
        in_words(env, claim), claim_fields(), title=_("Claim {id}").format(id=claim["id"])
    )
    if env.out.fmt not in ("table", "markdown"):
        return
    env.out.text("")
    env.out.render(
        [_message_row(m) for m in claim.get("messages") or []],
        [
            Column("sent_at", _("Sent"), "date"),
            Column("author", _("From")),
            Column("body", _("Message")),
            Column("attachments", _("Attachments")),
        ],
        title=_("Messages"),
    )


def _author(author: str) -> str:
    """Who wrote a message, in words (tables only: json keeps the API's code)."""
    # Translators: the author of a claim message: the customer, or the provider's support.
    labels = {"customer": _("customer"), "support": _("support")}
    return labels.get(author, author)


def _message_row(message: dict[str, Any]) -> dict[str, Any]:
    files = ", ".join(
        f"{a.get('filename')} ({TYPE_NAMES.get(a.get('content_type', ''), '?')}, "
        f"{human_size(int(a.get('size') or 0))})"
        for a in message.get("attachments") or []
    )
    return {
        "sent_at": message.get("sent_at"),
        "author": _author(str(message.get("author"))),
        "body": message.get("body"),
        "attachments": files or None,
    }
