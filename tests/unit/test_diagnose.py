"""`diagnose`: the pure checks on crafted data, and the probes against small local servers.

Each check has a case that makes it pass and one that makes it warn or fail. Account
checks are pure functions of dicts and a date (no server); network probes run against
servers started here on 127.0.0.1 (a plain TCP listener, a TLS server with a certificate
made here, an HTTP server whose Date header is skewed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import http.server
import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.context import Env
from cli.credentials import FileStore, Tokens
from commands.diagnose import probes
from domain import diagnose as d
from domain.diagnose import AccountData, Finding

TODAY = dt.date(2026, 11, 24)
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


# --- crafted account data --------------------------------------------------------------------


def customer(**over: Any) -> dict[str, Any]:
    base = {
        "id": "C1",
        "customer_number": "10000042",
        "first_name": "Anne",
        "last_name": "Le Gall",
        "terms_version_accepted": "2026-09",
        "restrictions": [],
    }
    base.update(over)
    return base


def contract(cid: str = "CT-1", **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": cid,
        "kind": "internet",
        "offer": "Internet",
        "status": "active",
        "monthly_price_cents": 2999,
        "commitment_months": 24,
        "commitment_start": "2026-01-17",
        "commitment_end": "2028-01-16",
        "equipment": [],
        "options": [],
        "shipments": [],
        "partwork": None,
        "outages": [],
        "terminated_on": None,
    }
    base.update(over)
    return base


def data(**over: Any) -> AccountData:
    fields: dict[str, Any] = {
        "me": {"username": "anne", "scope": "customer", "customer": customer()},
        "status": {"terms_version": "2026-09"},
    }
    fields.update(over)
    return AccountData(**fields)


def invoice(iid: str, **over: Any) -> dict[str, Any]:
    base = {
        "id": iid,
        "contract_id": "CT-1",
        "debit_date": "2026-11-05",
        "total_cents": 2999,
        "debited_cents": 2999,
        "status": "paid",
    }
    base.update(over)
    return base


def test_terms_current_is_ok_changed_warns_unknown_skips() -> None:
    assert d.check_terms(data(), TODAY).status == "ok"
    changed = d.check_terms(
        data(me={"customer": customer(terms_version_accepted="2025-03")}), TODAY
    )
    assert changed.status == "warn"
    assert "2025-03" in changed.finding and "2026-09" in changed.finding
    assert changed.remedy
    assert d.check_terms(data(status=None), TODAY).status == "skip"


def test_restrictions_none_ok_some_fail_with_references() -> None:
    assert d.check_restrictions(data(), TODAY).status == "ok"
    restricted = customer(
        restrictions=[
            {
                "feature": "order_validation",
                "since": "2026-11-19",
                "reason": "instalment 2 of CT-0000003 failed",
            }
        ]
    )
    f = d.check_restrictions(data(me={"customer": restricted}), TODAY)
    assert f.status == "fail"
    assert "order_validation" in f.finding and "instalment 2" in f.finding
    assert f.refs == ("CT-0000003",)


def test_payments_paid_ok() -> None:
    f = d.check_payments(data(invoices=[invoice("INV-1")]), TODAY)
    assert f.status == "ok"


def test_payments_unpaid_before_its_debit_date_is_not_overdue() -> None:
    pending = invoice("INV-2", status="unpaid", debited_cents=None, debit_date="2026-12-07")
    assert d.check_payments(data(invoices=[pending]), TODAY).status == "ok"


def test_payments_unpaid_past_debit_date_fails() -> None:
    late = invoice("INV-9", status="unpaid", debited_cents=None, debit_date="2026-10-05")
    f = d.check_payments(data(invoices=[late]), TODAY)
    assert f.status == "fail"
    assert f.refs == ("INV-9",)
    assert "50 days" in f.finding
    assert f.remedy is not None and "invoices list --status unpaid" in f.remedy


def test_payments_failed_or_overdue_instalment_fails() -> None:
    schedule = {
        "instalments": [
            {
                "number": 1,
                "due_date": "2026-10-19",
                "debit_date": "2026-10-19",
                "amount_cents": 100,
                "status": "paid",
            },
            {
                "number": 2,
                "due_date": "2026-11-19",
                "debit_date": "2026-11-19",
                "amount_cents": 14990,
                "status": "failed",
            },
            {
                "number": 3,
                "due_date": "2026-11-20",
                "debit_date": "2026-11-20",
                "amount_cents": 14990,
                "status": "due",
            },
            {
                "number": 4,
                "due_date": "2026-12-19",
                "debit_date": "2026-12-21",
                "amount_cents": 14990,
                "status": "due",
            },
        ]
    }
    f = d.check_payments(data(schedules={"CT-3": schedule}), TODAY)
    assert f.status == "fail"
    assert f.refs == ("CT-3#2", "CT-3#3")
    assert "failed" in f.finding and "overdue" in f.finding
    assert f.details["unpaid_cents"] == 2 * 14990


def test_debits_matching_ok() -> None:
    assert d.check_debits(data(invoices=[invoice("INV-1")]), TODAY).status == "ok"
    assert d.check_debits(data(), TODAY).finding == "no invoice debited yet"


def test_debit_above_total_fails_and_names_the_claim_about_it() -> None:
    claims = [{"id": "CL-1", "subject": "x", "messages": [{"body": "about INV-6 please"}]}]
    f = d.check_debits(data(invoices=[invoice("INV-6", debited_cents=3499)], claims=claims), TODAY)
    assert f.status == "fail"
    assert "+€5.00" in f.finding and "CL-1" in f.finding
    assert f.refs == ("INV-6", "CL-1")
    assert f.remedy is not None and "invoices show INV-6 --explain" in f.remedy


def test_debit_below_total_warns() -> None:
    f = d.check_debits(data(invoices=[invoice("INV-7", debited_cents=2000)]), TODAY)
    assert f.status == "warn"
    assert f.details["undercharged_cents"] == 999


def partwork_contract(missing: list[int], shipments: list[dict[str, Any]]) -> dict[str, Any]:
    return contract(
        "CT-2",
        kind="partwork",
        commitment_months=0,
        commitment_end=None,
        partwork={
            "issues_total": 140,
            "issues_expected_by_today": 14,
            "issues_received": 14 - len(missing),
            "missing": missing,
        },
        shipments=shipments,
    )


def test_partwork_complete_ok_and_no_collection_ok() -> None:
    assert d.check_partwork_issues(data(), TODAY).status == "ok"
    f = d.check_partwork_issues(data(contracts=[partwork_contract([], [])]), TODAY)
    assert f.status == "ok"
    assert "14 of 14" in f.finding


def test_partwork_missing_issue_fails() -> None:
    lost = {
        "issue_from": 12,
        "issue_to": 12,
        "shipped_on": "2026-10-19",
        "expected_on": "2026-10-22",
        "received_on": None,
    }
    f = d.check_partwork_issues(data(contracts=[partwork_contract([12], [lost])]), TODAY)
    assert f.status == "fail"
    assert "issue 12 missing" in f.finding
    assert f.refs == ("CT-2",)
    assert f.remedy is not None and "claim new --category delivery --contract CT-2" in f.remedy


def test_partwork_issue_still_in_transit_warns() -> None:
    transit = {
        "issue_from": 14,
        "issue_to": 14,
        "shipped_on": "2026-11-18",
        "expected_on": "2026-11-21",
        "received_on": None,
    }
    f = d.check_partwork_issues(data(contracts=[partwork_contract([14], [transit])]), TODAY)
    assert f.status == "warn"
    assert "in transit" in f.finding


def test_options_validated_ok_pending_warns() -> None:
    done = contract(
        options=[
            {"name": "Vitrine", "price_cents": 8990, "added_on": "2026-11-04", "validated": True}
        ]
    )
    assert d.check_options(data(contracts=[done]), TODAY).status == "ok"
    pending = contract(
        options=[
            {"name": "Vitrine", "price_cents": 8990, "added_on": "2026-11-04", "validated": False}
        ]
    )
    f = d.check_options(data(contracts=[pending]), TODAY)
    assert f.status == "warn"
    assert "Vitrine" in f.finding and "20 days ago" in f.finding


def test_deliveries_delay_warns_until_received() -> None:
    delayed = {
        "issue_from": 15,
        "issue_to": 15,
        "expected_on": "2026-12-03",
        "delayed_until": "2026-12-17",
        "received_on": None,
    }
    f = d.check_deliveries(data(contracts=[contract(shipments=[delayed])]), TODAY)
    assert f.status == "warn"
    assert "issue 15 delayed until 2026-12-17" in f.finding
    arrived = dict(delayed, received_on="2026-12-16")
    assert d.check_deliveries(data(contracts=[contract(shipments=[arrived])]), TODAY).status == "ok"


def test_commitment_is_information_with_the_figure() -> None:
    quote = {"total_cents": 16896, "chatel_fee_cents": 11996, "provider_fee_cents": 4900}
    f = d.check_commitment(data(contracts=[contract()], quotes={"CT-1": quote}), TODAY)
    assert f.status == "ok"
    assert "committed until 2028-01-16" in f.finding and "€168.96" in f.finding
    assert f.details["CT-1"]["total_cents"] == 16896
    ended = contract(commitment_end="2026-05-28")
    f = d.check_commitment(data(contracts=[ended], quote_errors={"CT-1": "refused"}), TODAY)
    assert f.status == "ok"
    assert "no commitment since 2026-05-29" in f.finding and "no quote (refused)" in f.finding
    assert d.check_commitment(data(), TODAY).finding == "no contract with a commitment"


def outage(start: str, end: str | None, hours: float) -> dict[str, Any]:
    return {"start": start, "end": end, "hours": hours}


def test_outages_short_or_old_ok() -> None:
    short = outage("2026-10-01T07:00:00Z", "2026-10-01T09:00:00Z", 2.0)
    old = outage("2025-06-01T07:00:00Z", "2025-06-04T07:00:00Z", 72.0)
    assert d.check_outages(data(contracts=[contract(outages=[short, old])]), TODAY).status == "ok"


def test_outage_over_48_hours_warns_with_the_gesture() -> None:
    long = outage("2026-10-29T07:40:00Z", "2026-10-31T12:55:00Z", 53.25)
    f = d.check_outages(data(contracts=[contract(outages=[long])]), TODAY)
    assert f.status == "warn"
    assert "53.2 h" in f.finding
    assert f.remedy is not None and "commercial gesture" in f.remedy


def test_outage_exactly_48_hours_is_not_over() -> None:
    edge = outage("2026-10-01T00:00:00Z", "2026-10-03T00:00:00Z", 48.0)
    assert d.check_outages(data(contracts=[contract(outages=[edge])]), TODAY).status == "ok"


def test_ongoing_outage_fails() -> None:
    now = outage("2026-11-24T06:00:00Z", None, 4.0)
    assert d.check_outages(data(contracts=[contract(outages=[now])]), TODAY).status == "fail"


def box(**over: Any) -> dict[str, Any]:
    base = {
        "kind": "box",
        "serial": "BX-1",
        "value_cents": 9900,
        "exchanged": False,
        "return_reference": "RM-20261114-ABCD",
        "return_deadline": "2026-12-14",
        "returned_on": None,
    }
    base.update(over)
    return base


def test_equipment_on_active_contract_or_returned_ok() -> None:
    assert d.check_equipment(data(contracts=[contract(equipment=[box()])]), TODAY).status == "ok"
    ended = contract(
        status="terminated", terminated_on="2026-11-14", equipment=[box(returned_on="2026-11-20")]
    )
    assert d.check_equipment(data(contracts=[ended]), TODAY).status == "ok"


def test_equipment_to_return_warns_then_fails_after_the_deadline() -> None:
    ended = contract(status="terminated", terminated_on="2026-11-14", equipment=[box()])
    f = d.check_equipment(data(contracts=[ended]), TODAY)
    assert f.status == "warn"
    assert "by 2026-12-14" in f.finding and "RM-20261114-ABCD" in f.finding
    assert f.refs == ("CT-1", "RM-20261114-ABCD")
    late = d.check_equipment(data(contracts=[ended]), dt.date(2026, 12, 15))
    assert late.status == "fail"


def test_equipment_deadline_computed_when_missing_40_days_after_an_exchange() -> None:
    ended = contract(
        status="terminated",
        terminated_on="2026-11-14",
        equipment=[box(return_deadline=None, return_reference=None, exchanged=True)],
    )
    f = d.check_equipment(data(contracts=[ended]), TODAY)
    assert "by 2026-12-24" in f.finding


def claim(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "CL-1",
        "category": "billing",
        "status": "open",
        "created_on": "2026-08-21",
        "last_answer_on": None,
        "messages": [],
    }
    base.update(over)
    return base


def test_claims_recent_or_answered_ok() -> None:
    assert d.check_claims(data(claims=[claim(created_on="2026-10-01")]), TODAY).status == "ok"
    answered = claim(status="answered", last_answer_on="2026-09-01")
    assert d.check_claims(data(claims=[answered]), TODAY).status == "ok"


def test_claim_unanswered_two_months_warns_with_the_mediator_deadline() -> None:
    f = d.check_claims(data(claims=[claim()]), TODAY)
    assert f.status == "warn"
    # mediator_until is exclusive (claim + 1 year): the last day is the day before
    assert "until 2027-08-20" in f.finding and "95 days" in f.finding
    assert f.refs == ("CL-1",)
    assert f.remedy is not None and "claim escalate CL-1" in f.remedy


def test_claim_past_the_one_year_limit_says_so() -> None:
    f = d.check_claims(data(claims=[claim(created_on="2025-08-21")]), TODAY)
    assert f.status == "warn"
    assert "passed on 2026-08-21" in f.finding


def test_every_account_check_has_an_evaluator() -> None:
    account_ids = {c.id for c in d.CHECKS if c.needs == "account"}
    assert account_ids == set(d.ACCOUNT_EVALUATORS)
    assert len(d.CHECK_IDS) == len(set(d.CHECK_IDS))


# --- evaluation of measurements -------------------------------------------------------------


def test_latency_evaluation() -> None:
    assert d.evaluate_latency([10, 12, 11, 13, 12]).status == "ok"
    some_lost = d.evaluate_latency([10, None, 11, 12, 12])
    assert some_lost.status == "warn" and "1 lost" in some_lost.finding
    all_lost = d.evaluate_latency([None] * 5, ["connection refused"])
    assert all_lost.status == "fail" and "connection refused" in all_lost.finding
    assert d.evaluate_latency([1500, 1600, 1550]).status == "warn"
    assert d.evaluate_latency([6000, 6100, 6050]).status == "fail"
    one_spike = d.evaluate_latency([10, 12, 900, 11, 10])
    assert one_spike.status == "ok" and one_spike.details["spread_ms"] == 890
    unstable = d.evaluate_latency([10, 700, 900, 11, 10])
    assert unstable.status == "warn" and "unstable" in unstable.finding
    assert unstable.details["median_ms"] == 11
    out_of_time = d.evaluate_latency([900, 950], planned=5)
    assert out_of_time.status == "warn" and "3 not sent" in out_of_time.finding
    assert d.evaluate_latency([3500], planned=5).status == "fail"


@pytest.mark.parametrize(
    ("skew", "status"),
    [(0.4, "ok"), (-59, "ok"), (61, "warn"), (-200, "warn"), (301, "fail"), (-3600, "fail")],
)
def test_clock_thresholds(skew: float, status: str) -> None:
    assert d.evaluate_clock(skew).status == status


def test_clock_direction() -> None:
    assert "behind" in d.evaluate_clock(120).finding
    assert "ahead of" in d.evaluate_clock(-120).finding


def test_tls_evaluation() -> None:
    assert d.evaluate_tls("TLSv1.3", NOW + dt.timedelta(days=90), NOW).status == "ok"
    soon = d.evaluate_tls("TLSv1.3", NOW + dt.timedelta(days=5), NOW)
    assert soon.status == "warn" and soon.details["days_left"] == 5
    assert d.evaluate_tls("TLSv1.3", NOW - dt.timedelta(days=1), NOW).status == "fail"


def window(start: dt.datetime, hours: int = 3) -> dict[str, Any]:
    return {
        "start": start.isoformat().replace("+00:00", "Z"),
        "end": (start + dt.timedelta(hours=hours)).isoformat().replace("+00:00", "Z"),
        "description": "platform upgrade",
    }


def test_maintenance_evaluation() -> None:
    assert d.evaluate_maintenance({"status": "ok", "maintenance": []}, NOW).status == "ok"
    later = d.evaluate_maintenance({"maintenance": [window(NOW + dt.timedelta(days=20))]}, NOW)
    assert later.status == "ok" and "next on" in later.finding
    soon = d.evaluate_maintenance({"maintenance": [window(NOW + dt.timedelta(days=3))]}, NOW)
    assert (
        soon.status == "warn" and "in 3 days" in soon.finding and "platform upgrade" in soon.finding
    )
    now = d.evaluate_maintenance({"maintenance": [window(NOW - dt.timedelta(hours=1))]}, NOW)
    assert now.status == "fail" and "in progress" in now.finding
    flagged = d.evaluate_maintenance({"status": "maintenance", "maintenance": []}, NOW)
    assert flagged.status == "fail"


def test_cache_evaluation() -> None:
    assert d.evaluate_cache("/c", 3, 1024).status == "ok"
    big = d.evaluate_cache("/c", 3, d.CACHE_WARN_BYTES + 1)
    assert big.status == "warn" and big.remedy == "moncompte diagnose --clear-cache"


def test_summary_and_exit_code() -> None:
    findings = [
        Finding("a", "ok", ""),
        Finding("b", "ok", ""),
        Finding("c", "warn", ""),
        Finding("d", "fail", ""),
        Finding("e", "skip", ""),
    ]
    assert d.summary_line(findings) == "2 ok, 1 warning, 1 failure, 1 skipped"
    assert d.summary_line(findings[:2]) == "2 ok, 0 warnings, 0 failures"
    assert d.exit_code(findings) == 8
    assert d.exit_code(findings[:3]) == 0
    assert d.exit_code(findings[:3], "warn") == 8
    assert d.exit_code([Finding("e", "skip", "")], "warn") == 0


def test_report_copies_only_listed_fields() -> None:
    leaky = customer(password="hunter2-secret", access_token="tok-should-not-leak")
    account = data(
        me={"customer": leaky, "access_token": "tok-should-not-leak"},
        contracts=[contract(iban="FR7630006000011234567890189")],
        payment_method={
            "iban": "FR7630006000011234567890189",
            "iban_masked": "FR76 **** 0189",
            "mandate_reference": "RUM-1",
        },
    )
    findings = [
        Finding("account.payments", "fail", "unpaid", refs=("INV-9", "CT-1#2")),
        Finding("x", "ok", ""),
    ]
    report = d.build_report(
        findings,
        account,
        service={
            "support": {"phone": "09", "email": "e@x", "form_url": "u", "postal_address": "p"}
        },
        generated_at=NOW,
        tool={"name": "moncompte", "version": "1"},
        system={"platform": "Linux", "python": "3.12"},
        api_url="https://api.example",
        summary={"text": "1 ok"},
    )
    text = json.dumps(report) + d.report_markdown(report)
    assert "10000042" in text and "RUM-1" in text and "FR76 **** 0189" in text
    for secret in ("hunter2-secret", "tok-should-not-leak", "FR7630006000011234567890189"):
        assert secret not in text
    assert report["references"]["invoices"] == ["INV-9"]
    assert report["references"]["contracts"] == ["CT-1#2"]
    assert [p["id"] for p in report["problems"]] == ["account.payments"]
    assert "## Support channels" in d.report_markdown(report)


# --- proxy ------------------------------------------------------------------------------------

PROXY_CASES: list[tuple[str, dict[str, str]]] = [
    ("http://127.0.0.1:8000", {"HTTP_PROXY": "http://p:3128"}),
    ("http://127.0.0.1:8000", {"HTTPS_PROXY": "http://p:3128"}),
    ("http://127.0.0.1:8000", {"HTTP_PROXY": "http://p:3128", "NO_PROXY": "127.0.0.1"}),
    ("http://127.0.0.1:8000", {"HTTP_PROXY": "http://p:3128", "NO_PROXY": "127.0.0.0/8"}),
    ("http://127.0.0.1:8000", {"HTTP_PROXY": "http://p:3128", "NO_PROXY": "localhost"}),
    ("https://api.example.com", {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "example.com"}),
    ("https://api.example.com", {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": ".example.com"}),
    ("https://example.com", {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": ".example.com"}),
    ("https://wwwexample.com", {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "example.com"}),
    ("https://example.com:8443", {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "example.com:8443"}),
    ("https://example.com", {"ALL_PROXY": "http://p:3128", "https_proxy": "http://q:1"}),
    ("https://example.com", {"HTTPS_PROXY": "p:3128"}),
    ("https://example.com", {"HTTPS_PROXY": "http://p:3128", "https_proxy": ""}),
    ("https://example.com", {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "a.org, *"}),
]
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def _httpx_proxy(url: str) -> str | None:
    """What httpx itself does (private API: the test is skipped if it moves)."""
    import httpx

    client = httpx.Client(trust_env=True)
    transport = client._transport_for_url(httpx.URL(url))
    pool = getattr(transport, "_pool", None)
    proxy_url = getattr(pool, "_proxy_url", None)
    if proxy_url is None:
        return None
    return f"{proxy_url.scheme.decode()}://{proxy_url.host.decode()}:{proxy_url.port}"


@pytest.mark.parametrize(("url", "environ"), PROXY_CASES)
def test_proxy_decision_matches_httpx(
    url: str, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    if not hasattr(httpx.Client, "_transport_for_url"):
        pytest.skip("httpx internals changed; the parity check cannot run")
    for name in list(os.environ):
        if name.lower() in _PROXY_VARS:
            monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    ours = probes.proxy_for(url, environ).proxy
    assert ours == _httpx_proxy(url)


def test_proxy_check_statuses() -> None:
    assert probes.check_proxy("https://api.example.com", {}).status == "ok"
    loop = probes.check_proxy("http://127.0.0.1:8000", {"HTTP_PROXY": "http://u:pw@p:3128"})
    assert loop.status == "warn"
    assert "NO_PROXY" in (loop.remedy or "")
    assert "pw" not in loop.finding and "u:***@p:3128" in loop.finding
    bypass = probes.check_proxy(
        "http://127.0.0.1:8000", {"HTTP_PROXY": "http://p:3128", "NO_PROXY": "127.0.0.1"}
    )
    assert bypass.status == "ok" and "NO_PROXY" in bypass.finding
    remote = probes.check_proxy("https://api.example.com", {"HTTPS_PROXY": "http://p:3128"})
    assert remote.status == "ok" and "through the proxy" in remote.finding
    bad = probes.check_proxy("https://api.example.com", {"HTTPS_PROXY": "ftp://p:21"})
    assert bad.status == "warn" and "unsupported" in bad.finding


def test_redact_url() -> None:
    assert probes.redact_url("http://user:secret@proxy:3128") == "http://user:***@proxy:3128"
    assert probes.redact_url("http://proxy:3128") == "http://proxy:3128"


# --- DNS, TCP, TLS against local servers -----------------------------------------------------

DIRECT = probes.ProxyChoice()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dns_ip_literal_and_localhost_ok() -> None:
    assert probes.probe_dns(probes.Target.parse("http://127.0.0.1:1"), DIRECT).status == "ok"
    found = probes.probe_dns(probes.Target.parse("http://localhost:1"), DIRECT)
    assert found.status == "ok" and "resolves to" in found.finding


def test_dns_unknown_host_fails_or_warns_behind_a_proxy() -> None:
    target = probes.Target.parse("https://nonexistent.invalid")  # RFC 6761: never resolves
    f = probes.probe_dns(target, DIRECT)
    assert f.status == "fail" and "cannot resolve nonexistent.invalid" in f.finding
    proxied = probes.probe_dns(target, probes.ProxyChoice(proxy="http://p:3128"))
    assert proxied.status == "warn"


@pytest.fixture()
def tcp_server() -> Iterator[int]:
    """A listener that accepts and closes: TCP works, nothing else does."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            time.sleep(0.05)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(1)
    server.close()


