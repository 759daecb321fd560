"""Mutations and the business rules the server enforces (each on a fresh sandbox)."""

from __future__ import annotations

import base64
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from domain import calendar
from domain.commitment import equipment_return_deadline, return_reference, termination_fee
from domain.iban import first_debit_on_new_iban, iban_check_digits, mask_iban
from server.models import Claim, Contract
from tests.api.conftest import assert_problem, client, db_session
from tests.conftest import TODAY, Sandbox

GOOD_IBAN = "FR76 3000 6000 0112 3456 7890 189"


# --- payment method ----------------------------------------------------------------------


def test_change_iban(fresh_api: httpx.Client) -> None:
    before = fresh_api.get("/v1/payment-method").json()
    r = fresh_api.put("/v1/payment-method", json={"iban": GOOD_IBAN.lower()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {
        "iban_masked", "previous_iban_masked", "mandate_reference", "first_debit_on",
        "received_on",
    }  # fmt: skip
    assert body["iban_masked"] == mask_iban(GOOD_IBAN)
    assert body["previous_iban_masked"] == before["iban_masked"]
    assert body["mandate_reference"] == before["mandate_reference"]  # the RUM is kept
    assert body["first_debit_on"] == first_debit_on_new_iban(TODAY).isoformat()
    assert body["received_on"] == TODAY.isoformat()
    after = fresh_api.get("/v1/payment-method").json()
    assert after["iban_masked"] == mask_iban(GOOD_IBAN)
    assert "3456" not in r.text + str(after)  # never the full IBAN


@pytest.mark.parametrize(
    ("iban", "check"),
    [
        ("", "empty"),
        ("FR76-3000-6000-0112-3456-7890-189", "characters"),
        ("ZZ76 3000 6000 0112 3456 7890 189", "country"),
        ("FR76 3000 6000 0112 3456 7890 18", "length"),
        ("FR76 3000 6000 0112 3456 7890 188", "checksum"),
        # right checksum, wrong RIB key
        ("FR" + iban_check_digits("FR", "30006000011234567890188") + "30006000011234567890188",
         "rib_key"),
        # a valid IBAN from outside the SEPA zone (Brazil)
        ("BR1800360305000010009795493C1", "sepa"),
    ],
)  # fmt: skip
def test_invalid_iban_is_refused_by_the_server(
    fresh_api: httpx.Client, iban: str, check: str
) -> None:
    body = assert_problem(fresh_api.put("/v1/payment-method", json={"iban": iban}), 422)
    assert body["code"] == "invalid_iban"
    assert body["check"] == check


# --- reschedule ----------------------------------------------------------------------------


def _reschedule(c: httpx.Client, contract: str, n: int, to: date) -> httpx.Response:
    return c.post(
        f"/v1/contracts/{contract}/instalments/{n}/reschedule", json={"to": to.isoformat()}
    )


def test_reschedule_allowed_then_limits(fresh_api: httpx.Client, refs: dict[str, Any]) -> None:
    contract, n = refs["reschedulable_instalment"]
    options = fresh_api.get(f"/v1/contracts/{contract}/instalments/{n}/reschedule-options")
    latest = date.fromisoformat(options.json()["latest"])
    r = _reschedule(fresh_api, contract, n, latest)
    assert r.status_code == 200, r.text
    inst = r.json()
    assert inst["number"] == n and inst["due_date"] == latest.isoformat()
    assert inst["status"] == "rescheduled" and inst["rescheduled_count"] == 1
    assert inst["original_due_date"] != inst["due_date"]
    schedule = fresh_api.get(f"/v1/contracts/{contract}/schedule").json()
    assert schedule["instalments"][n - 1]["due_date"] == latest.isoformat()
    # Once is the limit per instalment.
    body = assert_problem(_reschedule(fresh_api, contract, n, latest + timedelta(days=1)), 409)
    assert body["code"] == "reschedule_instalment_limit"
    assert body["rule"] == "reschedule.per_instalment_limit"


@pytest.mark.parametrize(
    ("which", "delta", "code", "rule"),
    [
        ("failed_instalment", 5, "reschedule_failed_instalment", "reschedule.not_failed"),
        ("already_due_instalment", 5, "reschedule_already_due", "reschedule.not_yet_due"),
        (
            "rescheduled_instalment", 5, "reschedule_instalment_limit",
            "reschedule.per_instalment_limit",
        ),
        ("reschedulable_instalment", 0, "reschedule_not_later", "reschedule.later_date"),
        ("reschedulable_instalment", 31, "reschedule_too_far", "reschedule.max_delay"),
    ],
)  # fmt: skip
def test_reschedule_refusals(
    fresh_api: httpx.Client, refs: dict[str, Any], which: str, delta: int, code: str, rule: str
) -> None:
    contract, n = refs[which]
    inst = fresh_api.get(f"/v1/contracts/{contract}/schedule").json()["instalments"][n - 1]
    base = date.fromisoformat(inst["original_due_date"] if delta == 31 else inst["due_date"])
    body = assert_problem(_reschedule(fresh_api, contract, n, base + timedelta(days=delta)), 409)
    assert (body["code"], body["rule"]) == (code, rule)
    assert body["detail"]
    # Refused means unchanged.
    again = fresh_api.get(f"/v1/contracts/{contract}/schedule").json()["instalments"][n - 1]
    assert again == inst


def test_reschedule_plan_limit(fresh_api: httpx.Client, refs: dict[str, Any]) -> None:
    contract = refs["partwork_contract"]  # 70 instalments, none postponed yet
    plan = fresh_api.get(f"/v1/contracts/{contract}/schedule").json()["instalments"]
    future = [i for i in plan if i["status"] == "due"][:3]
    for inst in future[:2]:
        to = date.fromisoformat(inst["due_date"]) + timedelta(days=3)
        assert _reschedule(fresh_api, contract, inst["number"], to).status_code == 200
    third = future[2]
    to = date.fromisoformat(third["due_date"]) + timedelta(days=3)
    body = assert_problem(_reschedule(fresh_api, contract, third["number"], to), 409)
    assert (body["code"], body["rule"]) == ("reschedule_plan_limit", "reschedule.per_plan_limit")
    options = fresh_api.get(
        f"/v1/contracts/{contract}/instalments/{third['number']}/reschedule-options"
    ).json()
    assert options["allowed"] is False
    assert options["refusal"]["code"] == "reschedule_plan_limit"


def test_reschedule_unknown_instalment(fresh_api: httpx.Client, refs: dict[str, Any]) -> None:
    contract, _ = refs["reschedulable_instalment"]
    assert_problem(_reschedule(fresh_api, contract, 99, TODAY), 404, "not_found")


# --- termination -----------------------------------------------------------------------


def _fee_fields(fee: Any) -> dict[str, Any]:
    return {
        "effective_date": fee.effective_date.isoformat(),
        "months_remaining_year1": fee.months_remaining_year1,
        "months_remaining_year2": fee.months_remaining_year2,
        "monthly_price_cents": fee.monthly_price_cents,
        "year1_cents": fee.year1_cents,
        "year2_cents": fee.year2_cents,
        "chatel_fee_cents": fee.chatel_fee_cents,
        "provider_fee_cents": fee.provider_fee_cents,
        "total_cents": fee.total_cents,
    }


@pytest.mark.parametrize(
    "months_after_start", [0, 5, 11, 12, 13, 20, 23, 24, 30], ids=lambda m: f"month+{m}"
)
def test_quote_matches_domain(
    api: httpx.Client, refs: dict[str, Any], months_after_start: int
) -> None:
    """Year 1, year 2 and after the commitment, against domain.commitment directly."""
    contract = api.get(f"/v1/contracts/{refs['internet_contract']}").json()
    start = date.fromisoformat(contract["commitment_start"])
    for shift in (-1, 0, 1):
        effective = calendar.add_months(start, months_after_start) + timedelta(days=shift)
        if effective < date.fromisoformat(contract["signed_on"]):
            continue
        r = api.get(
            f"/v1/contracts/{contract['id']}/termination-quote",
            params={"date": effective.isoformat()},
        )
        assert r.status_code == 200, r.text
        quote = r.json()
        expected = termination_fee(
            contract["monthly_price_cents"],
            24,
            start,
            effective,
            provider_fee_cents=contract["termination_fee_cents"],
        )
        assert {k: quote[k] for k in _fee_fields(expected)} == _fee_fields(expected)
        assert quote["equipment_return"]["reference"] == return_reference(contract["id"], effective)
        assert quote["equipment_return"]["deadline"] == (
            equipment_return_deadline(effective, False).isoformat()
        )
        assert quote["withdrawal_possible"] is False


def test_quote_in_each_year(api: httpx.Client, refs: dict[str, Any]) -> None:
    contract = api.get(f"/v1/contracts/{refs['internet_contract']}").json()
    start = date.fromisoformat(contract["commitment_start"])
    url = f"/v1/contracts/{contract['id']}/termination-quote"
    year1 = api.get(url, params={"date": calendar.add_months(start, 6).isoformat()}).json()
    assert year1["months_remaining_year1"] == 5 and year1["months_remaining_year2"] == 12
    year2 = api.get(url, params={"date": calendar.add_months(start, 18).isoformat()}).json()
    assert year2["months_remaining_year1"] == 0 and year2["months_remaining_year2"] == 5
    after = api.get(url, params={"date": calendar.add_months(start, 25).isoformat()}).json()
    assert after["chatel_fee_cents"] == 0
    assert after["total_cents"] == contract["termination_fee_cents"]


def test_quote_date_bounds(api: httpx.Client, refs: dict[str, Any]) -> None:
    url = f"/v1/contracts/{refs['internet_contract']}/termination-quote"
    assert_problem(api.get(url, params={"date": "1999-01-01"}), 422, "validation_error")
    assert_problem(api.get(url, params={"date": "9999-12-31"}), 422, "validation_error")
    assert_problem(api.get(url, params={"date": "tomorrow"}), 422, "validation_error")


def test_terminate_internet_contract(fresh_sandbox: Sandbox, refs: dict[str, Any]) -> None:
    contract_id = refs["internet_contract"]
    # Account restrictions never block termination: the demo account has one.
    with client(fresh_sandbox) as api:
        assert api.get("/v1/me").json()["customer"]["restrictions"]
        quote = api.get(f"/v1/contracts/{contract_id}/termination-quote").json()
        r = api.post(f"/v1/contracts/{contract_id}/termination", json={})
        assert r.status_code == 200, r.text
        done = r.json()
        assert set(done) == {"contract", "quote", "last_invoice_on", "equipment_return"}
        assert done["contract"]["status"] == "terminated"
        assert done["contract"]["terminated_on"] == TODAY.isoformat()
        assert done["quote"]["total_cents"] == quote["total_cents"]
        back = done["equipment_return"]
        assert back["reference"].startswith("RM-")
        assert back["reference"] == return_reference(contract_id, TODAY)
        assert back["deadline"] == equipment_return_deadline(TODAY, False).isoformat()
        assert {e["return_reference"] for e in back["items"]} == {back["reference"]}
        assert date.fromisoformat(done["last_invoice_on"]) >= TODAY
        assert calendar.is_business_day(date.fromisoformat(done["last_invoice_on"]))
        stored = api.get(f"/v1/contracts/{contract_id}").json()
        assert stored["status"] == "terminated"
        assert {e["return_reference"] for e in stored["equipment"]} == {back["reference"]}
        # Twice: refused, and nothing changes.
        again = assert_problem(api.post(f"/v1/contracts/{contract_id}/termination", json={}), 409)
        assert again["code"] == "already_terminated"
        assert_problem(
            api.get(f"/v1/contracts/{contract_id}/termination-quote"), 409, "already_terminated"
        )


def test_terminate_later_and_bounds(fresh_api: httpx.Client, refs: dict[str, Any]) -> None:
    url = f"/v1/contracts/{refs['internet_contract']}/termination"
    past = (TODAY - timedelta(days=1)).isoformat()
    assert_problem(fresh_api.post(url, json={"effective_date": past}), 422, "validation_error")
    far = (TODAY + timedelta(days=400)).isoformat()
    assert_problem(fresh_api.post(url, json={"effective_date": far}), 422, "validation_error")
    later = TODAY + timedelta(days=20)
    done = fresh_api.post(url, json={"effective_date": later.isoformat()}).json()
    assert done["contract"]["terminated_on"] == later.isoformat()
    assert done["quote"]["effective_date"] == later.isoformat()


def test_terminate_with_no_body(fresh_api: httpx.Client, refs: dict[str, Any]) -> None:
    r = fresh_api.post(f"/v1/contracts/{refs['partwork_contract']}/termination")
    assert r.status_code == 200, r.text
    assert r.json()["equipment_return"] is None


# --- withdrawal ----------------------------------------------------------------------------


def _set_withdrawal_start(box: Sandbox, contract_id: str, start: date) -> None:
    with db_session(box) as session:
        contract = session.get(Contract, contract_id)
        assert contract is not None
        contract.withdrawal_start = start
        session.commit()


def _start_for_deadline(deadline: date) -> date:
    """A withdrawal start whose deadline (start + 14, rolled forward) is `deadline`."""
    start = deadline - timedelta(days=14)
    while calendar.withdrawal_deadline(start) != deadline:
        start -= timedelta(days=1)
    return start


def test_withdrawal_after_deadline(fresh_sandbox: Sandbox, refs: dict[str, Any]) -> None:
    contract_id = refs["instalment_contract"]
    with client(fresh_sandbox) as api:
        contract = api.get(f"/v1/contracts/{contract_id}").json()
        deadline = date.fromisoformat(contract["withdrawal_deadline"])
        assert deadline < TODAY
        body = assert_problem(api.post(f"/v1/contracts/{contract_id}/withdrawal", json={}), 409)
        assert body["code"] == "withdrawal_period_over" and body["rule"] == "withdrawal.period"
        assert calendar.format_long_date(deadline) in body["detail"]
        # The day after the deadline is refused too.
        _set_withdrawal_start(fresh_sandbox, contract_id, _start_for_deadline(TODAY - timedelta(1)))
        r = api.post(f"/v1/contracts/{contract_id}/withdrawal", json={})
        assert_problem(r, 409, "withdrawal_period_over")


def test_withdrawal_on_the_deadline(fresh_sandbox: Sandbox, refs: dict[str, Any]) -> None:
    contract_id = refs["partwork_contract"]
    _set_withdrawal_start(fresh_sandbox, contract_id, _start_for_deadline(TODAY))
    with client(fresh_sandbox) as api:
        schedule = api.get(f"/v1/contracts/{contract_id}/schedule").json()
        quote = api.get(f"/v1/contracts/{contract_id}/termination-quote").json()
        assert quote["withdrawal_possible"] is True
        assert quote["withdrawal_deadline"] == TODAY.isoformat()
        r = api.post(f"/v1/contracts/{contract_id}/withdrawal", json={})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["contract"]["status"] == "withdrawn"
        assert body["refund_cents"] == schedule["paid_cents"]  # no invoices: the instalments
        again = api.post(f"/v1/contracts/{contract_id}/withdrawal", json={})
        assert_problem(again, 409, "already_withdrawn")
        assert_problem(
            api.post(f"/v1/contracts/{contract_id}/termination", json={}), 409, "already_withdrawn"
        )


# --- claims --------------------------------------------------------------------------------


def test_create_claim_and_merchant_first(fresh_api: httpx.Client, refs: dict[str, Any]) -> None:
    refused = fresh_api.post(
        "/v1/claims",
        json={"category": "order_not_received", "subject": "Colis", "message": "Rien reçu"},
    )
    body = assert_problem(refused, 409, "merchant_first")
    assert body["rule"] == "claims.merchant_first"
    r = fresh_api.post(
        "/v1/claims",
        json={
            "category": "order_not_received",
            "subject": "Colis",
            "message": "Rien reçu, le marchand ne répond pas",
            "contract_id": refs["instalment_contract"],
            "merchant_contacted": True,
        },
    )
    assert r.status_code == 201, r.text
    claim = r.json()
    assert claim["status"] == "open" and claim["created_on"] == TODAY.isoformat()
    assert claim["contract_id"] == refs["instalment_contract"]
    assert claim["messages"][0]["body"] == "Rien reçu, le marchand ne répond pas"
    assert fresh_api.get(f"/v1/claims/{claim['id']}").json() == claim
    # A contract of another customer is not found.
    other = fresh_api.post(
        "/v1/claims",
        json={"category": "other", "subject": "s", "message": "m", "contract_id": "CT-0000005"},
    )
    assert_problem(other, 404, "not_found")


def test_messages_with_attachments(fresh_api: httpx.Client, refs: dict[str, Any]) -> None:
    claim_id = refs["answered_claim"]
    files = [
        ("preuve.pdf", "application/pdf", b"%PDF-1.4\n% depot\n%%EOF\n"),
        ("capture.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32),
        ("photo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 32),
        ("notes.txt", "text/plain", "Dépôt le 3 novembre".encode()),
    ]
    r = fresh_api.post(
        f"/v1/claims/{claim_id}/messages",
        json={
            "body": "Voici les preuves",
            "attachments": [
                {"filename": n, "content_type": t, "content_base64": base64.b64encode(b).decode()}
                for n, t, b in files
            ],
        },
    )
    assert r.status_code == 200, r.text
    claim = r.json()
    last = claim["messages"][-1]
    assert last["author"] == "customer" and last["body"] == "Voici les preuves"
    assert [(a["filename"], a["content_type"], a["size"]) for a in last["attachments"]] == [
        (n, t, len(b)) for n, t, b in files
    ]
    assert claim["status"] == "open"  # was answered: back in support's court


@pytest.mark.parametrize(
    ("filename", "content_type", "content", "code"),
    [
        ("a.pdf", "application/pdf", b"MZ\x90\x00 not a pdf", "invalid_attachment"),
        ("a.png", "image/png", b"%PDF-1.4", "invalid_attachment"),
        ("a.jpg", "image/jpeg", b"GIF89a", "invalid_attachment"),
        ("a.txt", "text/plain", b"\xff\xfe\x00\x00binary", "invalid_attachment"),
        ("a.txt", "text/plain", b"", "invalid_attachment"),
        ("a.pdf", "application/pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), "attachment_too_large"),
    ],
)
def test_bad_attachments(
    fresh_api: httpx.Client,
    refs: dict[str, Any],
    filename: str,
    content_type: str,
    content: bytes,
    code: str,
) -> None:
    payload = {
        "body": "pièce jointe",
        "attachments": [
            {
                "filename": filename,
                "content_type": content_type,
                "content_base64": base64.b64encode(content).decode(),
            }
        ],
    }
    r = fresh_api.post(f"/v1/claims/{refs['old_claim']}/messages", json=payload)
    assert_problem(r, 422, code)
    claim = fresh_api.get(f"/v1/claims/{refs['old_claim']}").json()
    assert len(claim["messages"]) == 1  # nothing was added


@pytest.mark.parametrize(
    "attachment",
    [
        {"filename": "a.exe", "content_type": "application/x-msdownload", "content_base64": ""},
        {"filename": "../../etc/passwd", "content_type": "text/plain", "content_base64": "eA=="},
        {"filename": "a.txt", "content_type": "text/plain", "content_base64": "%%%"},
        {"filename": "x" * 256, "content_type": "text/plain", "content_base64": "eA=="},
    ],
)
def test_bad_attachment_fields(
    fresh_api: httpx.Client, refs: dict[str, Any], attachment: dict[str, Any]
) -> None:
    r = fresh_api.post(
        f"/v1/claims/{refs['old_claim']}/messages",
        json={"body": "x", "attachments": [attachment]},
    )
    assert r.status_code == 422 and r.json()["code"] in ("validation_error", "invalid_attachment")


def test_escalation(fresh_sandbox: Sandbox, refs: dict[str, Any]) -> None:
    with client(fresh_sandbox) as api:
        # A claim written today: too early (2 months without an answer first).
        new = api.post(
            "/v1/claims", json={"category": "billing", "subject": "Facture", "message": "Erreur"}
        ).json()
        body = assert_problem(api.post(f"/v1/claims/{new['id']}/escalate"), 409)
        assert (body["code"], body["rule"]) == ("escalation_too_early", "escalation.two_months")
        assert calendar.format_long_date(date.fromisoformat(new["mediator_from"])) in body["detail"]
        # The old unanswered claim: allowed.
        r = api.post(f"/v1/claims/{refs['old_claim']}/escalate", json={})
        assert r.status_code == 200, r.text
        escalated = r.json()
        assert escalated["status"] == "escalated" and escalated["escalated_on"] == TODAY.isoformat()
        again = api.post(f"/v1/claims/{refs['old_claim']}/escalate")
        assert_problem(again, 409, "already_escalated")
        # Over a year old: too late.
        with db_session(fresh_sandbox) as session:
            claim = session.get(Claim, new["id"])
            assert claim is not None
            claim.created_on = TODAY - timedelta(days=400)
            session.commit()
        late = assert_problem(api.post(f"/v1/claims/{new['id']}/escalate"), 409)
        assert (late["code"], late["rule"]) == ("escalation_too_late", "escalation.one_year")


def test_answered_claim_can_be_escalated_at_once(
    fresh_api: httpx.Client, refs: dict[str, Any]
) -> None:
    r = fresh_api.post(f"/v1/claims/{refs['answered_claim']}/escalate")
    assert r.status_code == 200 and r.json()["status"] == "escalated"


def test_closed_claim(fresh_sandbox: Sandbox, refs: dict[str, Any]) -> None:
    with db_session(fresh_sandbox) as session:
        claim = session.get(Claim, refs["answered_claim"])
        assert claim is not None
        claim.status = "closed"
        session.commit()
    with client(fresh_sandbox) as api:
        url = f"/v1/claims/{refs['answered_claim']}"
        assert_problem(api.post(f"{url}/messages", json={"body": "x"}), 409, "claim_closed")
        assert_problem(api.post(f"{url}/escalate"), 409, "claim_closed")


# --- auth ------------------------------------------------------------------------------------


def _login(box: Sandbox, **body: Any) -> httpx.Response:
    payload = {"grant_type": "password", **body}
    return httpx.post(f"{box.url}/v1/auth/token", json=payload, timeout=30)


def test_login_refresh_revoke(fresh_sandbox: Sandbox) -> None:
    r = _login(fresh_sandbox, username="demo", password="demo1234")
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in", "scope"}
    assert tokens["token_type"] == "bearer" and tokens["scope"] == "customer"
    assert 0 < tokens["expires_in"] <= 3600
    with client(fresh_sandbox, tokens["access_token"]) as api:
        assert api.get("/v1/me").json()["username"] == "demo"
    refreshed = httpx.post(
        f"{fresh_sandbox.url}/v1/auth/token",
        json={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    # Rotation: the old pair is revoked, the refresh token works once.
    with client(fresh_sandbox, tokens["access_token"]) as old:
        assert_problem(old.get("/v1/me"), 401, "token_revoked")
    reuse = httpx.post(
        f"{fresh_sandbox.url}/v1/auth/token",
        json={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert_problem(reuse, 401, "token_revoked")
    with client(fresh_sandbox, new["access_token"]) as api:
        assert api.post("/v1/auth/revoke", json={}).json() == {"revoked": True}
        assert_problem(api.get("/v1/me"), 401, "token_revoked")
    again = httpx.post(
        f"{fresh_sandbox.url}/v1/auth/token",
        json={"grant_type": "refresh_token", "refresh_token": new["refresh_token"]},
    )
    assert_problem(again, 401, "token_revoked")


def test_revoke_a_given_token(fresh_sandbox: Sandbox) -> None:
    first = _login(fresh_sandbox, username="demo", password="demo1234").json()
    second = _login(fresh_sandbox, username="demo", password="demo1234").json()
    with client(fresh_sandbox, first["access_token"]) as api:
        assert (
            api.post("/v1/auth/revoke", json={"token": second["refresh_token"]}).status_code == 200
        )
        assert api.get("/v1/me").status_code == 200  # the one in use still works
    with client(fresh_sandbox, second["access_token"]) as api:
        assert_problem(api.get("/v1/me"), 401, "token_revoked")
    # Another user's token cannot be revoked by this caller.
    clean = _login(fresh_sandbox, username="clean", password="clean1234").json()
    with client(fresh_sandbox, first["access_token"]) as api:
        assert api.post("/v1/auth/revoke", json={"token": clean["access_token"]}).status_code == 200
    with client(fresh_sandbox, clean["access_token"]) as api:
        assert api.get("/v1/me").status_code == 200


def test_wrong_password(fresh_sandbox: Sandbox) -> None:
    assert_problem(
        _login(fresh_sandbox, username="demo", password="nope"), 401, "invalid_credentials"
    )
    assert_problem(
        _login(fresh_sandbox, username="nobody", password="nope"), 401, "invalid_credentials"
    )


def test_login_rate_limited(fresh_sandbox: Sandbox) -> None:
    for _ in range(5):
        assert _login(fresh_sandbox, username="demo", password="wrong").status_code == 401
    r = _login(fresh_sandbox, username="demo", password="wrong")
    assert_problem(r, 429, "rate_limited")
    assert 0 < int(r.headers["retry-after"]) <= 300
    # Even the right password waits: the lock is about the username, not the guess.
    assert_problem(_login(fresh_sandbox, username="demo", password="demo1234"), 429, "rate_limited")
    # Another username from the same client is not locked by these 6 failures.
    assert _login(fresh_sandbox, username="clean", password="clean1234").status_code == 200


def test_login_rate_limit_per_client(fresh_sandbox: Sandbox) -> None:
    from server.auth import MAX_FAILURES_PER_CLIENT

    for i in range(MAX_FAILURES_PER_CLIENT):
        _login(fresh_sandbox, username=f"user{i}", password="wrong")
    r = _login(fresh_sandbox, username="clean", password="clean1234")
    assert_problem(r, 429, "rate_limited")
    assert int(r.headers["retry-after"]) > 0


def test_one_time_code(fresh_sandbox: Sandbox) -> None:
    from server.seed import AGENT_OTP_SECRET
    from server.totp import totp_now

    body = assert_problem(_login(fresh_sandbox, username="agent", password="agent1234"), 401)
    assert body["code"] == "otp_required"
    wrong = "000000" if totp_now(AGENT_OTP_SECRET) != "000000" else "111111"
    bad = _login(fresh_sandbox, username="agent", password="agent1234", otp=wrong)
    assert_problem(bad, 401, "otp_required")
    ok = _login(
        fresh_sandbox, username="agent", password="agent1234", otp=totp_now(AGENT_OTP_SECRET)
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["scope"] == "staff"
    # A wrong password never reveals that a one-time code is needed.
    assert_problem(
        _login(fresh_sandbox, username="agent", password="x"), 401, "invalid_credentials"
    )
