"""`moncompte schedule [CONTRACT]` against the real sandbox server."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from domain.money import format_money
from server.seed import DEMO_REFS

FR = {"LANG": "fr_FR.UTF-8"}
PLAN = DEMO_REFS["instalment_contract"]
PARTWORK = DEMO_REFS["partwork_contract"]


def api_get(sandbox: Any, path: str, token: str | None = None) -> Any:
    response = httpx.get(
        sandbox.url + path,
        headers={"Authorization": f"Bearer {token or sandbox.customer_token}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def test_json_is_the_api_schedule(run_cli: Any, sandbox: Any) -> None:
    result = run_cli("schedule", PLAN, "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json == api_get(sandbox, f"/v1/contracts/{PLAN}/schedule")


def test_totals_are_the_sums_of_paid_and_remaining(run_cli: Any, sandbox: Any) -> None:
    plan = api_get(sandbox, f"/v1/contracts/{PLAN}/schedule")
    paid = sum(i["amount_cents"] for i in plan["instalments"] if i["status"] == "paid")
    remaining = sum(i["amount_cents"] for i in plan["instalments"] if i["status"] != "paid")
    assert (paid, remaining) == (plan["paid_cents"], plan["remaining_cents"])
    assert paid and remaining
    result = run_cli("schedule", PLAN)
    assert result.exit_code == 0, result.stderr
    totals = next(line for line in result.lines if line.startswith("Paid:"))
    assert (
        totals == f"Paid: {format_money(paid, 'en')} · Remaining: {format_money(remaining, 'en')}"
    )


def test_table_rows_and_next_debit(run_cli: Any, sandbox: Any) -> None:
    plan = api_get(sandbox, f"/v1/contracts/{PLAN}/schedule")
    result = run_cli("schedule", PLAN)
    assert result.exit_code == 0, result.stderr
    header = next(line for line in result.lines if "due" in line and "amount" in line)
    for word in ("no.", "due", "debit", "amount", "status"):
        assert word in header
    for inst in plan["instalments"]:
        row = next(line for line in result.lines if f" {inst['due_date']} " in line)
        assert inst["debit_date"] in row and inst["status"] in row
        assert format_money(inst["amount_cents"], "en") in row
    nxt = plan["next_debit"]
    assert nxt is not None
    marked = [line for line in result.lines if line.startswith("→") and "Next" not in line]
    assert len(marked) == 1 and f" {nxt['due_date']} " in marked[0]
    footer = next(line for line in result.lines if "Next debit" in line)
    assert f"instalment {nxt['number']}" in footer and nxt["debit_date"] in footer
    # the demo's next instalment falls on a Saturday: its real debit is the Monday after
    assert nxt["debit_date"] != nxt["due_date"] and "moved to the next business day" in footer


def test_without_contract_every_instalment_bearing_contract(run_cli: Any, sandbox: Any) -> None:
    result = run_cli("schedule", "-o", "json")
    assert result.exit_code == 0, result.stderr
    contracts = api_get(sandbox, "/v1/contracts")["items"]
    bearing = [c["id"] for c in contracts if c["kind"] in ("installments", "partwork")]
    assert [s["contract_id"] for s in result.json] == bearing
    assert {PLAN, PARTWORK} <= set(bearing)
    assert DEMO_REFS["internet_contract"] not in bearing
    for plan in result.json:
        assert plan == api_get(sandbox, f"/v1/contracts/{plan['contract_id']}/schedule")
    table = run_cli("schedule")
    assert table.exit_code == 0
    assert f"Schedule of {PLAN}" in table.stdout and f"Schedule of {PARTWORK}" in table.stdout
    assert table.stdout.count("Paid:") == len(bearing)


def test_single_plan_customer(run_cli: Any, sandbox: Any) -> None:
    env = {"MONCOMPTE_TOKEN": sandbox.clean_token}
    result = run_cli("schedule", "-o", "json", env_vars=env)
    assert result.exit_code == 0, result.stderr
    assert [s["contract_id"] for s in result.json] == [DEMO_REFS["clean_instalment_contract"]]


def test_csv_rows_flag_the_next_instalment(run_cli: Any, sandbox: Any) -> None:
    result = run_cli("schedule", "-o", "csv")
    assert result.exit_code == 0, result.stderr
    header, *rows = result.lines
    assert header == (
        "contract_id,number,due_date,debit_date,amount_cents,status,"
        "original_due_date,rescheduled_count,next"
    )
    plan = api_get(sandbox, f"/v1/contracts/{PLAN}/schedule")
    mine = [r.split(",") for r in rows if r.startswith(PLAN + ",")]
    assert len(mine) == len(plan["instalments"])
    flagged = [r for r in mine if r[-1] == "true"]
    assert len(flagged) == 1 and int(flagged[0][1]) == plan["next_debit"]["number"]


def test_contract_without_instalments(run_cli: Any) -> None:
    result = run_cli("schedule", DEMO_REFS["internet_contract"])
    assert result.exit_code == 0, result.stderr
    assert "no instalments" in result.stdout


def test_unknown_contract_is_exit_4(run_cli: Any) -> None:
    result = run_cli("schedule", "CT-9999999")
    assert result.exit_code == 4
    assert run_cli("schedule", DEMO_REFS["clean_instalment_contract"]).exit_code == 4


def test_french_locale_changes_tables_not_json(run_cli: Any) -> None:
    fr = run_cli("schedule", PLAN, env_vars=FR)
    assert fr.exit_code == 0, fr.stderr
    assert "149,90 €" in fr.stdout and "21/12/2026" in fr.stdout
    for args in (("schedule", PLAN, "-o", "json"), ("schedule", "-o", "csv")):
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
    fr = run_cli("schedule", PLAN, env_vars=FR)
    assert fr.exit_code == 0, fr.stderr
    assert french("Schedule of {contract}").format(contract=PLAN) in fr.stdout
    assert french("Paid: {paid}").format(paid="149,90 €") in fr.stdout
    assert "Paid:" not in fr.stdout
