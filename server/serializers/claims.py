"""Claim shapes, with their messages, attachments and mediator dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from domain.claims import mediator_from, mediator_until
from server.models import Claim, ClaimMessage
from server.serializers.formats import utc
from server.serializers.pagination import Page

ClaimCategory = Literal[
    "billing", "technical", "delivery", "order_not_received", "not_as_ordered",
    "termination", "other",
]  # fmt: skip


class AttachmentOut(BaseModel):
    filename: str
    content_type: str
    size: int


class MessageOut(BaseModel):
    author: Literal["customer", "support"]
    sent_at: datetime
    body: str
    attachments: list[AttachmentOut]


class ClaimOut(BaseModel):
    id: str
    category: ClaimCategory
    subject: str
    status: Literal["open", "answered", "escalated", "closed"]
    created_on: date
    last_answer_on: date | None
    contract_id: str | None
    messages: list[MessageOut]
    mediator_from: date
    mediator_until: date
    escalated_on: date | None


class ClaimPage(Page):
    items: list[ClaimOut]


def message_out(m: ClaimMessage) -> dict[str, Any]:
    return {
        "author": m.author,
        "sent_at": utc(m.sent_at),
        "body": m.body,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in sorted(m.attachments, key=lambda a: a.id)
        ],
    }


def claim_out(c: Claim) -> dict[str, Any]:
    return {
        "id": c.id,
        "category": c.category,
        "subject": c.subject,
        "status": c.status,
        "created_on": c.created_on,
        "last_answer_on": c.last_answer_on,
        "contract_id": c.contract_id,
        "messages": [message_out(m) for m in c.messages],
        "mediator_from": mediator_from(c.created_on),
        "mediator_until": mediator_until(c.created_on),
        "escalated_on": c.escalated_on,
    }
