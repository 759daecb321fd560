"""Claims: file one (merchant first for order problems), reply with attachments,
escalate to the mediator when the law allows, and print the registered letter."""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload
from sqlalchemy.sql import Select

from domain.claims import check_claim_category, check_escalation
from domain.i18n import N_, Text
from server.auth import ScopeDep
from server.documents import Provider, claim_letter_pdf, claim_letter_text
from server.idempotency import IdempotencyKey
from server.models import Attachment, Claim, ClaimMessage, Customer
from server.problems import Problem, not_found
from server.routes.common import (
    MUTATION_ERRORS,
    Cursor,
    IdParam,
    Limit,
    after_cursor,
    own_claim,
    own_contract,
    read_route,
)
from server.routes.deps import ClockDep, SessionDep, inline
from server.routes.status import settings
from server.serializers import (
    DEFAULT_LIMIT,
    ClaimCategory,
    ClaimOut,
    ClaimPage,
    claim_out,
    encode_cursor,
)

router = APIRouter(prefix="/v1", tags=["claims"])

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS = 10
# base64 of 5 MiB, padded: the string bound that lets the size check run on decoded bytes.
MAX_BASE64_CHARS = (MAX_ATTACHMENT_BYTES + 2) // 3 * 4
MAX_MESSAGE_CHARS = 20_000

AttachmentType = Literal["application/pdf", "image/png", "image/jpeg", "text/plain"]


class ClaimCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: ClaimCategory
    subject: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    contract_id: str | None = Field(default=None, max_length=64)
    merchant_contacted: bool = False

    @field_validator("subject", "message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(Text(N_("must not be blank")))
        return value


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    content_type: AttachmentType
    # The request body limit (10 MiB) bounds it too; the bound here is generous so that an
    # attachment just over 5 MiB gets "attachment_too_large", not a string-length message.
    content_base64: str = Field(max_length=2 * MAX_BASE64_CHARS, description="≤ 5 MiB decoded")

    @field_validator("filename")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if any(ch in value for ch in "/\\") or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError(Text(N_("a file name only, without folders or control characters")))
        if value.strip(" .") == "":
            raise ValueError(Text(N_("not a file name")))
        return value


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class EscalateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _with_messages(query: Select[Any]) -> Select[Any]:
    # Attachment contents (up to 5 MiB each) are never needed to describe a claim.
    return query.options(
        selectinload(Claim.messages)
        .selectinload(ClaimMessage.attachments)
        .options(defer(Attachment.content))
    )


def _load_claim(session: Session, customer_id: str, claim_id: str) -> Claim:
    claim: Claim | None = session.scalars(
        _with_messages(select(Claim).where(Claim.id == claim_id, Claim.customer_id == customer_id))
    ).first()
    if claim is None:
        raise not_found("claim")
    return claim


def _new_claim_id(session: Session, today: date) -> str:
    for _ in range(10):
        candidate = f"CL-{today:%Y%m%d}-{secrets.token_hex(3).upper()}"
        if session.get(Claim, candidate) is None:
            return candidate
    raise RuntimeError("could not draw a free claim id")


_MAGIC: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}


