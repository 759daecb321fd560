"""Idempotency-Key: one effect per key, replayed answers, conflicts, races."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from tests.api.conftest import assert_problem, client
from tests.conftest import Sandbox

CLAIM = {"category": "billing", "subject": "Double prélèvement", "message": "Deux fois 29,99 €"}


def _claim_count(api: httpx.Client) -> int:
    return len(api.get("/v1/claims", params={"limit": 500}).json()["items"])


def test_same_key_twice_is_one_effect(fresh_api: httpx.Client) -> None:
    before = _claim_count(fresh_api)
    first = fresh_api.post("/v1/claims", json=CLAIM, headers={"Idempotency-Key": "claim-1"})
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    second = fresh_api.post("/v1/claims", json=CLAIM, headers={"Idempotency-Key": "claim-1"})
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert _claim_count(fresh_api) == before + 1
    # Without a key, or with another key, it is a new claim.
    fresh_api.post("/v1/claims", json=CLAIM, headers={"Idempotency-Key": "claim-2"})
    assert _claim_count(fresh_api) == before + 2


def test_same_key_other_request_conflicts(fresh_api: httpx.Client, refs: dict[str, Any]) -> None:
    key = {"Idempotency-Key": "k-conflict"}
    assert fresh_api.post("/v1/claims", json=CLAIM, headers=key).status_code == 201
    other = {**CLAIM, "message": "autre chose"}
    assert_problem(
        fresh_api.post("/v1/claims", json=other, headers=key), 422, "idempotency_conflict"
    )
    # Same body on another path is another request too.
    r = fresh_api.post(f"/v1/claims/{refs['old_claim']}/escalate", json=CLAIM, headers=key)
    assert_problem(r, 422, "idempotency_conflict")


def test_keys_are_per_caller(fresh_sandbox: Sandbox) -> None:
    key = {"Idempotency-Key": "shared-key"}
    with client(fresh_sandbox) as demo, client(fresh_sandbox, "clean") as clean:
        a = demo.post("/v1/claims", json=CLAIM, headers=key).json()
        b = clean.post("/v1/claims", json=CLAIM, headers=key)
        assert b.status_code == 201 and "idempotent-replayed" not in b.headers
        assert b.json()["id"] != a["id"]


def test_replays_refusals_and_keeps_mutations_single(
    fresh_api: httpx.Client, refs: dict[str, Any]
) -> None:
    url = f"/v1/contracts/{refs['internet_contract']}/termination"
    key = {"Idempotency-Key": "terminate-once"}
    first = fresh_api.post(url, json={}, headers=key)
    assert first.status_code == 200
    replay = fresh_api.post(url, json={}, headers=key)
    assert replay.status_code == 200 and replay.json() == first.json()
    # Without the key the second termination is refused: the replay did not act twice.
    assert_problem(fresh_api.post(url, json={}), 409, "already_terminated")
    # A refusal is a first answer too, and is replayed as such.
    refused = fresh_api.post(url, json={}, headers={"Idempotency-Key": "terminate-twice"})
    replayed = fresh_api.post(url, json={}, headers={"Idempotency-Key": "terminate-twice"})
    assert refused.status_code == replayed.status_code == 409
    assert replayed.headers["idempotent-replayed"] == "true"


def test_invalid_requests_are_not_stored(fresh_api: httpx.Client) -> None:
    key = {"Idempotency-Key": "fix-and-retry"}
    bad = fresh_api.put("/v1/payment-method", json={"iban": 1}, headers=key)
    assert_problem(bad, 422, "validation_error")
    good = fresh_api.put(
        "/v1/payment-method", json={"iban": "FR7630006000011234567890189"}, headers=key
    )
    assert good.status_code == 200 and "idempotent-replayed" not in good.headers


def test_put_is_idempotent_with_key(fresh_api: httpx.Client) -> None:
    key = {"Idempotency-Key": "iban-1"}
    body = {"iban": "FR7630006000011234567890189"}
    first = fresh_api.put("/v1/payment-method", json=body, headers=key)
    second = fresh_api.put("/v1/payment-method", json=body, headers=key)
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"


def test_key_length_and_blank(fresh_api: httpx.Client) -> None:
    long_key = {"Idempotency-Key": "k" * 256}
    assert_problem(fresh_api.post("/v1/claims", json=CLAIM, headers=long_key), 422)
    assert (
        fresh_api.post("/v1/claims", json=CLAIM, headers={"Idempotency-Key": "k" * 255}).status_code
        == 201
    )
    assert_problem(fresh_api.post("/v1/claims", json=CLAIM, headers={"Idempotency-Key": ""}), 422)


def test_unauthenticated_request_with_key_is_401(fresh_sandbox: Sandbox) -> None:
    with client(fresh_sandbox, "garbage") as c:
        r = c.post("/v1/claims", json=CLAIM, headers={"Idempotency-Key": "x"})
    assert_problem(r, 401, "unauthorized")


def test_concurrent_same_key_is_one_effect(fresh_sandbox: Sandbox) -> None:
    """Eight clients race with the same key: one claim, eight identical answers."""
    with client(fresh_sandbox) as api:
        before = _claim_count(api)
    barrier = threading.Barrier(8)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def post() -> None:
        with client(fresh_sandbox) as c:
            barrier.wait()
            r = c.post("/v1/claims", json=CLAIM, headers={"Idempotency-Key": "race"})
        with lock:
            answers.append(r)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 8
    assert {r.status_code for r in answers} == {201}, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum(1 for r in answers if "idempotent-replayed" not in r.headers) == 1
    with client(fresh_sandbox) as api:
        assert _claim_count(api) == before + 1


def test_concurrent_terminations_same_key(fresh_sandbox: Sandbox, refs: dict[str, Any]) -> None:
    url = f"/v1/contracts/{refs['internet_contract']}/termination"
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def post() -> None:
        with client(fresh_sandbox) as c:
            barrier.wait()
            statuses.append(c.post(url, json={}, headers={"Idempotency-Key": "end"}).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert statuses == [200] * 6
