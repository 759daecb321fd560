"""Customer shapes and the views around them: the signed-in user (`/me`) and tokens, and
the staff bulk lookup.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from server.models import Customer
from server.problems import ProblemModel
from server.serializers.pagination import Page

# --- customers ---------------------------------------------------------------------------


class AddressOut(BaseModel):
    line1: str
    postcode: str
    city: str
    country: str


class RestrictionOut(BaseModel):
    feature: str
    reason: str
    since: date


class CustomerOut(BaseModel):
    id: str
    customer_number: str
    first_name: str
    last_name: str
    email: str
    phone: str
    address: AddressOut
    terms_version_accepted: str
    restrictions: list[RestrictionOut]


class CustomerPage(Page):
    items: list[CustomerOut]


class MeOut(BaseModel):
    username: str
    scope: Literal["customer", "staff"]
    customer: CustomerOut | None


def customer_out(c: Customer) -> dict[str, Any]:
    return {
        "id": c.id,
        "customer_number": c.customer_number,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "email": c.email,
        "phone": c.phone,
        "address": {
            "line1": c.address_line1,
            "postcode": c.postcode,
            "city": c.city,
            "country": c.country,
        },
        "terms_version_accepted": c.terms_version_accepted,
        "restrictions": [
            {"feature": r.feature, "reason": r.reason, "since": r.since}
            for r in sorted(c.restrictions, key=lambda r: (r.since, r.id))
        ],
    }


# --- auth --------------------------------------------------------------------------------


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"]
    expires_in: int
    scope: Literal["customer", "staff"]


class RevokedOut(BaseModel):
    revoked: bool


# --- lookup ------------------------------------------------------------------------------


class LookupResultOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str
    status: Literal[200, 404, 500]
    data: list[Any] | dict[str, Any] | None
    error: ProblemModel | None


class LookupOut(BaseModel):
    results: list[LookupResultOut]
