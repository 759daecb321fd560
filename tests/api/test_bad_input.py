"""Bad input to every mutating route: a problem+json 4xx with a clear detail, never a 500.

The routes come from the app's OpenAPI document, so a new mutation is covered at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import assert_problem, client
from tests.api.test_scope import BODIES, ROUTES
from tests.conftest import Sandbox, _start_sandbox

MUTATIONS = [(m, p) for m, p in ROUTES if m in ("POST", "PUT")]

# Where a string field lives in each body, and the longest value it accepts.
LONG_FIELDS: dict[str, list[tuple[str, int]]] = {
    "/v1/payment-method": [("iban", 100)],
    "/v1/claims": [("subject", 200), ("message", 20_000), ("contract_id", 64)],
    "/v1/claims/{claim_id}/messages": [("body", 20_000)],
    "/v1/auth/token": [("refresh_token", 200)],
    "/v1/auth/revoke": [("token", 200)],
    "/v1/contracts/{contract_id}/instalments/{n}/reschedule": [("to", 0)],
    "/v1/contracts/{contract_id}/termination": [("effective_date", 0)],
}

IDS = {"contract_id": "CT-0000003", "claim_id": "CL-0000001", "n": "3"}


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox, running = _start_sandbox(tmp_path_factory.mktemp("badinput") / "bad.db")
    yield sandbox
    running.stop()


def _url(path: str) -> str:
    for name, value in IDS.items():
        path = path.replace("{" + name + "}", value)
    return path


def _token_for(path: str) -> str:
    return "staff" if path == "/v1/lookup" else "customer"


def _send(box: Sandbox, method: str, path: str, **kwargs: Any) -> httpx.Response:
    with client(box, _token_for(path)) as c:
        return c.request(method, _url(path), **kwargs)


def _check(r: httpx.Response) -> dict[str, Any]:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    return assert_problem(r, r.status_code)


@pytest.mark.parametrize(("method", "path"), MUTATIONS)
@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"a": }', b"nul", b"\xff\xfe", b'{"iban": "x"', b"[" * 5000],
    ids=["open-brace", "missing-value", "bare-word", "not-utf8", "unclosed", "deep-nesting"],
)
def test_malformed_json(box: Sandbox, method: str, path: str, raw: bytes) -> None:
    r = _send(box, method, path, content=raw, headers={"Content-Type": "application/json"})
    body = _check(r)
    assert r.status_code == 422
    assert body["code"] in ("malformed_json", "validation_error")
    if body["code"] == "malformed_json":
        assert body["detail"].startswith("malformed JSON body")


@pytest.mark.parametrize(("method", "path"), MUTATIONS)
@pytest.mark.parametrize(
    "payload",
    [[], "a string", 42, None, {"zzz_unknown": 1}],
    ids=["list", "str", "int", "null", "unknown"],
)
def test_wrong_shapes(box: Sandbox, method: str, path: str, payload: Any) -> None:
    if payload is None and path in (
        "/v1/contracts/{contract_id}/termination",
        "/v1/contracts/{contract_id}/withdrawal",
        "/v1/claims/{claim_id}/escalate",
        "/v1/auth/revoke",
    ):
        pytest.skip("the body is optional here: JSON null means no body")
    r = _send(box, method, path, json=payload)
    body = _check(r)
    assert r.status_code == 422, r.text
    assert body["code"] == "validation_error"
    assert body["detail"].startswith("body")


@pytest.mark.parametrize(("method", "path"), MUTATIONS)
def test_unknown_field_next_to_valid_ones(box: Sandbox, method: str, path: str) -> None:
    payload = {**BODIES[path], "surprise": "x"}
    r = _send(box, method, path, json=payload)
    body = _check(r)
    assert r.status_code == 422
    assert "surprise" in body["detail"] and "unknown field" in body["detail"]


@pytest.mark.parametrize(("method", "path"), MUTATIONS)
def test_wrong_types_in_fields(box: Sandbox, method: str, path: str) -> None:
    valid = BODIES[path]
    for field in valid:
        for wrong in ({"a": 1}, [1, 2], 10**30, True):
            if isinstance(valid[field], bool) and isinstance(wrong, bool):
                continue
            r = _send(box, method, path, json={**valid, field: wrong})
            if r.status_code < 400:  # e.g. revoke's optional token: still never a 500
                continue
            body = _check(r)
            assert r.status_code in (401, 404, 409, 422), r.text
            if r.status_code == 422:
                assert "body" in body["detail"]


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p in MUTATIONS if p in LONG_FIELDS])
def test_huge_strings(box: Sandbox, method: str, path: str) -> None:
    for field, limit in LONG_FIELDS[path]:
        for size in (max(limit, 1) + 1, 1_000_000):
            r = _send(box, method, path, json={**BODIES[path], field: "é" * size})
            body = _check(r)
            assert r.status_code == 422, (field, size, r.text[:200])
            assert field in body["detail"]
            assert len(r.content) < 5_000  # the input is never echoed back


def test_long_idempotency_key_and_query(box: Sandbox) -> None:
    with client(box) as c:
        assert_problem(c.get("/v1/invoices", params={"contract": "x" * 65}), 422)
        assert_problem(c.get("/v1/invoices", params={"cursor": "x" * 600}), 422)
        assert_problem(c.get("/v1/contracts/" + "x" * 65), 422)
    with client(box, "staff") as staff:
        assert_problem(staff.get("/v1/customers", params={"q": "x" * 201}), 422)


def test_body_over_the_limit_is_413(box: Sandbox) -> None:
    big = b'{"iban": "' + b"A" * (11 * 1024 * 1024) + b'"}'
    with client(box) as c:
        r = c.put("/v1/payment-method", content=big, headers={"Content-Type": "application/json"})
    assert_problem(r, 413, "payload_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"iban": "'
        for _ in range(11):
            yield b"A" * (1024 * 1024)
        yield b'"}'

    with client(box) as c:
        r = c.put(
            "/v1/payment-method", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert_problem(r, 413, "payload_too_large")


def test_lookup_bounds(box: Sandbox) -> None:
    with client(box, "staff") as staff:
        too_many = {"customer_ids": [f"C{i:07d}" for i in range(101)], "resource": "customer"}
        assert_problem(staff.post("/v1/lookup", json=too_many), 422, "validation_error")
        empty = {"customer_ids": [], "resource": "customer"}
        assert_problem(staff.post("/v1/lookup", json=empty), 422, "validation_error")
        bad_resource = {"customer_ids": ["C0000001"], "resource": "everything"}
        assert_problem(staff.post("/v1/lookup", json=bad_resource), 422, "validation_error")
        bad_filter = {
            "customer_ids": ["C0000001"],
            "resource": "invoices",
            "filters": {"status": "sideways"},
        }
        assert_problem(staff.post("/v1/lookup", json=bad_filter), 422, "validation_error")
        bad_filter["resource"] = "contracts"
        assert_problem(staff.post("/v1/lookup", json=bad_filter), 422, "validation_error")


def test_validation_detail_names_the_field(box: Sandbox) -> None:
    with client(box) as c:
        r = c.put("/v1/payment-method", json={})
    assert assert_problem(r, 422)["detail"] == "body.iban: field required"
