"""Scope over every route of the app: a customer sees only its own customer.

The routes are enumerated from the app itself, so a route added later is covered (or
makes `test_every_route_is_covered` fail until it is).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.conftest import assert_problem, client, db_session, mint
from tests.conftest import Sandbox, _start_sandbox

PUBLIC = {("GET", "/v1/status"), ("POST", "/v1/auth/token")}
STAFF_ONLY_COLLECTIONS = {("GET", "/v1/customers"), ("POST", "/v1/lookup")}

# A valid body per mutation, so that the answer is about scope, not about the body.
BODIES: dict[str, Any] = {
    "/v1/contracts/{contract_id}/instalments/{n}/reschedule": {"to": "2027-01-04"},
    "/v1/contracts/{contract_id}/termination": {},
    "/v1/contracts/{contract_id}/withdrawal": {},
    "/v1/claims/{claim_id}/messages": {"body": "bonjour"},
    "/v1/claims/{claim_id}/escalate": {},
    "/v1/claims": {"category": "other", "subject": "s", "message": "m"},
    "/v1/payment-method": {"iban": "FR76 3000 6000 0112 3456 7890 189"},
    "/v1/lookup": {"customer_ids": ["C0000002"], "resource": "customer"},
    "/v1/auth/revoke": {},
    "/v1/auth/token": {"grant_type": "refresh_token", "refresh_token": "x"},
}


def api_routes() -> list[tuple[str, str]]:
    """(method, path) of every API route, from the app's own OpenAPI document (FastAPI
    nests included routers in `app.routes`; the document is the public, flat view)."""
    from server.app import create_app

    paths = create_app("sqlite://").openapi()["paths"]
    return sorted((method.upper(), path) for path, ops in paths.items() for method in ops)


ROUTES = api_routes()


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox of this module's own: the clean customer gets a claim here."""
    sandbox, running = _start_sandbox(tmp_path_factory.mktemp("scope") / "scope.db")
    yield sandbox
    running.stop()


@pytest.fixture(scope="module")
def clean_ids(box: Sandbox) -> dict[str, str]:
    """IDs that belong to the clean customer (none of them the demo customer's)."""
    with client(box, "clean") as clean:
        claim = clean.post(
            "/v1/claims", json={"category": "other", "subject": "s", "message": "m"}
        ).json()
        invoices = clean.get("/v1/invoices").json()["items"]
        me = clean.get("/v1/me").json()
    return {
        "customer_id": me["customer"]["id"],
        "contract_id": "CT-0000006",  # the clean instalment plan: has instalments
        "invoice_id": invoices[0]["id"],
        "claim_id": claim["id"],
        "n": "1",
    }


def fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def call(c: httpx.Client, method: str, path: str, url: str) -> httpx.Response:
    if method in ("POST", "PUT"):
        return c.request(method, url, json=BODIES.get(path, {}))
    return c.request(method, url)


def test_every_route_is_covered() -> None:
    mutations = {p for m, p in ROUTES if m in ("POST", "PUT")}
    assert mutations <= set(BODIES), mutations - set(BODIES)
    assert len(ROUTES) >= 38


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if "{" in r[1]])
def test_other_customers_ids_are_not_found(
    box: Sandbox, clean_ids: dict[str, str], method: str, path: str
) -> None:
    """The demo customer's token with the clean customer's IDs: 404, never data."""
    with client(box, "customer") as demo:
        r = call(demo, method, path, fill(path, clean_ids))
    body = assert_problem(r, 404, "not_found")
    assert clean_ids["customer_id"] not in r.text or path.startswith("/v1/customers")
    assert "CT-0000006" not in body["detail"]


@pytest.mark.parametrize(
    ("method", "path"), [r for r in ROUTES if r[1].startswith("/v1/customers/{customer_id}")]
)
def test_staff_paths_with_own_id_are_not_found(
    box: Sandbox, clean_ids: dict[str, str], method: str, path: str
) -> None:
    """Even the customer's own ID under /v1/customers/…: 404, staff routes stay hidden."""
    with client(box, "customer") as demo:
        me = demo.get("/v1/me").json()["customer"]["id"]
        ids = {**clean_ids, "customer_id": me}
        assert_problem(call(demo, method, path, fill(path, ids)), 404, "not_found")


@pytest.mark.parametrize(("method", "path"), sorted(STAFF_ONLY_COLLECTIONS))
def test_staff_collections_refuse_customers(box: Sandbox, method: str, path: str) -> None:
    with client(box, "customer") as demo:
        assert_problem(call(demo, method, path, path), 403, "forbidden")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        r
        for r in ROUTES
        if r not in PUBLIC
        and r not in STAFF_ONLY_COLLECTIONS
        and not r[1].startswith("/v1/customers")
        and r[1] not in ("/v1/me", "/v1/auth/revoke")
    ],
)
def test_staff_has_no_customer_of_its_own(
    box: Sandbox, clean_ids: dict[str, str], method: str, path: str
) -> None:
    """Staff tokens on customer routes: 403 (reads go under /v1/customers/{id}/…, and
    staff never mutates on a customer's behalf)."""
    with client(box, "staff") as staff:
        assert_problem(call(staff, method, path, fill(path, clean_ids)), 403, "forbidden")


@pytest.mark.parametrize(
    ("method", "path"),
    [r for r in ROUTES if r[1].startswith("/v1/customers") and r[0] == "GET"],
)
def test_staff_reads_every_customer_route(
    box: Sandbox, clean_ids: dict[str, str], method: str, path: str
) -> None:
    with client(box, "staff") as staff:
        r = call(staff, method, path, fill(path, clean_ids))
    assert r.status_code == 200, (path, r.text[:300])


def _expired(box: Sandbox) -> str:
    return mint(box, "demo", now=datetime.now(UTC).replace(tzinfo=None) - timedelta(days=2))[0]


def _revoked(box: Sandbox) -> str:
    from server.models import Token

    access, _refresh, row_id = mint(box, "demo")
    with db_session(box) as session:
        token = session.get(Token, row_id)
        assert token is not None
        token.revoked = True
        session.commit()
    return access


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r not in PUBLIC])
def test_tokens_missing_garbage_revoked_expired(
    box: Sandbox, clean_ids: dict[str, str], method: str, path: str
) -> None:
    url = fill(path, clean_ids)
    cases = [
        (None, "unauthorized"),
        ("garbage", "unauthorized"),
        (_revoked(box), "token_revoked"),
        (_expired(box), "token_expired"),
    ]
    for token, code in cases:
        with client(box, token) as c:
            r = call(c, method, path, url)
        assert_problem(r, 401, code)
        assert r.headers["www-authenticate"].lower().startswith("bearer")
    with httpx.Client(base_url=box.url, headers={"Authorization": "Basic Zm9vOmJhcg=="}) as c:
        assert_problem(call(c, method, path, url), 401, "unauthorized")
