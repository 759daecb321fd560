"""Helpers shared by the route modules: dual (customer + staff) read routes, pagination
parameters, ID parameters, scoped look-ups.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from domain.i18n import N_, Text
from server.models import Claim, Contract, Invoice
from server.problems import Problem, not_found, problem_responses
from server.routes.deps import inline
from server.serializers import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor

STAFF_PREFIX = "/customers/{customer_id}"

# Errors every authenticated route may answer, in the OpenAPI document.
COMMON_ERRORS = problem_responses(401, 403, 404, 422, 503)
MUTATION_ERRORS = problem_responses(401, 403, 404, 409, 413, 422, 503)

IdParam = Annotated[str, Path(min_length=1, max_length=64)]
Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"page size (default {DEFAULT_LIMIT})")
]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` of the previous page"),
]


async def _staff_customer(
    customer_id: Annotated[
        str, Path(min_length=1, max_length=64, description="the customer to read (staff only)")
    ],
) -> None:
    """Declares `customer_id` for the staff copy of a read route (resolved by the scope)."""


F = TypeVar("F", bound=Callable[..., Any])


def read_route(
    router: APIRouter, path: str, *, name: str, on_loop: bool = True, **kwargs: Any
) -> Callable[[F], F]:
    """Register one GET handler twice: for the caller's own customer at `path`, and for
    staff at `/customers/{customer_id}{path}`.

    One implementation for both: the handler's `ScopeDep` reads which customer the path
    names, so a staff read and a customer read can never drift apart. The handler runs
    on the event loop (`server.routes.deps.inline`) unless `on_loop` is False (a
    handler that burns CPU, such as a PDF, goes to the thread pool).
    """
    responses = {**COMMON_ERRORS, **kwargs.pop("responses", {})}

    def register(handler: F) -> F:
        endpoint = inline(handler) if on_loop else handler
        router.add_api_route(
            path,
            endpoint,
            methods=["GET"],
            name=name,
            operation_id=name,
            responses=responses,
            **kwargs,
        )
        router.add_api_route(
            STAFF_PREFIX + path,
            endpoint,
            methods=["GET"],
            name=f"staff_{name}",
            operation_id=f"staff_{name}",
            responses=responses,
            dependencies=[Depends(_staff_customer)],
            tags=["staff"],
            **kwargs,
        )
        return handler

    return register


def after_cursor(
    query: Select[Any], cursor: str | None, day_column: Any, id_column: Any
) -> Select[Any]:
    """Keyset pagination on (day desc, id desc): the rows after the cursor's last row."""
    if not cursor:
        return query
    last_date, last_id = decode_cursor(cursor, 2)
    try:
        last_day = date.fromisoformat(str(last_date))
    except ValueError:
        raise Problem(
            422,
            "validation_error",
            Text(N_("{field}: not a cursor returned by this API"), field="query.cursor"),
        ) from None
    return query.where(
        or_(day_column < last_day, and_(day_column == last_day, id_column < str(last_id)))
    )


def _owned(session: Session, model: Any, object_id: str, customer_id: str, what: str) -> Any:
    """The object with that ID if it belongs to the customer; 404 otherwise, never 403:
    another customer's IDs must look exactly like IDs that do not exist."""
    found = session.scalars(
        select(model).where(model.id == object_id, model.customer_id == customer_id)
    ).first()
    if found is None:
        raise not_found(what)
    return found


def own_contract(session: Session, customer_id: str, contract_id: str) -> Contract:
    contract: Contract = _owned(session, Contract, contract_id, customer_id, "contract")
    return contract


def own_invoice(session: Session, customer_id: str, invoice_id: str) -> Invoice:
    invoice: Invoice = _owned(session, Invoice, invoice_id, customer_id, "invoice")
    return invoice


def own_claim(session: Session, customer_id: str, claim_id: str) -> Claim:
    claim: Claim = _owned(session, Claim, claim_id, customer_id, "claim")
    return claim
