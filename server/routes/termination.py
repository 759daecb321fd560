"""Termination (quote, then terminate) and withdrawal.

The fee is `domain.commitment.termination_fee` (loi Chatel) plus the provider's fee from
the contract; lent equipment gets a return reference and deadline. A contract that can be
taken online must be terminable online [law]: account restrictions are never consulted
here.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import calendar
from domain.commitment import (
    check_withdrawal,
    equipment_return_deadline,
    return_reference,
    termination_fee,
)
from domain.i18n import N_, Text
from server.auth import ScopeDep
from server.idempotency import IdempotencyKey
from server.models import Contract, Instalment, Invoice
from server.problems import Problem, problem_responses
from server.routes.common import MUTATION_ERRORS, IdParam, own_contract, read_route
from server.routes.deps import ClockDep, SessionDep, inline
from server.serializers import (
    QuoteOut,
    TerminationOut,
    WithdrawalOut,
    contract_out,
    equipment_out,
)

router = APIRouter(prefix="/v1", tags=["termination"])

# How far ahead a termination may be scheduled or quoted.
MAX_NOTICE = timedelta(days=366)
MAX_QUOTE_AHEAD = timedelta(days=5 * 366)


class TerminationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    effective_date: date | None = Field(
        default=None, description="when the termination takes effect (default: today)"
    )


class WithdrawalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _refuse_if_ended(contract: Contract) -> None:
    if contract.status == "terminated":
        when = contract.terminated_on
        raise Problem(
            409,
            "already_terminated",
            Text(
                N_("contract {contract} is already terminated (effective {date})"),
                contract=contract.id,
                date=calendar.long_date(when),
            )
            if when
            else Text(N_("contract {contract} is already terminated"), contract=contract.id),
            rule="termination.once",
        )
    if contract.status == "withdrawn":
        raise Problem(
            409,
            "already_withdrawn",
            Text(
                N_("contract {contract} was withdrawn from; there is nothing left to end"),
                contract=contract.id,
            ),
            rule="termination.once",
        )


def _withdrawal_open(contract: Contract, today: date) -> bool:
    if contract.status not in ("active", "pending_activation"):
        return False
    if _free_cancellation(contract):
        return True
    return today <= calendar.withdrawal_deadline(contract.withdrawal_start)


def _free_cancellation(contract: Contract) -> bool:
    # [seed] an internet contract not yet activated can be cancelled at no cost, whenever.
    return contract.kind == "internet" and contract.status == "pending_activation"


def _equipment_return(contract: Contract, on: date) -> dict[str, Any] | None:
    items = [e for e in sorted(contract.equipment, key=lambda e: e.id) if e.returned_on is None]
    if not items:
        return None
    return {
        "reference": return_reference(contract.id, on),
        "deadline": equipment_return_deadline(on, any(e.exchanged for e in items)),
        "items": [equipment_out(e) for e in items],
    }


def quote(contract: Contract, effective: date, today: date) -> dict[str, Any]:
    fee = termination_fee(
        contract.monthly_price_cents,
        contract.commitment_months if contract.commitment_start is not None else 0,
        contract.commitment_start or contract.signed_on,
        effective,
        provider_fee_cents=contract.termination_fee_cents,
    )
    return {
        "contract_id": contract.id,
        "effective_date": fee.effective_date,
        "months_remaining_year1": fee.months_remaining_year1,
        "months_remaining_year2": fee.months_remaining_year2,
        "monthly_price_cents": fee.monthly_price_cents,
        "year1_cents": fee.year1_cents,
        "year2_cents": fee.year2_cents,
        "chatel_fee_cents": fee.chatel_fee_cents,
        "provider_fee_cents": fee.provider_fee_cents,
        "total_cents": fee.total_cents,
        "equipment_return": _equipment_return(contract, effective),
        "withdrawal_possible": _withdrawal_open(contract, today),
        "withdrawal_deadline": calendar.withdrawal_deadline(contract.withdrawal_start),
    }


def _next_invoice_day(on: date) -> date:
    """The first invoice day on or after `on`: the closing invoice (fees) is issued then."""
    issued = calendar.invoice_date(on.year, on.month)
    if issued >= on:
        return issued
    following = calendar.add_months(date(on.year, on.month, 1), 1)
    return calendar.invoice_date(following.year, following.month)


@read_route(
    router,
    "/contracts/{contract_id}/termination-quote",
    name="get_termination_quote",
    response_model=QuoteOut,
    summary="What terminating would cost on a date (loi Chatel), and the equipment return",
    responses=problem_responses(409),  # already_terminated / already_withdrawn
)
def get_termination_quote(
    contract_id: IdParam,
    scope: ScopeDep,
    session: SessionDep,
    clock: ClockDep,
    effective: Annotated[
        date | None, Query(alias="date", description="effective date (default: today)")
    ] = None,
) -> dict[str, Any]:
    contract = own_contract(session, scope.customer_id, contract_id)
    _refuse_if_ended(contract)
    today = clock.today()
    when = effective or today
    if when < contract.signed_on or when > today + MAX_QUOTE_AHEAD:
        raise Problem(
            422,
            "validation_error",
            Text(
                N_("{field}: must be between the signature ({signed}) and {latest}"),
                field="query.date",
                signed=contract.signed_on,
                latest=today + MAX_QUOTE_AHEAD,
            ),
        )
    return quote(contract, when, today)


@router.post(
    "/contracts/{contract_id}/termination",
    response_model=TerminationOut,
    operation_id="terminate_contract",
    summary="Terminate a contract; answers the fee, the last invoice and the equipment return",
    responses=MUTATION_ERRORS,
    dependencies=[IdempotencyKey],
)
@inline
def terminate_contract(
    contract_id: IdParam,
    scope: ScopeDep,
    session: SessionDep,
    clock: ClockDep,
    body: TerminationRequest | None = None,
) -> dict[str, Any]:
    contract = own_contract(session, scope.customer_id, contract_id)
    _refuse_if_ended(contract)
    today = clock.today()
    effective = (body.effective_date if body else None) or today
    if effective < today or effective > today + MAX_NOTICE:
        raise Problem(
            422,
            "validation_error",
            Text(
                N_("{field}: must be between today ({today}) and {latest}"),
                field="body.effective_date",
                today=today,
                latest=today + MAX_NOTICE,
            ),
        )
    terms = quote(contract, effective, today)
    contract.status = "terminated"
    contract.terminated_on = effective
    returning = terms["equipment_return"]
    if returning is not None:
        for item in contract.equipment:
            if item.returned_on is None:
                item.return_reference = returning["reference"]
                item.return_deadline = returning["deadline"]
        # The answer lists the equipment as it now is, reference included.
        returning["items"] = [
            equipment_out(e)
            for e in sorted(contract.equipment, key=lambda e: e.id)
            if e.returned_on is None
        ]
    session.commit()
    terms["withdrawal_possible"] = False
    return {
        "contract": contract_out(contract, today, clock.now()),
        "quote": terms,
        "last_invoice_on": _next_invoice_day(effective),
        "equipment_return": returning,
    }


def _refund_cents(session: Session, contract: Contract) -> int:
    """Everything paid under the contract is refunded on withdrawal (L221-24).

    What was paid is the paid invoices; a plan without invoices (instalments debited
    directly) counts its paid instalments instead, never both.
    """
    count, total = session.execute(
        select(func.count(Invoice.id), func.coalesce(func.sum(Invoice.debited_cents), 0)).where(
            Invoice.contract_id == contract.id, Invoice.status == "paid"
        )
    ).one()
    if count:
        return int(total or 0)
    paid = session.scalar(
        select(func.coalesce(func.sum(Instalment.amount_cents), 0)).where(
            Instalment.contract_id == contract.id, Instalment.status == "paid"
        )
    )
    return int(paid) if paid is not None else 0


@router.post(
    "/contracts/{contract_id}/withdrawal",
    response_model=WithdrawalOut,
    operation_id="withdraw_from_contract",
    summary="Withdraw within the 14-day period (409 withdrawal_period_over after it)",
    responses=MUTATION_ERRORS,
    dependencies=[IdempotencyKey],
)
@inline
def withdraw_from_contract(
    contract_id: IdParam,
    scope: ScopeDep,
    session: SessionDep,
    clock: ClockDep,
    body: WithdrawalRequest | None = None,
) -> dict[str, Any]:
    contract = own_contract(session, scope.customer_id, contract_id)
    _refuse_if_ended(contract)
    today = clock.today()
    if not _free_cancellation(contract):
        check_withdrawal(contract.withdrawal_start, today)
    refund = _refund_cents(session, contract)
    contract.status = "withdrawn"
    contract.withdrawn_on = today
    returning = _equipment_return(contract, today)
    if returning is not None:
        for item in contract.equipment:
            if item.returned_on is None:
                item.return_reference = returning["reference"]
                item.return_deadline = returning["deadline"]
    session.commit()
    return {"contract": contract_out(contract, today, clock.now()), "refund_cents": refund}
