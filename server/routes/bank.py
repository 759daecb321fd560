"""Bank details: the SEPA direct-debit IBAN (masked on the way out) and changing it.

Changing the IBAN amends the existing mandate, so the mandate reference (RUM) is kept
[law]; the answer states the first debit on the new IBAN [seed].
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from domain.iban import IbanError, first_debit_on_new_iban, mask_iban, validate_iban
from server.auth import ScopeDep
from server.idempotency import IdempotencyKey
from server.models import Customer, PaymentMethod
from server.problems import Problem, not_found
from server.routes.common import MUTATION_ERRORS, read_route
from server.routes.deps import ClockDep, SessionDep, inline
from server.serializers import PaymentMethodChangedOut, PaymentMethodOut, payment_method_out

router = APIRouter(prefix="/v1", tags=["bank"])


class IbanChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Generous bound for an IBAN typed with spaces; anything longer is not an IBAN.
    iban: str = Field(max_length=100, description="the new IBAN; spaces and case are ignored")


@read_route(
    router,
    "/payment-method",
    name="get_payment_method",
    response_model=PaymentMethodOut,
    summary="The direct-debit account (IBAN masked) and mandate reference",
)
def get_payment_method(scope: ScopeDep, session: SessionDep) -> dict[str, Any]:
    method = session.get(PaymentMethod, scope.customer_id)
    if method is None:
        raise not_found("payment method")
    return payment_method_out(method)


@router.put(
    "/payment-method",
    response_model=PaymentMethodChangedOut,
    operation_id="change_payment_method",
    summary="Change the IBAN (the mandate reference is kept)",
    responses=MUTATION_ERRORS,
    dependencies=[IdempotencyKey],
)
@inline
def change_payment_method(
    body: IbanChange, scope: ScopeDep, session: SessionDep, clock: ClockDep
) -> dict[str, Any]:
    try:
        iban = validate_iban(body.iban, require_sepa=True)
    except IbanError as exc:
        # The CLI validated already; the server checks again, never trusting the client.
        # The message is a `Text` (domain/iban.py) worded in the request's language; the
        # exception's str() would be its English only.
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        raise Problem(422, "invalid_iban", message, check=exc.check) from None
    today = clock.today()
    method = session.get(PaymentMethod, scope.customer_id)
    previous = mask_iban(method.iban) if method is not None else None
    if method is None:
        if session.get(Customer, scope.customer_id) is None:
            raise not_found("customer")
        # No mandate yet: this IBAN starts one, with a new reference.
        method = PaymentMethod(
            customer_id=scope.customer_id,
            kind="sepa_debit",
            iban=iban,
            mandate_reference=f"RUM-{scope.customer_id}-{secrets.token_hex(4).upper()}",
            bank_name=None,
            updated_at=clock.stamp(),
        )
        session.add(method)
    else:
        if method.iban != iban:
            # The bank may differ; the name on file would then be wrong.
            method.bank_name = None
        method.iban = iban
        method.updated_at = clock.stamp()
    session.commit()
    return {
        "iban_masked": mask_iban(iban),
        "previous_iban_masked": previous,
        "mandate_reference": method.mandate_reference,
        "first_debit_on": first_debit_on_new_iban(today),
        "received_on": today,
    }
