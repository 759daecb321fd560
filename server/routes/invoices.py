"""Invoices: the list (filters, cursor pagination), one invoice with its explained lines,
and its PDF."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import select

from server.auth import ScopeDep
from server.documents import invoice_pdf
from server.models import Contract, Customer, Invoice, InvoiceLine
from server.pdf_cache import cached, row_digest
from server.routes.common import (
    Cursor,
    IdParam,
    Limit,
    after_cursor,
    own_invoice,
    read_route,
)
from server.routes.deps import SessionDep
from server.serializers import (
    DEFAULT_LIMIT,
    INVOICE_COLUMNS,
    InvoiceDetailOut,
    InvoicePage,
    encode_cursor,
    invoice_out,
    invoice_row_out,
)

router = APIRouter(prefix="/v1", tags=["invoices"])

StatusFilter = Literal["unpaid", "paid", "failed", "all"]

# `unpaid` means "not paid": a failed debit is money still owed too.
STATUSES_FOR_FILTER: dict[str, tuple[str, ...] | None] = {
    "unpaid": ("unpaid", "failed"),
    "paid": ("paid",),
    "failed": ("failed",),
    "all": None,
}


@read_route(
    router,
    "/invoices",
    name="list_invoices",
    response_model=InvoicePage,
    summary="Invoices, newest first (without lines)",
)
def list_invoices(
    scope: ScopeDep,
    session: SessionDep,
    status: Annotated[
        StatusFilter, Query(description="`unpaid` = not paid (unpaid or failed)")
    ] = "all",
    since: Annotated[date | None, Query(description="issued on or after")] = None,
    until: Annotated[date | None, Query(description="issued on or before")] = None,
    contract: Annotated[str | None, Query(max_length=64, description="a contract id")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    columns = [getattr(Invoice, c) for c in INVOICE_COLUMNS]
    query = select(*columns).where(Invoice.customer_id == scope.customer_id)
    wanted = STATUSES_FOR_FILTER[status]
    if wanted is not None:
        query = query.where(Invoice.status.in_(wanted))
    if since is not None:
        query = query.where(Invoice.issue_date >= since)
    if until is not None:
        query = query.where(Invoice.issue_date <= until)
    if contract is not None:
        query = query.where(Invoice.contract_id == contract)
    query = after_cursor(query, cursor, Invoice.issue_date, Invoice.id)
    rows = session.execute(
        query.order_by(Invoice.issue_date.desc(), Invoice.id.desc()).limit(limit + 1)
    ).all()
    page = [invoice_row_out(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor([last["issue_date"].isoformat(), last["id"]])
    return {"items": page, "next_cursor": next_cursor}


def _lines(session: SessionDep, invoice_id: str) -> list[InvoiceLine]:
    return list(
        session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.position)
        ).all()
    )


@read_route(
    router,
    "/invoices/{invoice_id}",
    name="get_invoice",
    response_model=InvoiceDetailOut,
    summary="One invoice with its lines, each with its explanation",
)
def get_invoice(invoice_id: IdParam, scope: ScopeDep, session: SessionDep) -> dict[str, Any]:
    invoice = own_invoice(session, scope.customer_id, invoice_id)
    return invoice_out(invoice, _lines(session, invoice.id))


@read_route(
    router,
    "/invoices/{invoice_id}/pdf",
    on_loop=False,  # fpdf2: about 130 ms of CPU for a new one
    name="get_invoice_pdf",
    response_class=Response,
    summary="The invoice as a PDF",
    responses={200: {"content": {"application/pdf": {}}, "description": "the PDF"}},
)
def get_invoice_pdf(invoice_id: IdParam, scope: ScopeDep, session: SessionDep) -> Response:
    invoice = own_invoice(session, scope.customer_id, invoice_id)
    customer = session.get(Customer, scope.customer_id)
    contract = session.get(Contract, invoice.contract_id)
    assert customer is not None and contract is not None
    lines = _lines(session, invoice.id)
    key = row_digest("invoice", [invoice, *lines, customer, contract])
    pdf = cached(key, lambda: invoice_pdf(invoice, lines, customer, contract))
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{invoice.id}.pdf"'},
    )