def test_tcp_open_ok_closed_fails(tcp_server: int) -> None:
    ok = probes.probe_tcp(probes.Target.parse(f"http://127.0.0.1:{tcp_server}"), DIRECT, 2)
    assert ok.status == "ok"
    closed = probes.probe_tcp(probes.Target.parse(f"http://127.0.0.1:{free_port()}"), DIRECT, 2)
    assert closed.status == "fail" and "refused" in closed.finding.lower()


def test_tls_skipped_for_http_on_loopback() -> None:
    f = probes.probe_tls(probes.Target.parse("http://127.0.0.1:1"), DIRECT, 1, {}, NOW)
    assert f.status == "skip" and "loopback" in f.finding


def test_tls_against_a_server_that_does_not_speak_tls_fails(tcp_server: int) -> None:
    f = probes.probe_tls(probes.Target.parse(f"https://127.0.0.1:{tcp_server}"), DIRECT, 2, {}, NOW)
    assert f.status == "fail" and "TLS handshake" in f.finding


def _self_signed(tmp_path: Path, days: int) -> tuple[Path, Path]:
    x509 = pytest.importorskip("cryptography.x509", reason="cryptography is not installed")
    import ipaddress

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "moncompte test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days, hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _tls_server(cert: Path, key: Path) -> tuple[int, threading.Event]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.settimeout(1)
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return int(server.getsockname()[1]), stop


