"""`moncompte claim new` and `claim reply`: file a claim or add a message to one.

Both send at once, or keep a draft (`--offline`, or when the service cannot take it now)
that `claim send` sends later with the same idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from cli.context import Env
from cli.errors import MoncompteError, RuleError, UsageError
from cli.i18n import _
from commands.claim._app import AttachOpt, ClaimIdArg, MessageFileOpt, MessageOpt, app
from commands.claim.drafts import (
    Draft,
    DraftStore,
    deliver,
    is_transient,
    record_failure,
    record_interruption,
)
from commands.claim.message import message_text, read_attachments
from commands.claim.views import category_label, show_claim, show_draft
from commands.terminate.requests import rule_refusals
from domain.claims import MERCHANT_FIRST_CATEGORIES

CATEGORIES = (
    "billing",
    "technical",
    "delivery",
    "order_not_received",
    "not_as_ordered",
    "termination",
    "other",
)


# --- new ----------------------------------------------------------------------------------


@app.command("new")
def new(
    ctx: typer.Context,
    category: Annotated[
        str,
        typer.Option("--category", "-c", help=f"One of: {', '.join(CATEGORIES)}."),
    ],
    subject: Annotated[str, typer.Option("--subject", "-s", help="A short subject line.")],
    message: MessageOpt = None,
    message_file: MessageFileOpt = None,
    contract: Annotated[
        str | None,
        typer.Option("--contract", metavar="CONTRACT", help="The contract concerned."),
    ] = None,
    attach: AttachOpt = None,
    merchant_contacted: Annotated[
        bool,
        typer.Option(
            "--merchant-contacted",
            help="For order_not_received / not_as_ordered: the merchant was contacted first.",
        ),
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Only save a draft; send it later (claim send).")
    ] = False,
) -> None:
    """File a claim (without --message, your $EDITOR opens on a terminal)."""
    env = Env.of(ctx)
    if category not in CATEGORIES:
        raise UsageError(
            _("unknown category {category!r}").format(category=category),
            hint=_("choose one of {choices}").format(choices=", ".join(CATEGORIES)),
        )
    if not subject.strip():
        raise UsageError(_("the subject is empty"))
    attachments = read_attachments(attach)
    if category in MERCHANT_FIRST_CATEGORIES and not merchant_contacted:
        _merchant_first(env, category)
        merchant_contacted = True
    text = message_text(env, message, message_file, header=f"{subject.strip()} ({category})")
    claim_body: dict[str, Any] = {
        "category": category,
        "subject": subject.strip(),
        "message": text,
        "contract_id": contract,
        "merchant_contacted": merchant_contacted,
    }
    # The creation endpoint takes no files: they follow as the claim's second message.
    followup = (
        {
            "body": _("Attached files: {names}").format(
                names=", ".join(a["filename"] for a in attachments)
            ),
            "attachments": attachments,
        }
        if attachments
        else None
    )
    draft = Draft.new_claim(claim_body, followup, now=env.now())
    if offline:
        DraftStore().save(draft)
        show_draft(env, draft)
        env.out.notice(
            _("saved as draft {id}; send it with: moncompte claim send {id}").format(id=draft.id)
        )
        return
    claim = _send_now(env, draft)
    show_claim(env, claim)
    env.out.notice(_("claim {id} filed").format(id=claim["id"]))


def _merchant_first(env: Env, category: str) -> None:
    """Say that the merchant comes first, and get the user's word that they were contacted."""
    if not env.can_prompt:
        raise UsageError(
            _(
                "for a claim of category {category} the merchant must be contacted first, "
                "and there is no terminal to ask whether you did"
            ).format(category=category_label(category)),
            hint=_("give --merchant-contacted once the merchant has not solved the problem"),
        )
    env.stderr.write(
        _(
            "For an order not received or not as ordered, contact the merchant first: they "
            "are the ones who can ship, replace or refund it. File this claim only if they "
            "did not solve the problem.\n"
        )
    )
    if not env.confirm(_("Have you contacted the merchant? [y/N] "), flag="--merchant-contacted"):
        raise RuleError(
            _(
                "refused by rule claims.merchant_first (merchant_first): contact the merchant "
                "first; nothing was sent"
            ),
            rule="claims.merchant_first",
            code="merchant_first",
        )


# --- reply --------------------------------------------------------------------------------


@app.command("reply")
def reply(
    ctx: typer.Context,
    claim_id: ClaimIdArg,
    message: MessageOpt = None,
    message_file: MessageFileOpt = None,
    attach: AttachOpt = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Only save a draft; send it later (claim send).")
    ] = False,
) -> None:
    """Add a message (and attachments) to a claim."""
    env = Env.of(ctx)
    attachments = read_attachments(attach)
    text = message_text(env, message, message_file, header=_("Reply to {id}").format(id=claim_id))
    draft = Draft.reply(claim_id, {"body": text, "attachments": attachments}, now=env.now())
    if offline:
        DraftStore().save(draft)
        show_draft(env, draft)
        env.out.notice(
            _("saved as draft {id}; send it with: moncompte claim send {id}").format(id=draft.id)
        )
        return
    claim = _send_now(env, draft)
    show_claim(env, claim)
    env.out.notice(_("message added to claim {id}").format(id=claim["id"]))


def _send_now(env: Env, draft: Draft) -> dict[str, Any]:
    """Send a fresh draft; keep it on disk when the service cannot take it now.

    Saved also on Ctrl-C: the request may already have reached the server, and only the
    draft's key lets a later `claim send` complete it without filing it twice.
    """
    store = DraftStore()
    try:
        with rule_refusals():
            return deliver(draft, env.api(), progress=_save_if_kept(store))
    except KeyboardInterrupt:
        record_interruption(draft, env.now())
        store.save(draft)
        env.out.warn(
            _(
                "interrupted: the claim may or may not have reached the server; it was kept "
                "as draft {id} (moncompte claim send {id} completes it without duplicate, "
                "moncompte claim drafts --discard {id} forgets it)"
            ).format(id=draft.id)
        )
        raise
    except MoncompteError as exc:
        if not is_transient(exc):
            raise
        record_failure(draft, exc, env.now())
        store.save(draft)
        raise type(exc)(
            _("{error}; the claim was saved as draft {id}").format(error=exc.message, id=draft.id),
            hint=_("send it later with: moncompte claim send {id}").format(id=draft.id),
            status=exc.status,
            code=exc.code,
            rule=exc.rule,
        ) from exc


def _save_if_kept(store: DraftStore) -> Callable[[Draft], None]:
    def progress(draft: Draft) -> None:
        # A fresh draft lives only in memory; once on disk, its progress must be recorded.
        if store.exists(draft.id):
            store.save(draft)

    return progress
