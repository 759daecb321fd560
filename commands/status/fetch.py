"""The account data `status` and `calendar` read: fetched once, as `diagnose` fetches it
(`commands.diagnose.fetch.fetch_account_data`), for the caller's own account or, for
staff, a customer's through the staff routes; then the account checks on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.context import Env
from cli.errors import UsageError
from cli.i18n import _
from commands.bulk.fetch import not_staff
from commands.diagnose.fetch import fetch_account_data
from domain.diagnose import ACCOUNT_EVALUATORS, AccountData, Finding

if TYPE_CHECKING:
    from commands.bulk import Transport


def _no_service_status() -> None:
    """The service status is left out: it only feeds the terms check, which warns and never
    fails, and the overview keeps the failed checks only."""
    return None


def own_account(env: Env) -> AccountData:
    """The logged-in customer's account. A staff login has none: say which option to use."""
    client = env.api()
    me = client.get("/v1/me")
    if not isinstance(me, dict) or not isinstance(me.get("customer"), dict):
        raise UsageError(
            _("this login has no customer account of its own (a staff login?)"),
            hint=_("add --customer ID to look at a customer's account"),
        )
    return fetch_account_data(client.get, me, "/v1", env.today(), _no_service_status)


def customer_account(env: Env, customer_id: str) -> AccountData:
    """Staff: one customer's account through the staff routes."""
    client = env.api()
    me = client.get("/v1/me")
    if not isinstance(me, dict) or me.get("scope") != "staff":
        raise not_staff()
    prefix = f"/v1/customers/{customer_id}"
    customer = client.get(prefix)
    return fetch_account_data(
        client.get, {"customer": customer}, prefix, env.today(), _no_service_status
    )


def bulk_account(transport: Transport, customer_id: str, env: Env) -> AccountData:
    """Staff, bulk: one customer's account through the run's transport (one request at a
    time: --concurrency already bounds the load)."""
    prefix = f"/v1/customers/{customer_id}"
    customer = transport.get_json(prefix)

    return fetch_account_data(
        transport.get_json,
        {"customer": customer},
        prefix,
        env.today(),
        _no_service_status,
        workers=1,
    )


def account_findings(data: AccountData, env: Env) -> list[Finding]:
    """Every account check of `diagnose`, on the data already fetched."""
    today = env.today()
    return [check(data, today) for check in ACCOUNT_EVALUATORS.values()]
