"""`moncompte contracts [list] | show ID` in-process against the real sandbox server."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.seed import DEMO_REFS

FR = {"LANG": "fr_FR.UTF-8"}


def api_get(sandbox: Any, path: str, token: str | None = None) -> Any:
    """The API's own answer, to compare the CLI's output with."""
    response = httpx.get(
        sandbox.url + path,
        headers={"Authorization": f"Bearer {token or sandbox.customer_token}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


LIST_KEYS = [
    "id",
    "kind",
    "offer",
    "monthly_price_cents",
    "commitment_start",
    "commitment_end",
    "status",
]


def test_list_json_is_the_api_list(run_cli: Any, sandbox: Any) -> None:
    result = run_cli("contracts", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    expected = [{k: c[k] for k in LIST_KEYS} for c in api_get(sandbox, "/v1/contracts")["items"]]
    assert result.json == expected
    assert {c["id"] for c in result.json} >= {
        DEMO_REFS["internet_contract"],
        DEMO_REFS["partwork_contract"],
        DEMO_REFS["instalment_contract"],
        DEMO_REFS["terminated_contract"],
    }


def test_contracts_alone_lists(run_cli: Any) -> None:
    alone = run_cli("contracts")
    listed = run_cli("contracts", "list")
    assert alone.exit_code == listed.exit_code == 0, alone.stderr
    assert alone.stdout == listed.stdout


def test_list_table(run_cli: Any, sandbox: Any) -> None:
    result = run_cli("contracts")
    assert result.exit_code == 0, result.stderr
    header = result.lines[0]
    for word in ("contract", "kind", "offer", "monthly price", "commitment start", "status"):
        assert word in header
    internet = next(line for line in result.lines if DEMO_REFS["internet_contract"] in line)
    contract = api_get(sandbox, f"/v1/contracts/{DEMO_REFS['internet_contract']}")
    assert "€29.99" in internet and contract["monthly_price_cents"] == 2999
    assert contract["commitment_start"] in internet and contract["commitment_end"] in internet
    terminated = next(line for line in result.lines if DEMO_REFS["terminated_contract"] in line)
    assert "terminated" in terminated
    assert result.stderr == ""  # nothing but data, and no sandbox notice with an API URL


def test_list_csv_has_raw_values(run_cli: Any) -> None:
    result = run_cli("contracts", "-o", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.lines[0] == ",".join(LIST_KEYS)
    internet = next(line for line in result.lines if line.startswith("CT-0000001,"))
    assert ",2999," in internet


def test_show_json_is_the_api_contract(run_cli: Any, sandbox: Any) -> None:
    for contract_id in (DEMO_REFS["internet_contract"], DEMO_REFS["partwork_contract"]):
        result = run_cli("contracts", "show", contract_id, "-o", "json")
        assert result.exit_code == 0, result.stderr
        assert result.json == api_get(sandbox, f"/v1/contracts/{contract_id}")


def test_show_partwork_details(run_cli: Any, sandbox: Any) -> None:
    contract_id = DEMO_REFS["partwork_contract"]
    result = run_cli("contracts", "show", contract_id)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    contract = api_get(sandbox, f"/v1/contracts/{contract_id}")
    assert contract["offer"] in out
    # options: the unvalidated one is said so
    option = next(line for line in result.lines if DEMO_REFS["unvalidated_option"] in line)
    assert "awaiting validation" in option and "€89.90" in option
    # shipments: grouped parcel, the missing issue, the delayed one
    first, last = DEMO_REFS["grouped_issues"]
    grouped = next(line for line in result.lines if line.startswith(f"{first}–{last} "))
    assert "yes" in grouped and "received" in grouped
    missing = next(
        line for line in result.lines if line.startswith(f"{DEMO_REFS['missing_issue']} ")
    )
    assert "not received (expected" in missing
    delayed = next(
        line for line in result.lines if line.startswith(f"{DEMO_REFS['delayed_issue']} ")
    )
    assert "delayed until" in delayed
    shipment = next(
        s for s in contract["shipments"] if s["issue_from"] == DEMO_REFS["delayed_issue"]
    )
    assert shipment["delayed_until"] in delayed
    # progress: received vs expected, and the missing issue
    progress = contract["partwork"]
    assert "Partwork progress" in out
    assert _field(result, "expected by today") == str(progress["issues_expected_by_today"])
    assert _field(result, "received") == str(progress["issues_received"])
    assert _field(result, "issues in the collection") == str(progress["issues_total"])
    assert _field(result, "missing issues") == ", ".join(map(str, progress["missing"]))
    assert progress["missing"] == [DEMO_REFS["missing_issue"]]


def _field(result: Any, name: str) -> str:
    """The value of a `name: value` line of a plain key/value view."""
    for line in result.lines:
        key, sep, value = line.partition(":")
        if sep and key.strip() == name:
            return value.strip()
    raise AssertionError(f"no field {name!r} in:\n{result.stdout}")


def test_show_internet_equipment_and_outages(run_cli: Any, sandbox: Any) -> None:
    contract_id = DEMO_REFS["internet_contract"]
    result = run_cli("contracts", "show", contract_id)
    assert result.exit_code == 0, result.stderr
    contract = api_get(sandbox, f"/v1/contracts/{contract_id}")
    for item in contract["equipment"]:
        assert item["serial"] in result.stdout
    assert "Equipment" in result.stdout and "Outages" in result.stdout
    assert str(max(o["hours"] for o in contract["outages"])) in result.stdout
    assert _field(result, "commitment (months)") == str(contract["commitment_months"])
    assert _field(result, "commitment end") == contract["commitment_end"]
    assert "Shipments" not in result.stdout  # no empty sections


def test_show_terminated_contract_return_reference(run_cli: Any, sandbox: Any) -> None:
    contract_id = DEMO_REFS["terminated_contract"]
    result = run_cli("contracts", "show", contract_id)
    assert result.exit_code == 0, result.stderr
    contract = api_get(sandbox, f"/v1/contracts/{contract_id}")
    reference = contract["equipment"][0]["return_reference"]
    assert reference.startswith("RM-") and reference in result.stdout
    assert _field(result, "terminated on") == contract["terminated_on"]


def test_show_unknown_contract_is_exit_4(run_cli: Any) -> None:
    result = run_cli("contracts", "show", "CT-9999999")
    assert result.exit_code == 4
    assert "not found" in result.stderr and result.stdout == ""


def test_show_another_customers_contract_is_not_found(run_cli: Any) -> None:
    result = run_cli("contracts", "show", DEMO_REFS["clean_internet_contract"])
    assert result.exit_code == 4


def test_french_locale_changes_tables_not_json(run_cli: Any) -> None:
    en = run_cli("contracts")
    fr = run_cli("contracts", env_vars=FR)
    assert en.exit_code == fr.exit_code == 0, fr.stderr
    assert "29,99 €" in fr.stdout and "17/01/2026" in fr.stdout
    assert "€29.99" in en.stdout and "2026-01-17" in en.stdout
    for args in (("contracts", "-o", "json"), ("contracts", "show", "CT-0000002", "-o", "json")):
        assert run_cli(*args, env_vars=FR).stdout_bytes == run_cli(*args).stdout_bytes


def french(msgid: str) -> str:
    """`msgid` in the French catalogue; skips the test while the catalogue lacks it."""
    import gettext

    from cli import i18n

    catalogue = gettext.translation(
        i18n.DOMAIN, localedir=i18n.LOCALE_DIR, languages=["fr"], fallback=True
    )
    text = catalogue.gettext(msgid)
    if text == msgid:
        pytest.skip(f"the French catalogue has no translation for {msgid!r} yet")
    return text


def test_french_headers(run_cli: Any) -> None:
    fr = run_cli("contracts", env_vars=FR)
    assert fr.exit_code == 0, fr.stderr
    assert french("monthly price") in fr.lines[0]
    assert "monthly price" not in fr.stdout
    assert french("terminated") in fr.stdout  # a status in words
    show = run_cli("contracts", "show", DEMO_REFS["partwork_contract"], env_vars=FR)
    assert french("Partwork progress") in show.stdout
    assert french("awaiting validation") in show.stdout


def test_french_equipment_kinds_and_decimal_hours(run_cli: Any, sandbox: Any) -> None:
    contract_id = DEMO_REFS["internet_contract"]
    contract = api_get(sandbox, f"/v1/contracts/{contract_id}")
    fr = run_cli("contracts", "show", contract_id, env_vars=FR)
    assert fr.exit_code == 0, fr.stderr
    kinds = {item["kind"] for item in contract["equipment"]}
    assert "antenna" in kinds
    assert french("antenna") in fr.stdout and "antenna" not in fr.stdout
    longest = max(o["hours"] for o in contract["outages"])
    assert isinstance(longest, float)
    assert str(longest).replace(".", ",") in fr.stdout and str(longest) not in fr.stdout
    json_out = run_cli("contracts", "show", contract_id, "-o", "json", env_vars=FR)
    assert {item["kind"] for item in json_out.json["equipment"]} == kinds  # machine values
