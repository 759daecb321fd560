"""Payment schedule and postponing ("décaler") an instalment, by the rules of
`domain.reschedule`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import calendar
from domain.reschedule import InstalmentState, check_reschedule, reschedule_window
from domain.rules import RuleRefusal
from server.auth import ScopeDep
from server.idempotency import IdempotencyKey
from server.models import Instalment
from server.problems import not_found, rule_refusal
from server.routes.common import MUTATION_ERRORS, IdParam, own_contract, read_route
from server.routes.deps import ClockDep, SessionDep, inline
from server.serializers import (
    InstalmentOut,
    RescheduleOptionsOut,
    ScheduleOut,
    instalment_out,
    schedule_out,
)

router = APIRouter(prefix="/v1", tags=["schedule"])

Number = Annotated[int, Path(ge=1, le=10_000, description="the instalment number")]


class RescheduleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: date = Field(description="the new due date")


def _plan(session: Session, contract_id: str) -> list[Instalment]:
    return list(
        session.scalars(
            select(Instalment)
            .where(Instalment.contract_id == contract_id)
            .order_by(Instalment.number)
        ).all()
    )


def _state(inst: Instalment) -> InstalmentState:
    return InstalmentState(
        number=inst.number,
        status=inst.status,
        due_date=inst.due_date,
        original_due_date=inst.original_due_date,
        rescheduled_count=inst.rescheduled_count,
    )


def _find(plan: list[Instalment], number: int) -> Instalment:
    for inst in plan:
        if inst.number == number:
            return inst
    raise not_found("instalment")


def _plan_facts(plan: list[Instalment]) -> dict[str, Any]:
    return {
        "last_due_date": max(i.due_date for i in plan),
        "plan_rescheduled_count": sum(i.rescheduled_count for i in plan),
    }


def _suggestions(earliest: date, latest: date) -> list[date]:
    """A few business days in the window: the first, the middle one, the last."""
    picks: list[date] = []
    middle = earliest + timedelta(days=(latest - earliest).days // 2)
    for wanted in (earliest, middle):
        day = calendar.roll_forward(wanted)
        if day <= latest and day not in picks:
            picks.append(day)
    day = latest
    while day >= earliest and not calendar.is_business_day(day):
        day -= timedelta(days=1)
    if day >= earliest and day not in picks:
        picks.append(day)
    return sorted(picks)


@read_route(
    router,
    "/contracts/{contract_id}/schedule",
    name="get_schedule",
    response_model=ScheduleOut,
    summary="The contract's instalments, totals paid and remaining, next debit",
)
def get_schedule(
    contract_id: IdParam, scope: ScopeDep, session: SessionDep, clock: ClockDep
) -> dict[str, Any]:
    contract = own_contract(session, scope.customer_id, contract_id)
    return schedule_out(contract.id, _plan(session, contract.id), clock.today())


@read_route(
    router,
    "/contracts/{contract_id}/instalments/{n}/reschedule-options",
    name="get_reschedule_options",
    response_model=RescheduleOptionsOut,
    summary="Whether an instalment may be postponed, and to which dates",
)
def get_reschedule_options(
    contract_id: IdParam, n: Number, scope: ScopeDep, session: SessionDep, clock: ClockDep
) -> dict[str, Any]:
    contract = own_contract(session, scope.customer_id, contract_id)
    plan = _plan(session, contract.id)
    inst = _find(plan, n)
    window = reschedule_window(_state(inst), today=clock.today(), **_plan_facts(plan))
    if isinstance(window, RuleRefusal):
        return {
            "allowed": False,
            "refusal": rule_refusal(window).body(),
            "earliest": None,
            "latest": None,
            "suggested": [],
        }
    earliest, latest = window
    return {
        "allowed": True,
        "refusal": None,
        "earliest": earliest,
        "latest": latest,
        "suggested": _suggestions(earliest, latest),
    }


@router.post(
    "/contracts/{contract_id}/instalments/{n}/reschedule",
    response_model=InstalmentOut,
    operation_id="reschedule_instalment",
    summary="Postpone an instalment (409 with the rule when refused)",
    responses=MUTATION_ERRORS,
    dependencies=[IdempotencyKey],
)
@inline
def reschedule_instalment(
    contract_id: IdParam,
    n: Number,
    body: RescheduleRequest,
    scope: ScopeDep,
    session: SessionDep,
    clock: ClockDep,
) -> dict[str, Any]:
    contract = own_contract(session, scope.customer_id, contract_id)
    plan = _plan(session, contract.id)
    inst = _find(plan, n)
    check_reschedule(_state(inst), body.to, today=clock.today(), **_plan_facts(plan))
    inst.due_date = body.to
    inst.status = "rescheduled"
    inst.rescheduled_count += 1
    session.commit()
    return instalment_out(inst)