@pytest.mark.parametrize(("days", "status"), [(200, "ok"), (5, "warn")])
def test_tls_trusted_certificate_and_days_to_expiry(tmp_path: Path, days: int, status: str) -> None:
    cert, key = _self_signed(tmp_path, days)
    port, stop = _tls_server(cert, key)
    try:
        target = probes.Target.parse(f"https://127.0.0.1:{port}")
        f = probes.probe_tls(
            target, DIRECT, 3, {"SSL_CERT_FILE": str(cert)}, dt.datetime.now(dt.UTC)
        )
    finally:
        stop.set()
    assert f.status == status, f
    assert f.details["days_left"] == days
    assert "TLSv1" in f.finding


def test_tls_untrusted_certificate_fails(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path, 200)
    port, stop = _tls_server(cert, key)
    try:
        f = probes.probe_tls(probes.Target.parse(f"https://127.0.0.1:{port}"), DIRECT, 3, {}, NOW)
    finally:
        stop.set()
    assert f.status == "fail" and "not trusted" in f.finding


def _connect_proxy(seen: list[bytes]) -> tuple[int, threading.Event]:
    """A minimal HTTP CONNECT proxy: answers 200, then pipes bytes both ways."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    stop = threading.Event()

    def pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def handle(conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
        seen.append(head)
        host, port = head.split(b" ")[1].decode().rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)), timeout=3)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        threading.Thread(target=pipe, args=(conn, upstream), daemon=True).start()
        pipe(upstream, conn)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return int(server.getsockname()[1]), stop


def test_tls_through_a_connect_proxy(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path, 200)
    port, stop_tls = _tls_server(cert, key)
    seen: list[bytes] = []
    proxy_port, stop_proxy = _connect_proxy(seen)
    choice = probes.ProxyChoice(proxy=f"http://user:pw@127.0.0.1:{proxy_port}", variable="X")
    target = probes.Target.parse(f"https://127.0.0.1:{port}")
    try:
        tcp = probes.probe_tcp(target, choice, 3)
        tls = probes.probe_tls(
            target, choice, 3, {"SSL_CERT_FILE": str(cert)}, dt.datetime.now(dt.UTC)
        )
    finally:
        stop_tls.set()
        stop_proxy.set()
    assert tcp.status == "ok" and "proxy http://user:***@127.0.0.1" in tcp.finding
    assert tls.status == "ok", tls
    assert seen and seen[-1].startswith(f"CONNECT 127.0.0.1:{port} ".encode())
    assert b"Proxy-Authorization: Basic dXNlcjpwdw==" in seen[-1]


# --- HTTP: clock skew and latency ---------------------------------------------------------------


class _StatusHandler(http.server.BaseHTTPRequestHandler):
    skew = 0.0
    protocol_version = "HTTP/1.1"

    def date_time_string(self, timestamp: float | None = None) -> str:
        return email.utils.formatdate(time.time() + self.skew, usegmt=True)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = json.dumps({"status": "ok", "terms_version": "x", "maintenance": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def status_server() -> Iterator[tuple[str, type[_StatusHandler]]]:
    handler = type("Handler", (_StatusHandler,), {"skew": 0.0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("skew", "status"), [(0, "ok"), (-120, "warn"), (600, "fail")])
def test_clock_skew_against_the_date_header(
    status_server: tuple[str, type[_StatusHandler]], skew: float, status: str
) -> None:
    url, handler = status_server
    handler.skew = skew
    probe = probes.fetch_status(probes.Target.parse(url), 2)
    assert probe.body is not None
    f = probes.clock_finding(probe)
    assert f.status == status, f
    assert abs(f.details["skew_s"] - skew) < 2


def test_clock_without_a_server_fails() -> None:
    probe = probes.fetch_status(probes.Target.parse(f"http://127.0.0.1:{free_port()}"), 1)
    assert probes.clock_finding(probe).status == "fail"


def test_latency_against_a_local_server(status_server: tuple[str, type[_StatusHandler]]) -> None:
    f = probes.probe_latency(probes.Target.parse(status_server[0]), 3)
    assert f.status == "ok", f
    assert f.details["requests"] == 5 and f.details["lost"] == 0


def test_latency_of_a_server_that_closes_without_answering_fails(
    tcp_server: int,
) -> None:
    started = time.monotonic()
    f = probes.probe_latency(probes.Target.parse(f"http://127.0.0.1:{tcp_server}"), 1)
    assert time.monotonic() - started < 1.2
    assert f.status == "fail" and f.finding.startswith("no answer")


def test_latency_without_a_server_fails_quickly() -> None:
    started = time.monotonic()
    f = probes.probe_latency(probes.Target.parse(f"http://127.0.0.1:{free_port()}"), 3)
    assert f.status == "fail" and "no answer to 5 requests" in f.finding
    assert time.monotonic() - started < 3


# --- local: cache, config, credentials --------------------------------------------------------


def test_cache_follows_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    path = probes.cache_dir()
    assert path == tmp_path / "xdg" / "moncompte"
    assert probes.inspect_cache(path).finding.startswith("no cache")
    (path / "sub").mkdir(parents=True)
    (path / "sub" / "a.json").write_text("x" * 100)
    f = probes.inspect_cache(path)
    assert f.status == "ok" and f.details == {"path": str(path), "files": 1, "bytes": 100}
    with open(path / "big.bin", "wb") as fh:  # sparse: no disk is really used
        fh.truncate(d.CACHE_WARN_BYTES + 1)
    assert probes.inspect_cache(path).status == "warn"
    assert probes.clear_cache(path) == (2, d.CACHE_WARN_BYTES + 101)
    assert list(path.iterdir()) == []
    assert probes.inspect_cache(path).status == "ok"


def test_clear_cache_refuses_a_directory_that_is_not_ours(tmp_path: Path) -> None:
    other = tmp_path / "home"
    other.mkdir()
    (other / "precious.txt").write_text("keep")
    with pytest.raises(OSError):
        probes.clear_cache(other)
    assert (other / "precious.txt").exists()


def test_config_checks(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert probes.check_config(path, "default", False)[0].status == "ok"
    path.write_text('[profiles.default]\napi_url = "https://api.example"\ntimeout = 30\n')
    f, config = probes.check_config(path, "default", False)
    assert f.status == "ok" and config is not None
    path.write_text('[profiles.default]\ncolour = "blue"\n')
    assert probes.check_config(path, "default", False)[0].status == "warn"
    assert probes.check_config(path, "work", True)[0].status == "warn"
    path.write_text("[profiles.default]\ntimeout = -3\n")
    assert probes.check_config(path, "default", False)[0].status == "fail"
    path.write_text("[profiles.default\nnot toml")
    f, config = probes.check_config(path, "default", False)
    assert f.status == "fail" and config is None and "not valid TOML" in f.finding


def _env(tmp_path: Path, **environ: str) -> Env:
    import io

    base = {"MONCOMPTE_CONFIG_DIR": str(tmp_path), "MONCOMPTE_API_URL": "https://api.example"}
    base.update(environ)
    return Env(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), environ=base)


def _file_login(tmp_path: Path, tokens: Tokens) -> Env:
    (tmp_path / "config.toml").write_text('[profiles.default]\ncredential_store = "file"\n')
    FileStore(tmp_path).set("default", tokens)
    return _env(tmp_path)


def test_credentials_file_store_valid_expired_and_renewable(tmp_path: Path) -> None:
    future = (NOW + dt.timedelta(days=3)).isoformat()
    past = (NOW - dt.timedelta(hours=1)).isoformat()
    env = _file_login(tmp_path, Tokens("tok-aaaaaaaa", None, future, "https://api.example"))
    f = probes.check_credentials(env, "https://api.example", NOW)
    assert f.status == "ok" and "valid until" in f.finding and "file" in f.finding
    env = _file_login(tmp_path, Tokens("tok-aaaaaaaa", None, past, "https://api.example"))
    f = probes.check_credentials(env, "https://api.example", NOW)
    assert f.status == "fail" and "expired" in f.finding and f.remedy == "moncompte login"
    env = _file_login(tmp_path, Tokens("tok-aaaaaaaa", "ref-bbbbbbbb", past, "https://api.example"))
    f = probes.check_credentials(env, "https://api.example", NOW)
    assert f.status == "ok" and "renewed" in f.finding
    soon = (NOW + dt.timedelta(hours=2)).isoformat()
    env = _file_login(tmp_path, Tokens("tok-aaaaaaaa", None, soon, "https://api.example"))
    assert probes.check_credentials(env, "https://api.example", NOW).status == "warn"


def test_credentials_for_another_server_or_readable_file(tmp_path: Path) -> None:
    env = _file_login(tmp_path, Tokens("tok-aaaaaaaa", None, None, "https://other.example"))
    f = probes.check_credentials(env, "https://api.example", NOW)
    assert f.status == "fail" and "other.example" in f.finding
    env = _file_login(tmp_path, Tokens("tok-aaaaaaaa", None, None, "https://api.example"))
    (tmp_path / "credentials-default.json").chmod(0o644)
    f = probes.check_credentials(env, "https://api.example", NOW)
    assert f.status == "warn" and "chmod 600" in (f.remedy or "")


def test_credentials_missing_or_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[profiles.default]\ncredential_store = "file"\n')
    f = probes.check_credentials(_env(tmp_path), "https://api.example", NOW)
    assert f.status == "fail" and "not logged in" in f.finding
    f = probes.check_credentials(
        _env(tmp_path, MONCOMPTE_TOKEN="tok-cccccccc"), "https://api.example", NOW
    )
    assert f.status == "ok" and "MONCOMPTE_TOKEN" in f.finding


def test_credentials_without_a_usable_keyring_fail_clearly(tmp_path: Path) -> None:
    f = probes.check_credentials(_env(tmp_path), "https://api.example", NOW)
    assert f.status == "fail" and "keyring" in f.finding


# --- the runner -------------------------------------------------------------------------------


def test_runner_times_out_a_stuck_check_without_stalling_the_others() -> None:
    from commands.diagnose.runner import run_checks

    def stuck() -> Finding:
        time.sleep(30)
        return Finding("b", "ok", "never")

    def broken() -> Finding:
        raise RuntimeError("boom")

    started = time.monotonic()
    results = run_checks(
        {"a": lambda: Finding("a", "ok", "fine"), "b": stuck, "c": broken},
        0.5,
        lambda: NOW,
    )
    assert time.monotonic() - started < 2
    assert results["a"].status == "ok" and results["a"].checked_at == NOW.isoformat()
    assert results["b"].status == "fail" and results["b"].finding == "timed out after 0.5 s"
    assert results["c"].status == "fail" and "RuntimeError: boom" in results["c"].finding
