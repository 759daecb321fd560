"""Contracts: kind, offer, price, commitment, equipment, options, shipments, outages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import Select

from server.auth import ScopeDep
from server.models import Contract
from server.routes.common import Cursor, IdParam, Limit, own_contract, read_route
from server.routes.deps import ClockDep, SessionDep
from server.serializers import (
    DEFAULT_LIMIT,
    ContractOut,
    ContractPage,
    contract_out,
    decode_cursor,
    encode_cursor,
)

router = APIRouter(prefix="/v1", tags=["contracts"])


def with_details(query: Select[Any]) -> Select[Any]:
    """Load a contract's children in one query each, not one per contract."""
    return query.options(
        selectinload(Contract.equipment),
        selectinload(Contract.options),
        selectinload(Contract.shipments),
        selectinload(Contract.outages),
    )


@read_route(
    router,
    "/contracts",
    name="list_contracts",
    response_model=ContractPage,
    summary="The customer's contracts",
)
def list_contracts(
    scope: ScopeDep,
    session: SessionDep,
    clock: ClockDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    query = select(Contract).where(Contract.customer_id == scope.customer_id)
    if cursor:
        (after,) = decode_cursor(cursor, 1)
        query = query.where(Contract.id > str(after))
    rows = session.scalars(with_details(query.order_by(Contract.id).limit(limit + 1))).all()
    page = rows[:limit]
    today, now = clock.today(), clock.now()
    return {
        "items": [contract_out(c, today, now) for c in page],
        "next_cursor": encode_cursor([page[-1].id]) if len(rows) > limit else None,
    }


@read_route(
    router,
    "/contracts/{contract_id}",
    name="get_contract",
    response_model=ContractOut,
    summary="One contract",
)
def get_contract(
    contract_id: IdParam, scope: ScopeDep, session: SessionDep, clock: ClockDep
) -> dict[str, Any]:
    contract = own_contract(session, scope.customer_id, contract_id)
    return contract_out(contract, clock.today(), clock.now())
