"""How claims and drafts are shown: their columns and fields, and the one-item views."""

from __future__ import annotations

from typing import Any

from cli.context import Env
from cli.i18n import _
from cli.output import Column
from commands.claim.drafts import Draft


def claim_columns() -> list[Column]:
    return [
        Column("id", _("claim")),
        Column("status", _("status")),
        Column("category", _("category")),
        Column("subject", _("subject")),
        Column("created_on", _("created"), "date"),
        Column("last_answer_on", _("last answer"), "date"),
        Column("mediator_from", _("mediator from"), "date"),
        Column("mediator_until", _("mediator before"), "date"),
        Column("escalated_on", _("escalated"), "date"),
        Column("contract_id", _("contract")),
    ]


def claim_fields() -> list[Column]:
    return [
        Column("id", _("Claim")),
        Column("status", _("Status")),
        Column("category", _("Category")),
        Column("subject", _("Subject")),
        Column("contract_id", _("Contract")),
        Column("created_on", _("Written on"), "date"),
        Column("last_answer_on", _("Last answer"), "date"),
        Column("mediator_from", _("Mediator possible from"), "date"),
        Column("mediator_until", _("Mediator to be seized before"), "date"),
        Column("escalated_on", _("Escalated on"), "date"),
    ]


def show_claim(env: Env, claim: dict[str, Any]) -> None:
    if env.out.fmt == "json":
        env.out.json(claim)
    else:
        env.out.render_one(claim, claim_fields())


def draft_columns() -> list[Column]:
    return [
        Column("id", _("draft")),
        Column("kind", _("kind")),
        Column("status", _("status")),
        Column("claim_id", _("claim")),
        Column("category", _("category")),
        Column("subject", _("subject")),
        Column("attachments", _("attachments")),
        Column("attempts", _("attempts"), "int"),
        Column("created_at", _("created")),
        Column("last_error", _("last error")),
    ]


def draft_row(draft: Draft) -> dict[str, Any]:
    row = draft.summary()
    row["attachments"] = ", ".join(row["attachments"]) or None
    return row


def show_draft(env: Env, draft: Draft) -> None:
    row = draft_row(draft)
    if env.out.fmt == "json":
        env.out.json(draft.summary())
    else:
        env.out.render_one(row, draft_columns())
