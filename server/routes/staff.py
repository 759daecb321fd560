"""Staff: customer search, one customer, and the bulk lookup.

The customer resources themselves are served to staff by the same handlers as to
customers (see `routes.common.read_route`), under `/v1/customers/{customer_id}/...`.

`POST /v1/lookup` is the bulk path that support scripts use for thousands of customers:
it answers up to 100 customers with one query per resource for the whole batch (not one
per customer) and serialises straight to JSON, skipping the response models.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from domain.i18n import N_, Text
from server.auth import BearerDep, ScopeDep, StaffDep, check_staff, principal_from
from server.faults import injected_fault
from server.idempotency import IdempotencyKey
from server.models import Contract, Customer, Instalment, Invoice
from server.problems import Problem, not_found, problem_responses
from server.routes.common import COMMON_ERRORS, Cursor, Limit
from server.routes.contracts import with_details
from server.routes.deps import Clock, ClockDep, SessionDep, inline
from server.routes.invoices import STATUSES_FOR_FILTER
from server.serializers import (
    DEFAULT_LIMIT,
    INVOICE_COLUMNS,
    CustomerOut,
    CustomerPage,
    LookupOut,
    contract_out,
    customer_out,
    decode_cursor,
    encode_cursor,
    invoice_row_out,
    json_default,
    schedule_out,
)

router = APIRouter(prefix="/v1", tags=["staff"])

MAX_LOOKUP = 100
CONTRACT_STATUSES = ("active", "pending_activation", "terminated", "withdrawn")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


@router.get(
    "/customers",
    response_model=CustomerPage,
    operation_id="search_customers",
    summary="Search customers by name, email, customer number or id (staff only)",
    responses=COMMON_ERRORS,
)
@inline
def search_customers(
    _staff: StaffDep,
    session: SessionDep,
    q: Annotated[
        str | None,
        Query(max_length=200, description="words to find in name, email, number or id"),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    query = select(Customer).options(selectinload(Customer.restrictions))
    # Every word must match one of the fields: "martin lyon" is not needed, but
    # "jean martin" finds Jean Martin and not every Jean.
    for word in (q or "").split()[:10]:
        pattern = _like(word)
        query = query.where(
            or_(
                func.lower(Customer.id).like(pattern, escape="\\"),
                func.lower(Customer.customer_number).like(pattern, escape="\\"),
                func.lower(Customer.email).like(pattern, escape="\\"),
                func.lower(Customer.first_name).like(pattern, escape="\\"),
                func.lower(Customer.last_name).like(pattern, escape="\\"),
            )
        )
    if cursor:
        (after,) = decode_cursor(cursor, 1)
        query = query.where(Customer.id > str(after))
    rows = session.scalars(query.order_by(Customer.id).limit(limit + 1)).all()
    page = rows[:limit]
    return {
        "items": [customer_out(c) for c in page],
        "next_cursor": encode_cursor([page[-1].id]) if len(rows) > limit else None,
    }


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerOut,
    operation_id="get_customer",
    summary="One customer (staff only; 404 for a customer token)",
    responses=COMMON_ERRORS,
)
@inline
def get_customer(customer_id: str, scope: ScopeDep, session: SessionDep) -> dict[str, Any]:
    customer = session.get(Customer, scope.customer_id)
    if customer is None:  # pragma: no cover - the scope checked it exists
        raise not_found("customer")
    return customer_out(customer)


class LookupFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str | None = Field(
        default=None,
        max_length=30,
        description="invoices: unpaid|paid|failed|all; contracts: a contract status",
    )


class LookupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_LOOKUP
    )
    resource: Literal["customer", "contracts", "invoices", "schedule"]
    filters: LookupFilters = Field(default_factory=LookupFilters)


def _lookup_customers(session: SessionDep, ids: list[str]) -> dict[str, Any]:
    rows = session.scalars(
        select(Customer).options(selectinload(Customer.restrictions)).where(Customer.id.in_(ids))
    ).all()
    return {c.id: customer_out(c) for c in rows}


def _lookup_contracts(
    session: SessionDep, clock: ClockDep, ids: list[str], status: str | None
) -> dict[str, list[dict[str, Any]]]:
    query = select(Contract).where(Contract.customer_id.in_(ids))
    if status is not None:
        if status not in CONTRACT_STATUSES:
            raise Problem(
                422,
                "validation_error",
                Text(
                    N_("{field}: for contracts, one of {values}"),
                    field="body.filters.status",
                    values=", ".join(CONTRACT_STATUSES),
                ),
            )
        query = query.where(Contract.status == status)
    today, now = clock.today(), clock.now()
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in session.scalars(with_details(query.order_by(Contract.customer_id, Contract.id))):
        grouped[c.customer_id].append(contract_out(c, today, now))
    return grouped


def _lookup_invoices(
    session: SessionDep, ids: list[str], status: str | None
) -> dict[str, list[dict[str, Any]]]:
    wanted = STATUSES_FOR_FILTER.get(status or "all", ())
    if wanted == ():
        raise Problem(
            422,
            "validation_error",
            Text(
                N_("{field}: for invoices, one of {values}"),
                field="body.filters.status",
                values=", ".join(STATUSES_FOR_FILTER),
            ),
        )
    columns = [getattr(Invoice, c) for c in INVOICE_COLUMNS]
    query = select(Invoice.customer_id, *columns).where(Invoice.customer_id.in_(ids))
    if wanted is not None:
        query = query.where(Invoice.status.in_(wanted))
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rows = session.execute(
        query.order_by(Invoice.customer_id, Invoice.issue_date.desc(), Invoice.id.desc())
    )
    for row in rows:
        grouped[row[0]].append(invoice_row_out(row[1:]))
    return grouped


def _lookup_schedules(
    session: SessionDep, clock: ClockDep, ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    rows = session.execute(
        select(Contract.customer_id, Instalment)
        .join(Contract, and_(Contract.id == Instalment.contract_id))
        .where(Contract.customer_id.in_(ids))
        .order_by(Contract.customer_id, Instalment.contract_id, Instalment.number)
    ).all()
    plans: dict[str, dict[str, list[Instalment]]] = defaultdict(lambda: defaultdict(list))
    for customer_id, inst in rows:
        plans[customer_id][inst.contract_id].append(inst)
    today = clock.today()
    return {
        customer_id: [schedule_out(cid, insts, today) for cid, insts in by_contract.items()]
        for customer_id, by_contract in plans.items()
    }


@router.post(
    "/lookup",
    operation_id="bulk_lookup",
    summary="One resource for up to 100 customers at once, with a status per customer",
    responses={
        200: {"model": LookupOut, "description": "one result per id, in the order asked"},
        **problem_responses(401, 403, 413, 422, 503),
    },
    dependencies=[IdempotencyKey],
)
async def bulk_lookup(
    request: Request, body: LookupRequest, credentials: BearerDep, clock: ClockDep
) -> Response:
    # On the event loop, start to end (session, token check, the queries, the JSON), like
    # every read (server.routes.deps): no hand-off to the thread pool, whose hops cost
    # more than the queries on this path (bench/README.md, "Bulk lookups", "Load").
    return _answer_lookup(request.app.state, credentials, body, clock)


def _answer_lookup(
    state: Any, credentials: HTTPAuthorizationCredentials | None, body: LookupRequest, clock: Clock
) -> Response:
    with state.session_factory() as session:
        check_staff(principal_from(credentials, session, clock))
        ids = list(dict.fromkeys(body.customer_ids))
        failing: frozenset[str] = state.fail_customers
        existing = set(session.scalars(select(Customer.id).where(Customer.id.in_(ids))))
        found = [i for i in ids if i in existing and i not in failing]
        data: dict[str, Any]
        if body.resource == "customer":
            data = _lookup_customers(session, found)
        elif body.resource == "contracts":
            data = _lookup_contracts(session, clock, found, body.filters.status)
        elif body.resource == "invoices":
            data = _lookup_invoices(session, found, body.filters.status)
        else:
            data = _lookup_schedules(session, clock, found)
    missing = not_found("customer").body()
    results = []
    for i in body.customer_ids:
        if i not in existing:
            results.append({"customer_id": i, "status": 404, "data": None, "error": missing})
        elif i in failing:
            fault = injected_fault(i).body()
            results.append({"customer_id": i, "status": 500, "data": None, "error": fault})
        else:
            found_data = data.get(i, [])
            results.append({"customer_id": i, "status": 200, "data": found_data, "error": None})
    payload = json.dumps(
        {"results": results}, default=json_default, ensure_ascii=False, separators=(",", ":")
    )
    return Response(content=payload.encode(), media_type="application/json")
