"""`moncompte status` against the real sandbox server: the demo customer (every anomaly)
and the clean one, the JSON keys, staff (--customer) and bulk."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import httpx

from domain.calendar import debit_date
from domain.overview import CONTRACT_KEYS, OVERVIEW_KEYS, SUMMARY_KEYS

FR = {"LANG": "fr_FR.UTF-8"}


def staff(sandbox: Any) -> dict[str, str]:
    return {"MONCOMPTE_TOKEN": sandbox.staff_token}


def clean(sandbox: Any) -> dict[str, str]:
    return {"MONCOMPTE_TOKEN": sandbox.clean_token}


def api_get(sandbox: Any, path: str) -> Any:
    response = httpx.get(
        sandbox.url + path,
        headers={"Authorization": f"Bearer {sandbox.customer_token}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def ok_json(run_cli: Any, *args: str, env_vars: dict[str, str] | None = None) -> Any:
    result = run_cli(*args, "-o", "json", env_vars=env_vars)
    assert result.exit_code == 0, result.stderr
    return result.json


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(i["id"]): i for i in items}


def test_json_keys_are_stable(run_cli: Any, sandbox: Any) -> None:
    for env_vars in (None, clean(sandbox)):
        overview = ok_json(run_cli, "status", env_vars=env_vars)
        assert tuple(overview) == OVERVIEW_KEYS
        assert overview["contracts"], "both demo users hold contracts"
        for contract in overview["contracts"]:
            assert tuple(contract) == CONTRACT_KEYS


def test_next_debits_are_the_schedule_and_billing_dates(run_cli: Any, sandbox: Any) -> None:
    overview = ok_json(run_cli, "status")
    contracts = by_id(overview["contracts"])
    listed = by_id(api_get(sandbox, "/v1/contracts")["items"])
    for plan in ok_json(run_cli, "schedule"):
        upcoming = plan["next_debit"]
        mine = contracts[plan["contract_id"]]["next_debit"]
        assert upcoming is not None
        amount = next(
            i["amount_cents"] for i in plan["instalments"] if i["number"] == upcoming["number"]
        )
        assert (mine["date"], mine["due_date"], mine["amount_cents"]) == (
            upcoming["debit_date"],
            upcoming["due_date"],
            amount,
        )
    today = sandbox.today
    internet = [c for c in listed.values() if c["kind"] == "internet" and c["status"] == "active"]
    assert internet
    for c in internet:
        # The next monthly debit: this month's if still ahead, else next month's, each on
        # the 5th moved to a business day; no invoice for it yet, so the monthly price.
        this_month = debit_date(today.year, today.month)
        nxt = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        expected = this_month if this_month >= today else debit_date(nxt.year, nxt.month)
        mine = contracts[c["id"]]["next_debit"]
        assert mine["date"] == expected.isoformat()
        assert mine["amount_cents"] == c["monthly_price_cents"]
        assert mine["source"] == "estimate"
    assert overview["next_debit"]["date"] == min(
        c["next_debit"]["date"] for c in contracts.values() if c["next_debit"]
    )


def test_unpaid_matches_invoices_and_schedule(run_cli: Any) -> None:
    overview = ok_json(run_cli, "status")
    unpaid_invoices = ok_json(run_cli, "invoices", "list", "--status", "unpaid")
    failed = [
        f"{p['contract_id']}#{i['number']}"
        for p in ok_json(run_cli, "schedule")
        for i in p["instalments"]
        if i["status"] == "failed"
    ]
    assert unpaid_invoices and failed
    refs = {i["ref"]: i for i in overview["unpaid"]}
    assert set(refs) == {i["id"] for i in unpaid_invoices} | set(failed)
    for inv in unpaid_invoices:
        assert refs[inv["id"]]["amount_cents"] == inv["total_cents"]
        assert refs[inv["id"]]["date"] == inv["debit_date"]
    assert overview["unpaid_cents"] == sum(i["amount_cents"] for i in overview["unpaid"])


def test_commitment_fee_withdrawal_and_equipment(run_cli: Any, sandbox: Any) -> None:
    overview = ok_json(run_cli, "status")
    contracts = by_id(overview["contracts"])
    today = sandbox.today.isoformat()
    for raw in api_get(sandbox, "/v1/contracts")["items"]:
        mine = contracts[raw["id"]]
        live = raw["status"] in ("active", "pending_activation")
        running = live and raw["commitment_end"] is not None and raw["commitment_end"] >= today
        assert mine["commitment_end"] == (raw["commitment_end"] if running else None)
        open_ = live and raw["withdrawal_deadline"] >= today
        assert mine["withdrawal_deadline"] == (raw["withdrawal_deadline"] if open_ else None)
        if raw["kind"] == "internet" and live:
            quote = api_get(sandbox, f"/v1/contracts/{raw['id']}/termination-quote?date={today}")
            assert mine["termination_fee_cents"] == quote["total_cents"] > 0
        to_return = [e for e in raw["equipment"] if not e["returned_on"]]
        if raw["status"] == "terminated" and to_return:
            ret = mine["equipment_return"]
            assert ret["reference"].startswith("RM-")
            ended = date.fromisoformat(raw["terminated_on"])
            items = {i["serial"]: i for i in ret["items"]}
            for e in to_return:
                days = 40 if e["exchanged"] else 30
                assert items[e["serial"]]["deadline"] == (ended + timedelta(days)).isoformat()
                assert items[e["serial"]]["reference"] == e["return_reference"]
        else:
            assert mine["equipment_return"] is None
    assert any(c["equipment_return"] for c in contracts.values()), "the demo has one"


def test_claims_next_step_and_mediator(run_cli: Any, sandbox: Any) -> None:
    overview = ok_json(run_cli, "status")
    claims = by_id(overview["claims"])
    listed = ok_json(run_cli, "claim", "list")
    assert listed
    today = sandbox.today.isoformat()
    for claim in listed:
        mine = claims[claim["id"]]
        until = date.fromisoformat(claim["mediator_until"]) - timedelta(days=1)
        assert mine["mediator_last_day"] == until.isoformat()
        if claim["status"] == "open" and not claim["last_answer_on"]:
            assert mine["mediator_from"] == claim["mediator_from"]
            assert mine["mediator_possible"] == (claim["mediator_from"] <= today)
            assert mine["next_step"] == ("escalate" if mine["mediator_possible"] else "wait_answer")
        if claim["status"] == "answered":
            assert mine["next_step"] == "reply_or_escalate"
            assert mine["mediator_possible"] is True
    assert any(c["next_step"] == "escalate" for c in claims.values())


def test_urgent_is_what_diagnose_fails(run_cli: Any) -> None:
    overview = ok_json(run_cli, "status")
    diagnose = run_cli("diagnose", "--account-only", "-o", "json")
    failed = [c["id"] for c in diagnose.json["checks"] if c["status"] == "fail"]
    assert failed
    assert [u["check"] for u in overview["urgent"]] == failed


def test_clean_customer_has_nothing_to_do(run_cli: Any, sandbox: Any) -> None:
    overview = ok_json(run_cli, "status", env_vars=clean(sandbox))
    assert (overview["unpaid"], overview["claims"], overview["urgent"]) == ([], [], [])
    assert overview["customer_id"] == "C0000002"
    assert overview["next_debit"] is not None
    result = run_cli("status", env_vars=clean(sandbox))
    assert result.exit_code == 0, result.stderr
    assert "Nothing to do." in result.lines
    assert "Urgent" not in result.stdout


def test_table_is_plain_and_short_when_piped(run_cli: Any) -> None:
    result = run_cli("status")
    assert result.exit_code == 0, result.stderr
    assert "\x1b[" not in result.stdout
    overview = ok_json(run_cli, "status")
    for c in overview["contracts"]:
        assert c["id"] in result.stdout
    for item in overview["unpaid"]:
        assert item["ref"].partition("#")[0] in result.stdout
    reference = next(c for c in overview["contracts"] if c["equipment_return"])
    assert reference["equipment_return"]["reference"] in result.stdout
    assert len(result.lines) <= 40
    everything = run_cli("status", "--all")
    assert everything.exit_code == 0
    assert set(result.lines) <= set(everything.lines)


def test_terminal_table_and_french(run_cli: Any) -> None:
    result = run_cli("status", tty=True)
    assert result.exit_code == 0, result.stderr
    assert "CT-0000001" in result.stdout
    assert result.stdout.count("To do") == 1  # the table's title, not twice
    fr = run_cli("status", env_vars=FR)
    assert fr.exit_code == 0, fr.stderr
    assert "À faire" in fr.lines
    assert "Compte de" in fr.stdout and "29,99 €" in fr.stdout
    assert "To do" not in fr.lines and "Instalment " not in fr.stdout
    # JSON does not change with the language.
    assert run_cli("status", "-o", "json", env_vars=FR).json == ok_json(run_cli, "status")


def test_csv_is_one_summary_row(run_cli: Any) -> None:
    result = run_cli("status", "-o", "csv")
    assert result.exit_code == 0, result.stderr
    header, row = result.lines
    assert header.split(",") == list(SUMMARY_KEYS)
    overview = ok_json(run_cli, "status")
    assert row.startswith("C0000001,")
    assert f",{overview['unpaid_cents']}," in row


def test_staff_one_customer_sees_what_the_customer_sees(run_cli: Any, sandbox: Any) -> None:
    own = ok_json(run_cli, "status")
    theirs = ok_json(run_cli, "status", "--customer", "C0000001", env_vars=staff(sandbox))
    assert theirs == own


def test_staff_bulk_one_summary_row_per_customer(run_cli: Any, sandbox: Any) -> None:
    result = run_cli(
        "status",
        "--customers-file",
        "-",
        stdin="C0000001\nC0000002\n",
        env_vars=staff(sandbox),
    )
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.lines]
    assert [r["customer_id"] for r in rows] == ["C0000001", "C0000002"]
    assert all(list(r) == list(SUMMARY_KEYS) for r in rows)
    demo = ok_json(run_cli, "status")
    assert rows[0]["unpaid_cents"] == demo["unpaid_cents"] > 0
    assert rows[0]["urgent"] == ",".join(u["check"] for u in demo["urgent"])
    assert (rows[1]["unpaid"], rows[1]["urgent"], rows[1]["open_claims"]) == (0, "", 0)


def test_staff_bulk_unknown_customer_is_a_partial_failure(run_cli: Any, sandbox: Any) -> None:
    result = run_cli(
        "status", "--customer", "C0000002", "--customer", "C9999999", env_vars=staff(sandbox)
    )
    assert result.exit_code == 7
    assert [json.loads(line)["customer_id"] for line in result.lines] == ["C0000002"]
    assert "C9999999" in result.stderr


def test_staff_without_customer_and_customer_with_customer(run_cli: Any, sandbox: Any) -> None:
    result = run_cli("status", env_vars=staff(sandbox))
    assert result.exit_code == 2
    assert "--customer" in result.stderr and result.stdout == ""
    result = run_cli("status", "--customer", "C0000002")
    assert result.exit_code == 3
    assert "staff" in result.stderr


def test_server_down_is_exit_6(run_cli: Any) -> None:
    result = run_cli("status", env_vars={"MONCOMPTE_API_URL": "http://127.0.0.1:9"})
    assert result.exit_code == 6
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_screen_is_cut_without_all_and_whole_with_it() -> None:
    import io

    from cli.output import Renderer
    from commands.status.view import MAX_TODO, render_screen
    from domain.diagnose import AccountData
    from domain.overview import build_overview

    invoices = [
        {
            "id": f"INV-{n:03d}",
            "contract_id": "CT-1",
            "issue_date": f"2026-{n:02d}-02",
            "debit_date": f"2026-{n:02d}-05",
            "total_cents": 1000 + n,
            "status": "unpaid",
        }
        for n in range(1, 13)
    ]
    data = AccountData(me={"customer": {"id": "C1", "first_name": "Zoé"}}, invoices=invoices)
    overview = build_overview(data, [], date(2026, 12, 20))

    def screen(show_all: bool) -> str:
        out = io.StringIO()
        render_screen(Renderer(out, io.StringIO()), overview, "en", show_all=show_all)
        return out.getvalue()

    short, whole = screen(False), screen(True)
    assert sum("INV-" in line for line in short.splitlines()) == MAX_TODO
    assert f"and {12 - MAX_TODO} more (moncompte status --all)" in short
    assert all(inv["id"] in whole for inv in invoices) and "more" not in whole
    assert "Zoé" in short and "No contract on this account." in short
