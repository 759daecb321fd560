"""Payment method shapes: the SEPA direct debit on file (IBAN masked) and its change."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from domain.iban import mask_iban
from server.models import PaymentMethod
from server.serializers.formats import utc


class PaymentMethodOut(BaseModel):
    kind: Literal["sepa_debit"]
    iban_masked: str
    mandate_reference: str
    bank_name: str | None
    updated_at: datetime


class PaymentMethodChangedOut(BaseModel):
    iban_masked: str
    previous_iban_masked: str | None
    mandate_reference: str
    first_debit_on: date
    received_on: date


def payment_method_out(pm: PaymentMethod) -> dict[str, Any]:
    return {
        "kind": pm.kind,
        "iban_masked": mask_iban(pm.iban),
        "mandate_reference": pm.mandate_reference,
        "bank_name": pm.bank_name,
        "updated_at": utc(pm.updated_at),
    }