def _decode_attachment(index: int, item: AttachmentIn) -> bytes:
    where = f"body.attachments.{index}"
    if len(item.content_base64) > MAX_BASE64_CHARS:
        raise Problem(
            422,
            "attachment_too_large",
            Text(
                N_("{field}: {file} is about {size} bytes; at most {limit} bytes (5 MiB) per file"),
                field=where,
                file=repr(item.filename),
                size=len(item.content_base64) * 3 // 4,
                limit=MAX_ATTACHMENT_BYTES,
            ),
        )
    try:
        content = base64.b64decode(item.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise Problem(
            422,
            "invalid_attachment",
            Text(N_("{field}: not valid base64"), field=f"{where}.content_base64"),
        ) from None
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise Problem(
            422,
            "attachment_too_large",
            Text(
                N_("{field}: {file} is {size} bytes; at most {limit} bytes (5 MiB) per file"),
                field=where,
                file=repr(item.filename),
                size=len(content),
                limit=MAX_ATTACHMENT_BYTES,
            ),
        )
    if not content:
        raise Problem(
            422,
            "invalid_attachment",
            Text(N_("{field}: {file} is empty"), field=where, file=repr(item.filename)),
        )
    # The declared type must match the bytes: a client cannot label an executable a PDF.
    magics = _MAGIC.get(item.content_type)
    if magics is not None:
        if not content.startswith(magics):
            raise Problem(
                422,
                "invalid_attachment",
                Text(
                    N_("{field}: {file} is declared {type} but its content is not"),
                    field=where,
                    file=repr(item.filename),
                    type=item.content_type,
                ),
            )
    else:  # text/plain: UTF-8 text without NUL bytes
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            text = "\x00"
        if "\x00" in text:
            raise Problem(
                422,
                "invalid_attachment",
                Text(
                    N_("{field}: {file} is declared text/plain but is not UTF-8 text"),
                    field=where,
                    file=repr(item.filename),
                ),
            )
    return content


@read_route(
    router,
    "/claims",
    name="list_claims",
    response_model=ClaimPage,
    summary="Claims, newest first",
)
def list_claims(
    scope: ScopeDep,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    query = select(Claim).where(Claim.customer_id == scope.customer_id)
    query = after_cursor(query, cursor, Claim.created_on, Claim.id)
    rows = session.scalars(
        _with_messages(query.order_by(Claim.created_on.desc(), Claim.id.desc()).limit(limit + 1))
    ).all()
    page = rows[:limit]
    return {
        "items": [claim_out(c) for c in page],
        "next_cursor": (
            encode_cursor([page[-1].created_on.isoformat(), page[-1].id])
            if len(rows) > limit
            else None
        ),
    }


@router.post(
    "/claims",
    status_code=201,
    response_model=ClaimOut,
    operation_id="create_claim",
    summary="File a claim (order problems: contact the merchant first)",
    responses=MUTATION_ERRORS,
    dependencies=[IdempotencyKey],
)
@inline
def create_claim(
    body: ClaimCreate, scope: ScopeDep, session: SessionDep, clock: ClockDep
) -> dict[str, Any]:
    check_claim_category(body.category, body.merchant_contacted)
    if body.contract_id is not None:
        own_contract(session, scope.customer_id, body.contract_id)
    today = clock.today()
    claim = Claim(
        id=_new_claim_id(session, today),
        customer_id=scope.customer_id,
        contract_id=body.contract_id,
        category=body.category,
        subject=body.subject.strip(),
        status="open",
        created_on=today,
    )
    claim.messages.append(ClaimMessage(author="customer", sent_at=clock.stamp(), body=body.message))
    session.add(claim)
    session.commit()
    return claim_out(_load_claim(session, scope.customer_id, claim.id))


@read_route(
    router,
    "/claims/{claim_id}",
    name="get_claim",
    response_model=ClaimOut,
    summary="One claim with its messages and mediator dates",
)
def get_claim(claim_id: IdParam, scope: ScopeDep, session: SessionDep) -> dict[str, Any]:
    return claim_out(_load_claim(session, scope.customer_id, claim_id))


def _refuse_if_closed(claim: Claim) -> None:
    if claim.status == "closed":
        raise Problem(
            409,
            "claim_closed",
            Text(N_("claim {claim} is closed; file a new claim"), claim=claim.id),
            rule="claims.closed",
        )


@router.post(
    "/claims/{claim_id}/messages",
    response_model=ClaimOut,
    operation_id="add_claim_message",
    summary="Add a message, with attachments (pdf, png, jpeg, txt; 5 MiB each)",
    responses=MUTATION_ERRORS,
    dependencies=[IdempotencyKey],
)
@inline
def add_claim_message(
    claim_id: IdParam,
    body: MessageCreate,
    scope: ScopeDep,
    session: SessionDep,
    clock: ClockDep,
) -> dict[str, Any]:
    if not body.body.strip():
        raise Problem(
            422,
            "validation_error",
            Text(
                N_("{field}: {message}"), field="body.body", message=Text(N_("must not be blank"))
            ),
        )
    claim = own_claim(session, scope.customer_id, claim_id)
    _refuse_if_closed(claim)
    files = [_decode_attachment(i, item) for i, item in enumerate(body.attachments)]
    message = ClaimMessage(author="customer", sent_at=clock.stamp(), body=body.body)
    for item, content in zip(body.attachments, files, strict=True):
        message.attachments.append(
            Attachment(
                filename=item.filename,
                content_type=item.content_type,
                size=len(content),
                content=content,
            )
        )
    claim.messages.append(message)
    if claim.status == "answered":
        claim.status = "open"  # the ball is back in support's court
    session.commit()
    session.expunge_all()
    return claim_out(_load_claim(session, scope.customer_id, claim_id))


@router.post(
    "/claims/{claim_id}/escalate",
    response_model=ClaimOut,
    operation_id="escalate_claim",
    summary="Escalate to the mediator (2 months without answer, within 1 year)",
    responses=MUTATION_ERRORS,
    dependencies=[IdempotencyKey],
)
@inline
def escalate_claim(
    claim_id: IdParam,
    scope: ScopeDep,
    session: SessionDep,
    clock: ClockDep,
    body: EscalateRequest | None = None,
) -> dict[str, Any]:
    claim = _load_claim(session, scope.customer_id, claim_id)
    _refuse_if_closed(claim)
    if claim.status == "escalated":
        raise Problem(
            409,
            "already_escalated",
            Text(
                N_("claim {claim} was already escalated on {date}"),
                claim=claim.id,
                date=claim.escalated_on,
            ),
            rule="escalation.once",
        )
    today = clock.today()
    answered = any(m.author == "support" for m in claim.messages)
    check_escalation(claim.created_on, today, answered)
    claim.status = "escalated"
    claim.escalated_on = today
    session.commit()
    return claim_out(claim)


@read_route(
    router,
    "/claims/{claim_id}/letter",
    on_loop=False,  # a PDF too
    name="get_claim_letter",
    response_class=Response,
    summary="The registered letter (lettre recommandée avec AR) to send, filled in",
    responses={
        200: {
            "description": "the letter",
            "content": {"text/plain": {}, "application/pdf": {}},
        }
    },
)
def get_claim_letter(
    claim_id: IdParam,
    scope: ScopeDep,
    session: SessionDep,
    clock: ClockDep,
    format: Annotated[Literal["text", "pdf"], Query(description="text or pdf")] = "text",  # noqa: A002
) -> Response:
    claim = _load_claim(session, scope.customer_id, claim_id)
    customer = session.get(Customer, scope.customer_id)
    assert customer is not None
    values = settings(session)
    provider = Provider(
        consumer_service_address=values.get("consumer_service_address")
        or values["support_postal_address"],
        mediator_name=values["mediator_name"],
        mediator_url=values["mediator_url"],
    )
    today = clock.today()
    if format == "pdf":
        return Response(
            content=claim_letter_pdf(claim, customer, provider, today),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{claim.id}-lettre.pdf"'},
        )
    return Response(
        content=claim_letter_text(claim, customer, provider, today).encode("utf-8"),
        media_type="text/plain; charset=utf-8",
    )
