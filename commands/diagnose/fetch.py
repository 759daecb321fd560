"""The data the checks share, fetched once per run (see `runner.Once`): GET /v1/status and
the account's resources. The account fetch fans out with an executor: every request it
makes has a timeout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from cli.errors import MoncompteError, UsageError
from commands.diagnose.runner import Run, Unavailable
from domain.diagnose import AccountData
from domain.i18n import N_, Text

if TYPE_CHECKING:
    from cli.http import ApiClient, Params

    Getter = Callable[[str, Params | None], Any]  # GET a path with a query: the JSON
    from commands.diagnose.probes.http import StatusProbe


def _http_timeout(run: Run) -> float:
    try:
        configured = run.env.timeout
    except UsageError:  # an invalid timeout in the config: local.config reports it
        configured = run.timeout
    return min(configured, run.budget())


def _make_client(run: Run) -> ApiClient:
    from cli.http import ApiClient

    if run.target_url is None:
        raise Unavailable("usage", run.target_error or Text(N_("no API URL")))
    env = run.env
    # The background sandbox answers only requests bearing its secret, and is private to
    # this machine (no proxy): the same headers and trust_env as env.api() uses.
    headers = run.target.headers
    # Our own client rather than env.api(): a timeout within the checks' deadline and no
    # retry, so an unreachable API is reported with its reason and instability not hidden.
    run.client = ApiClient(
        run.target_url,
        store=env.credentials(),
        profile=env.profile,
        timeout=_http_timeout(run),
        log=env.debug if env.verbose else None,
        max_retries=0,
        headers=headers or None,
        trust_env=not headers,
        language=env.locale,
    )
    return run.client


def fetch_account(run: Run) -> AccountData:
    """Everything the account checks read, fetched once, independent requests in parallel."""
    client = _make_client(run)
    me = client.get("/v1/me")
    if not isinstance(me, dict) or not isinstance(me.get("customer"), dict):
        raise Unavailable(
            "scope",
            Text(N_("this credential has no customer account (a staff token?): nothing to check")),
        )

    def status_body() -> dict[str, Any] | None:
        try:
            body = run.status.get().body
        except Unavailable:
            return None
        return dict(body) if body is not None else None

    return fetch_account_data(client.get, me, "/v1", run.today, status_body)


def fetch_account_data(
    get: Getter,
    me: dict[str, Any],
    prefix: str,
    today: dt.date,
    status_body: Callable[[], dict[str, Any] | None],
    *,
    workers: int = 6,
) -> AccountData:
    """The account's resources under `prefix` (`/v1` for the caller's own account,
    `/v1/customers/{id}` for staff), read with `get(path, params)`; `workers` requests at
    once (1 in a bulk run, whose --concurrency already bounds the load)."""

    def items(path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {**(params or {}), "limit": 500}
        out: list[dict[str, Any]] = []
        while True:
            page = get(prefix + path, query)
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise MoncompteError(
                    Text(
                        N_("{request} did not answer a paginated list"),
                        request=f"GET {prefix}{path}",
                    )
                )
            out += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return out
            query["cursor"] = cursor

    def one(path: str, params: dict[str, Any] | None = None) -> Any:
        return get(prefix + path, params)

    def optional(path: str) -> Any:
        try:
            return one(path)
        except MoncompteError:
            return None

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="diagnose-fetch") as pool:
        f_status = pool.submit(status_body)
        f_contracts = pool.submit(items, "/contracts")
        f_invoices = pool.submit(items, "/invoices", {"status": "all"})
        f_claims = pool.submit(items, "/claims")
        f_payment = pool.submit(optional, "/payment-method")
        contracts = f_contracts.result()
        schedules = {
            str(c["id"]): pool.submit(one, f"/contracts/{c['id']}/schedule")
            for c in contracts
            if c.get("kind") in ("installments", "partwork")
        }
        quoted = [
            c
            for c in contracts
            if c.get("status") in ("active", "pending_activation")
            and (c.get("kind") == "internet" or int(c.get("commitment_months") or 0) > 0)
        ]
        quotes = {
            str(c["id"]): pool.submit(
                one, f"/contracts/{c['id']}/termination-quote", {"date": today.isoformat()}
            )
            for c in quoted
        }
        quote_values: dict[str, dict[str, Any]] = {}
        quote_errors: dict[str, str] = {}
        for cid, future in quotes.items():
            try:
                quote_values[cid] = future.result()
            except MoncompteError as exc:
                quote_errors[cid] = exc.message
        return AccountData(
            me=me,
            status=f_status.result(),
            contracts=contracts,
            invoices=f_invoices.result(),
            claims=f_claims.result(),
            schedules={cid: f.result() for cid, f in schedules.items()},
            quotes=quote_values,
            quote_errors=quote_errors,
            payment_method=f_payment.result(),
        )


def fetch_service_status(run: Run) -> StatusProbe:
    from commands.diagnose.probes.http import fetch_status

    return fetch_status(run.target, _http_timeout(run))
