"""Schemathesis against the committed OpenAPI document, on a running sandbox of its own.

Every operation of `server/openapi.json` gets generated requests, valid and invalid (the
examples, coverage and fuzzing phases); every answer must be something other than a 5xx,
carry a documented status code, content type and headers, and match the documented
schema. Callers behave like real clients: a customer token on the customer routes, a
staff token under `/v1/customers` and on `/v1/lookup`, a token of its own for each revoke,
and a fresh `Idempotency-Key` for each request (a reused key is answered
`idempotency_conflict`, by design).

Two of schemathesis's checks are left out, for reasons that are the API's design:
`positive_data_acceptance` (a schema-valid body may still break a rule the schema cannot
express: a date window, an IBAN checksum, a cursor this API did not issue: 422 is right)
and `negative_data_rejection` (pydantic's lax mode accepts `0`/`1` for booleans and ISO
strings for dates, as documented in docs/api.md).

Examples per operation: `MONCOMPTE_FUZZ_EXAMPLES` (default 25; .ci/run may raise it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import checks as st_checks  # noqa: E402

from tests.conftest import Sandbox, _start_sandbox  # noqa: E402

OPENAPI = Path(__file__).resolve().parents[2] / "server" / "openapi.json"
MAX_EXAMPLES = int(os.environ.get("MONCOMPTE_FUZZ_EXAMPLES", "25"))

SCHEMA = schemathesis.openapi.from_path(OPENAPI)

CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_headers_conformance,
    st_checks.response_schema_conformance,
    st_checks.ignored_auth,  # the same request without credentials must be refused
    st_checks.missing_required_header,
    st_checks.unsupported_method,  # 405 for a method the path does not have
]


@pytest.fixture(scope="module")
def fuzz_box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox of this module's own: the fuzzer terminates contracts, files claims…"""
    box, running = _start_sandbox(tmp_path_factory.mktemp("fuzz") / "fuzz.db")
    yield box
    running.stop()


# Real IDs of the seed (both customers'), mixed into the generated path parameters: random
# strings alone mostly reach the 404 branch; these reach the data, the rules (an ended
# contract, an escalated claim) and the scope checks.
REAL_IDS: dict[str, list[Any]] = {
    "customer_id": ["C0000001", "C0000002"],
    "contract_id": [f"CT-{i:07d}" for i in range(1, 7)],
    "invoice_id": [f"INV-{i:09d}" for i in (1, 4, 6, 8, 9, 10)],
    "claim_id": ["CL-0000001", "CL-0000002"],
    "n": [1, 2, 3, 4, 12],
}


def _token_for(box: Sandbox, path: str) -> str:
    if path == "/v1/auth/revoke":
        # Revoking the caller's own token is the point of this route: never the shared one.
        from server import embedded

        return embedded.mint_token(box.database_url, "demo")
    if path.startswith("/v1/customers") or path == "/v1/lookup":
        return box.staff_token
    return box.customer_token


def _fresh_idempotency_key(case: Any) -> None:
    """A new key per request, as a client does; an invalid one (too long, blank) is kept,
    so the header's own validation is still fuzzed."""
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key":
            value = headers[name]
            if isinstance(value, str) and value.strip() and len(value) <= 255:
                headers[name] = (uuid.uuid4().hex + value)[:255]


@SCHEMA.parametrize()
@SCHEMA.given(data=st.data())
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the working tree
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_document(case: Any, data: Any, fuzz_box: Sandbox) -> None:
    for name in list(case.path_parameters or {}):
        if name in REAL_IDS:
            real = data.draw(st.sampled_from([None, *REAL_IDS[name]]), label=name)
            if real is not None:
                case.path_parameters[name] = real
    _fresh_idempotency_key(case)
    headers = {}
    if case.path not in ("/v1/status", "/v1/auth/token"):
        headers["Authorization"] = f"Bearer {_token_for(fuzz_box, case.path)}"
    case.call_and_validate(base_url=fuzz_box.url, headers=headers, checks=CHECKS, timeout=30)
