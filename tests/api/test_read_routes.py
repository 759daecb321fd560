"""Every read route answers with the shapes of docs/api.md, on the demo data."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from domain import calendar
from domain.commitment import commitment_end
from tests.api.conftest import assert_problem
from tests.conftest import TODAY

CUSTOMER_KEYS = {
    "id", "customer_number", "first_name", "last_name", "email", "phone", "address",
    "terms_version_accepted", "restrictions",
}  # fmt: skip
CONTRACT_KEYS = {
    "id", "customer_id", "kind", "offer", "status", "monthly_price_cents",
    "activation_fee_cents", "termination_fee_cents", "signed_on", "first_connection_on",
    "commitment_months", "commitment_start", "commitment_end", "withdrawal_deadline",
    "equipment", "options", "shipments", "partwork", "merchant", "outages", "terminated_on",
}  # fmt: skip
INVOICE_KEYS = {
    "id", "contract_id", "issue_date", "debit_date", "debit_date_moved_reason",
    "period_start", "period_end", "total_cents", "debited_cents", "status",
}  # fmt: skip
CLAIM_KEYS = {
    "id", "category", "subject", "status", "created_on", "last_answer_on", "contract_id",
    "messages", "mediator_from", "mediator_until", "escalated_on",
}  # fmt: skip


def test_status_needs_no_token(sandbox: Any) -> None:
    r = httpx.get(f"{sandbox.url}/v1/status")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {
        "status", "terms_version", "maintenance", "support", "mediator", "server_time",
    }  # fmt: skip
    assert body["status"] in ("ok", "maintenance")
    assert set(body["support"]) == {"phone", "email", "form_url", "postal_address"}
    assert body["mediator"]["name"]
    assert body["server_time"].endswith("Z")
    for window in body["maintenance"]:
        assert set(window) == {"start", "end", "description"}


def test_me_customer_and_staff(
    api: httpx.Client, staff_api: httpx.Client, refs: dict[str, Any]
) -> None:
    me = api.get("/v1/me").json()
    assert me["username"] == "demo" and me["scope"] == "customer"
    assert set(me["customer"]) == CUSTOMER_KEYS
    assert me["customer"]["id"] == refs["customer"]
    assert set(me["customer"]["address"]) == {"line1", "postcode", "city", "country"}
    assert me["customer"]["restrictions"][0]["feature"] == refs["restricted_feature"]
    staff = staff_api.get("/v1/me").json()
    assert staff == {"username": "agent", "scope": "staff", "customer": None}


def test_contracts_list_and_one(api: httpx.Client, refs: dict[str, Any]) -> None:
    page = api.get("/v1/contracts").json()
    assert page["next_cursor"] is None
    ids = [c["id"] for c in page["items"]]
    assert ids == sorted(ids)
    assert refs["internet_contract"] in ids and refs["partwork_contract"] in ids
    for item in page["items"]:
        assert set(item) == CONTRACT_KEYS
        assert item["customer_id"] == refs["customer"]
    internet = api.get(f"/v1/contracts/{refs['internet_contract']}").json()
    assert internet["kind"] == "internet" and internet["commitment_months"] == 24
    start = date.fromisoformat(internet["commitment_start"])
    assert internet["commitment_end"] == commitment_end(start, 24).isoformat()
    signed = date.fromisoformat(internet["signed_on"])
    assert internet["withdrawal_deadline"] == calendar.withdrawal_deadline(signed).isoformat()
    assert {e["kind"] for e in internet["equipment"]} == {"box", "antenna"}
    assert max(o["hours"] for o in internet["outages"]) == refs["outage_hours"]


def test_contracts_pagination(api: httpx.Client) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/v1/contracts", params=params).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [c["id"] for c in api.get("/v1/contracts").json()["items"]]


def test_partwork_block(api: httpx.Client, refs: dict[str, Any]) -> None:
    partwork = api.get(f"/v1/contracts/{refs['partwork_contract']}").json()["partwork"]
    assert partwork["issues_total"] == 140
    assert refs["missing_issue"] in partwork["missing"]
    assert partwork["issues_received"] < partwork["issues_expected_by_today"]


def test_invoices_list_filters_and_pagination(api: httpx.Client, refs: dict[str, Any]) -> None:
    everything = api.get("/v1/invoices", params={"limit": 500}).json()
    items = everything["items"]
    assert items and everything["next_cursor"] is None
    for item in items:
        assert set(item) == INVOICE_KEYS  # no lines in the list
    keys = [(i["issue_date"], i["id"]) for i in items]
    assert keys == sorted(keys, reverse=True)

    unpaid = api.get("/v1/invoices", params={"status": "unpaid"}).json()["items"]
    assert refs["unpaid_invoice"] in {i["id"] for i in unpaid}
    assert all(i["status"] != "paid" for i in unpaid)
    paid = api.get("/v1/invoices", params={"status": "paid"}).json()["items"]
    assert all(i["status"] == "paid" for i in paid)
    assert len(paid) + len(unpaid) == len(items)

    contract = refs["internet_contract"]
    mine = api.get("/v1/invoices", params={"contract": contract, "limit": 500}).json()["items"]
    assert len(mine) == 10 and all(i["contract_id"] == contract for i in mine)

    since, until = items[-3]["issue_date"], items[2]["issue_date"]
    window = api.get("/v1/invoices", params={"since": since, "until": until}).json()["items"]
    assert window and all(since <= i["issue_date"] <= until for i in window)

    walked: list[str] = []
    cursor = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/v1/invoices", params=params).json()
        assert len(page["items"]) <= 3
        walked += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == [i["id"] for i in items]


def test_invoice_bad_cursor_and_filters(api: httpx.Client) -> None:
    assert_problem(api.get("/v1/invoices", params={"cursor": "garbage!"}), 422, "validation_error")
    assert_problem(api.get("/v1/invoices", params={"status": "nope"}), 422, "validation_error")
    assert_problem(api.get("/v1/invoices", params={"limit": 0}), 422, "validation_error")
    assert_problem(api.get("/v1/invoices", params={"limit": 501}), 422, "validation_error")
    assert_problem(api.get("/v1/invoices", params={"since": "24/11/2026"}), 422)


def test_invoice_with_lines(api: httpx.Client, refs: dict[str, Any]) -> None:
    first = api.get(f"/v1/invoices/{refs['first_invoice']}").json()
    assert set(first) == INVOICE_KEYS | {"lines"}
    kinds = [line["kind"] for line in first["lines"]]
    assert "activation" in kinds and "prorata" in kinds
    assert all(line["explanation"] for line in first["lines"])
    assert sum(line["amount_cents"] for line in first["lines"]) == first["total_cents"]
    out_of_plan = api.get(f"/v1/invoices/{refs['out_of_plan_invoice']}").json()
    assert "out_of_plan" in [line["kind"] for line in out_of_plan["lines"]]


def test_moved_debit_has_its_reason(api: httpx.Client, refs: dict[str, Any]) -> None:
    if refs["moved_debit_invoice"] is None:  # no moved debit in the 10 months seeded
        return
    invoice = api.get(f"/v1/invoices/{refs['moved_debit_invoice']}").json()
    debit = date.fromisoformat(invoice["debit_date"])
    assert invoice["debit_date_moved_reason"] == calendar.debit_moved_reason(
        debit.year, debit.month
    )


def test_schedule(api: httpx.Client, refs: dict[str, Any]) -> None:
    contract = refs["instalment_contract"]
    schedule = api.get(f"/v1/contracts/{contract}/schedule").json()
    assert set(schedule) == {
        "contract_id", "instalments", "paid_cents", "remaining_cents", "next_debit",
    }  # fmt: skip
    statuses = [i["status"] for i in schedule["instalments"]]
    assert statuses == ["paid", "failed", "due", "rescheduled"]
    total = sum(i["amount_cents"] for i in schedule["instalments"])
    assert schedule["paid_cents"] + schedule["remaining_cents"] == total
    assert schedule["next_debit"]["number"] == 3
    for inst in schedule["instalments"]:
        due = date.fromisoformat(inst["due_date"])
        assert inst["debit_date"] == calendar.roll_forward(due).isoformat()
    # A contract without a plan has an empty schedule, not an error.
    empty = api.get(f"/v1/contracts/{refs['internet_contract']}/schedule").json()
    assert empty["instalments"] == [] and empty["next_debit"] is None


def test_reschedule_options(api: httpx.Client, refs: dict[str, Any]) -> None:
    contract, n = refs["reschedulable_instalment"]
    options = api.get(f"/v1/contracts/{contract}/instalments/{n}/reschedule-options").json()
    assert options["allowed"] is True and options["refusal"] is None
    earliest, latest = options["earliest"], options["latest"]
    assert earliest < latest
    assert options["suggested"] and all(earliest <= d <= latest for d in options["suggested"])
    assert all(calendar.is_business_day(date.fromisoformat(d)) for d in options["suggested"])

    contract, n = refs["failed_instalment"]
    refused = api.get(f"/v1/contracts/{contract}/instalments/{n}/reschedule-options").json()
    assert refused["allowed"] is False and refused["suggested"] == []
    assert refused["refusal"]["code"] == "reschedule_failed_instalment"
    assert refused["refusal"]["rule"] == "reschedule.not_failed"
    assert_problem(
        api.get(f"/v1/contracts/{contract}/instalments/99/reschedule-options"), 404, "not_found"
    )


def test_payment_method_is_masked(api: httpx.Client) -> None:
    method = api.get("/v1/payment-method").json()
    assert set(method) == {"kind", "iban_masked", "mandate_reference", "bank_name", "updated_at"}
    assert method["kind"] == "sepa_debit"
    assert "*" in method["iban_masked"]
    assert method["mandate_reference"].startswith("RUM-")


def test_claims(api: httpx.Client, refs: dict[str, Any]) -> None:
    page = api.get("/v1/claims").json()
    ids = [c["id"] for c in page["items"]]
    assert refs["old_claim"] in ids and refs["answered_claim"] in ids
    for claim in page["items"]:
        assert set(claim) == CLAIM_KEYS
    old = api.get(f"/v1/claims/{refs['old_claim']}").json()
    created = date.fromisoformat(old["created_on"])
    assert old["mediator_from"] == calendar.add_months(created, 2).isoformat()
    assert old["mediator_until"] == calendar.add_months(created, 12).isoformat()
    assert old["messages"][0]["author"] == "customer"
    assert old["messages"][0]["sent_at"].endswith("Z")


def test_staff_reads_any_customer(staff_api: httpx.Client, refs: dict[str, Any]) -> None:
    clean = refs["clean_customer"]
    customer = staff_api.get(f"/v1/customers/{clean}").json()
    assert set(customer) == CUSTOMER_KEYS and customer["id"] == clean
    contracts = staff_api.get(f"/v1/customers/{clean}/contracts").json()["items"]
    assert {c["id"] for c in contracts} == {
        refs["clean_internet_contract"],
        refs["clean_instalment_contract"],
    }
    invoices = staff_api.get(f"/v1/customers/{clean}/invoices").json()["items"]
    assert invoices and all(i["status"] == "paid" for i in invoices)
    one = staff_api.get(f"/v1/customers/{clean}/invoices/{invoices[0]['id']}").json()
    assert one["lines"]
    assert staff_api.get(f"/v1/customers/{clean}/payment-method").status_code == 200
    assert staff_api.get(f"/v1/customers/{clean}/claims").json()["items"] == []
    # The staff view is the customer's view, by construction.
    demo = refs["customer"]
    with httpx.Client(base_url=str(staff_api.base_url), headers=staff_api.headers) as c:
        staff_view = c.get(f"/v1/customers/{demo}/invoices", params={"limit": 500}).json()
    assert staff_view["items"]
    assert_problem(staff_api.get("/v1/customers/C9999999/contracts"), 404, "not_found")
    assert_problem(staff_api.get("/v1/customers/C9999999"), 404, "not_found")


def test_staff_view_equals_customer_view(
    api: httpx.Client, staff_api: httpx.Client, refs: dict[str, Any]
) -> None:
    demo = refs["customer"]
    for path in ("/contracts", "/invoices", "/claims", "/payment-method"):
        assert api.get(f"/v1{path}").json() == staff_api.get(f"/v1/customers/{demo}{path}").json()


def test_customer_search(staff_api: httpx.Client, refs: dict[str, Any]) -> None:
    found = staff_api.get("/v1/customers", params={"q": "dubois"}).json()["items"]
    assert refs["customer"] in [c["id"] for c in found]
    by_number = staff_api.get("/v1/customers", params={"q": "10000002"}).json()["items"]
    assert [c["id"] for c in by_number] == [refs["clean_customer"]]
    by_email = staff_api.get("/v1/customers", params={"q": "julien.moreau@"}).json()["items"]
    assert [c["id"] for c in by_email] == [refs["clean_customer"]]
    by_id = staff_api.get("/v1/customers", params={"q": refs["customer"]}).json()["items"]
    assert [c["id"] for c in by_id] == [refs["customer"]]
    two_words = staff_api.get("/v1/customers", params={"q": "Claire Dubois"}).json()["items"]
    assert refs["customer"] in [c["id"] for c in two_words]
    assert staff_api.get("/v1/customers", params={"q": "%_zz"}).json()["items"] == []
    everyone: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = staff_api.get("/v1/customers", params=params).json()
        everyone += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert everyone == sorted(everyone) and len(everyone) >= 2


def test_unknown_route_and_method(api: httpx.Client) -> None:
    assert_problem(api.get("/v1/nothing-here"), 404, "not_found")
    assert_problem(api.delete("/v1/contracts"), 405, "method_not_allowed")


def test_today_is_pinned(api: httpx.Client, refs: dict[str, Any]) -> None:
    # The quote's default effective date is the server's (pinned) today.
    quote = api.get(f"/v1/contracts/{refs['internet_contract']}/termination-quote").json()
    assert quote["effective_date"] == TODAY.isoformat()
