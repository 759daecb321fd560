"""How claims and drafts are shown: their columns and fields, and the one-item views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cli.context import Env
from cli.i18n import _
from cli.output import Column
from commands.claim.drafts import Draft


def status_label(status: str) -> str:
    """A claim's status in words; json/ndjson/csv/tsv keep the API's value."""
    labels = {
        "open": _("open"),
        "answered": _("answered"),
        "escalated": _("escalated"),
        "closed": _("closed"),
    }
    return labels.get(status, status)


def category_label(category: str) -> str:
    """A claim's category in words; the machine formats keep the API's value."""
    labels = {
        "billing": _("billing"),
        "technical": _("technical"),
        "delivery": _("delivery"),
        "order_not_received": _("order not received"),
        "not_as_ordered": _("not as ordered"),
        "termination": _("termination"),
        "other": _("other"),
    }
    return labels.get(category, category)


def draft_status_label(status: str) -> str:
    labels = {"pending": _("pending"), "rejected": _("rejected")}
    return labels.get(status, status)


def draft_kind_label(kind: str) -> str:
    labels = {"new": _("new claim"), "reply": _("reply")}
    return labels.get(kind, kind)


def in_words(env: Env, claim: Mapping[str, Any]) -> dict[str, Any]:
    """Status and category in words where a person reads them (tables, markdown)."""
    row = dict(claim)
    if env.out.fmt in HUMAN:
        row["status"] = status_label(str(claim.get("status")))
        row["category"] = category_label(str(claim.get("category")))
    return row


HUMAN = ("table", "markdown")


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
        env.out.render_one(in_words(env, claim), claim_fields())


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
        Column("created_at", _("created"), "date"),
        Column("last_error", _("last error")),
    ]


def draft_row(draft: Draft, env: Env | None = None) -> dict[str, Any]:
    """A draft's row; with `env` and a table or markdown output, its words translated."""
    row = draft.summary()
    row["attachments"] = ", ".join(row["attachments"]) or None
    if env is not None and env.out.fmt in HUMAN:
        row["status"] = draft_status_label(str(row.get("status")))
        row["kind"] = draft_kind_label(str(row.get("kind")))
        if row.get("category"):
            row["category"] = category_label(str(row["category"]))
        if row.get("last_error") == "interrupted":  # record_interruption's word
            row["last_error"] = _("interrupted")
    return row


def show_draft(env: Env, draft: Draft) -> None:
    row = draft_row(draft, env)
    if env.out.fmt == "json":
        env.out.json(draft.summary())
    else:
        env.out.render_one(row, draft_columns())
