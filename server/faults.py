"""A test hook of the sandbox: make the server fail for chosen customers.

Set `MONCOMPTE_SANDBOX_FAIL_CUSTOMERS=C0000123,C0000456` (read by `create_app`, hence by
`app_from_env`, `python -m server serve` and `moncompte sandbox serve`), or pass
`create_app(fail_customers=...)`, or assign `app.state.fail_customers` on a running app.
Then every customer route resolving to one of those customers answers 500
`sandbox_fault`, and `POST /v1/lookup` answers status 500 for them inside its 200 batch.
Nothing is injected unless the variable is set to a non-empty list: a real deployment
never sets it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from domain.i18n import N_, Text
from server.problems import Problem

FAIL_CUSTOMERS_ENV = "MONCOMPTE_SANDBOX_FAIL_CUSTOMERS"
CODE = "sandbox_fault"


def parse_fail_customers(value: str | Iterable[str] | None) -> frozenset[str]:
    """The customer IDs of a comma- (or space-) separated list, or of an iterable."""
    if value is None:
        return frozenset()
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    return frozenset(i.strip() for i in items if i and i.strip())


def fail_customers_from(environ: Mapping[str, str]) -> frozenset[str]:
    return parse_fail_customers(environ.get(FAIL_CUSTOMERS_ENV))


def injected_fault(customer_id: str) -> Problem:
    return Problem(
        500,
        CODE,
        Text(
            N_("sandbox fault injected for customer {customer} ({variable})"),
            customer=customer_id,
            variable=FAIL_CUSTOMERS_ENV,
        ),
    )
