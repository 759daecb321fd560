"""The bulk lookup's fast path keeps its contract, and the sandbox fault hook.

- `POST /v1/lookup` is read-only: an Idempotency-Key is accepted and ignored (no record
  is written, the answer is not replayed), because storing each answer cost two write
  transactions per call for nothing;
- the fault hook (`MONCOMPTE_SANDBOX_FAIL_CUSTOMERS`, `create_app(fail_customers=...)`,
  `app.state.fail_customers`) answers 500 for the named customers: inside a 200 batch on
  the lookup, as a problem on the single-customer routes; nothing when unset.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.api.conftest import assert_problem, seeded_engine, serve
from tests.conftest import TODAY

FAILING = "C0000101"


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from server.app import create_app
    from server.embedded import mint_token

    path = Path(tmp_path_factory.mktemp("faults")) / "faults.db"
    engine = seeded_engine(str(path), customers=5)
    app = create_app(engine=engine, today=TODAY, fail_customers=[FAILING])
    with serve(app) as url:
        token = mint_token(f"sqlite:///{path}", "agent")
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as staff:
            yield {"client": staff, "app": app, "engine": engine}
    engine.dispose()


def test_lookup_answers_500_inside_the_batch(faulty: dict[str, Any]) -> None:
    staff: httpx.Client = faulty["client"]
    ids = ["C0000001", FAILING, "C9999999"]
    for resource in ("customer", "contracts", "invoices", "schedule"):
        r = staff.post("/v1/lookup", json={"customer_ids": ids, "resource": resource})
        assert r.status_code == 200, r.text[:300]
        results = r.json()["results"]
        assert [x["status"] for x in results] == [200, 500, 404], resource
        failed = results[1]
        assert failed["data"] is None and failed["error"]["code"] == "sandbox_fault"
        assert failed["error"]["status"] == 500 and FAILING in failed["error"]["detail"]


def test_single_customer_routes_answer_500(faulty: dict[str, Any]) -> None:
    staff: httpx.Client = faulty["client"]
    for path in ("", "/invoices", "/contracts"):
        assert_problem(staff.get(f"/v1/customers/{FAILING}{path}"), 500, "sandbox_fault")
        assert staff.get(f"/v1/customers/C0000001{path}").status_code == 200


def test_the_fault_can_be_lifted_at_run_time(faulty: dict[str, Any]) -> None:
    staff: httpx.Client = faulty["client"]
    app = faulty["app"]
    app.state.fail_customers = frozenset()
    try:
        assert staff.get(f"/v1/customers/{FAILING}").status_code == 200
        r = staff.post("/v1/lookup", json={"customer_ids": [FAILING], "resource": "customer"})
        assert r.json()["results"][0]["status"] == 200
    finally:
        app.state.fail_customers = frozenset({FAILING})


def test_no_fault_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from server.app import create_app
    from server.faults import FAIL_CUSTOMERS_ENV, parse_fail_customers

    monkeypatch.delenv(FAIL_CUSTOMERS_ENV, raising=False)
    assert create_app("sqlite://").state.fail_customers == frozenset()
    monkeypatch.setenv(FAIL_CUSTOMERS_ENV, "C0000123, C0000456 ,,")
    assert create_app("sqlite://").state.fail_customers == {"C0000123", "C0000456"}
    assert create_app("sqlite://", fail_customers=[]).state.fail_customers == frozenset()
    assert parse_fail_customers("") == frozenset()


def test_lookup_ignores_idempotency_keys(faulty: dict[str, Any]) -> None:
    """A read-only POST stores nothing: the same key twice is answered twice, afresh."""
    from sqlalchemy.orm import Session

    from server.models import IdempotencyRecord

    staff: httpx.Client = faulty["client"]
    engine = faulty["engine"]

    def records() -> int:
        with Session(engine) as session:
            return int(session.scalar(select(func.count()).select_from(IdempotencyRecord)) or 0)

    before = records()
    body = {"customer_ids": ["C0000001"], "resource": "customer"}
    headers = {"Idempotency-Key": "same-key-for-two-lookups"}
    first = staff.post("/v1/lookup", json=body, headers=headers)
    second = staff.post(
        "/v1/lookup", json={**body, "resource": "contracts"}, headers=headers
    )  # another body with the same key: a mutation would get 422 idempotency_conflict
    assert first.status_code == second.status_code == 200
    assert "Idempotent-Replayed" not in second.headers
    assert second.json()["results"][0]["data"] != first.json()["results"][0]["data"]
    assert records() == before


def test_lookup_still_checks_the_token(faulty: dict[str, Any]) -> None:
    url = str(faulty["client"].base_url)
    body = {"customer_ids": ["C0000001"], "resource": "customer"}
    assert_problem(httpx.post(f"{url}/v1/lookup", json=body), 401, "unauthorized")
    bad = {"Authorization": "Bearer not-a-token"}
    assert_problem(httpx.post(f"{url}/v1/lookup", json=body, headers=bad), 401)
