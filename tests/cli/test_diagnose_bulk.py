"""`moncompte diagnose --account-only --customer ...`: staff runs the account checks for
many customers through the bulk machinery."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from domain.diagnose import CHECK_IDS

ACCOUNT_CHECKS = [i for i in CHECK_IDS if i.startswith("account.")]


def staff(sandbox: Any) -> dict[str, str]:
    return {"MONCOMPTE_TOKEN": sandbox.staff_token}


def rows(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_one_row_per_customer_and_check(run_cli: Any, sandbox: Any) -> None:
    result = run_cli(
        "diagnose",
        "--account-only",
        "--customer",
        "C0000001",
        "--customer",
        "C0000002",
        env_vars=staff(sandbox),
    )
    assert result.exit_code == 8, result.stderr
    got = rows(result)
    assert [(r["customer_id"], r["id"]) for r in got] == [
        (c, i) for c in ("C0000001", "C0000002") for i in ACCOUNT_CHECKS
    ]
    assert set(got[0]) == {"customer_id", "id", "status", "finding"}
    demo = {r["id"]: r for r in got if r["customer_id"] == "C0000001"}
    clean = [r for r in got if r["customer_id"] == "C0000002"]
    assert demo["account.payments"]["status"] == "fail"
    assert "INV-000000009" in demo["account.payments"]["finding"]
    assert demo["account.claims"]["status"] in ("warn", "fail")
    assert "2025-" in demo["account.terms"]["finding"]  # the terms version came along
    assert all(r["status"] == "ok" for r in clean), clean


def test_matches_the_customers_own_diagnose(run_cli: Any, sandbox: Any) -> None:
    own = run_cli("diagnose", "--account-only", "-o", "json")
    mine = {c["id"]: (c["status"], c["finding"]) for c in own.json["checks"]}
    bulk = run_cli("diagnose", "--account-only", "--customer", "C0000001", env_vars=staff(sandbox))
    assert {r["id"]: (r["status"], r["finding"]) for r in rows(bulk)} == mine


def test_clean_customer_exits_0_even_on_warn(run_cli: Any, sandbox: Any) -> None:
    result = run_cli(
        "diagnose",
        "--account-only",
        "--fail-on",
        "warn",
        "--customers-file",
        "-",
        "-o",
        "csv",
        stdin="# clean\nC0000002\n",
        env_vars=staff(sandbox),
    )
    assert result.exit_code == 0, result.stderr
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in table] == ACCOUNT_CHECKS
    assert {r["customer_id"] for r in table} == {"C0000002"}


def test_check_filter_and_json(run_cli: Any, sandbox: Any) -> None:
    result = run_cli(
        "diagnose",
        "--account-only",
        "--check",
        "account.payments",
        "--customer",
        "C0000002",
        "-o",
        "json",
        env_vars=staff(sandbox),
    )
    assert result.exit_code == 0, result.stderr
    assert [(r["customer_id"], r["id"]) for r in result.json] == [("C0000002", "account.payments")]


def test_unknown_customer_is_exit_7_over_8(run_cli: Any, sandbox: Any, tmp_path: Path) -> None:
    errors = tmp_path / "errors.jsonl"
    result = run_cli(
        "diagnose",
        "--account-only",
        "--customer",
        "C0000001",
        "--customer",
        "C9999999",
        "--errors",
        str(errors),
        env_vars=staff(sandbox),
    )
    assert result.exit_code == 7
    assert "C9999999" in result.stderr
    assert {r["customer_id"] for r in rows(result)} == {"C0000001"}
    failed = [json.loads(line) for line in errors.read_text().splitlines()]
    assert [(f["id"], f["status"]) for f in failed] == [("C9999999", 404)]


def test_bulk_options_need_account_only(run_cli: Any, sandbox: Any) -> None:
    result = run_cli("diagnose", "--customer", "C0000001", env_vars=staff(sandbox))
    assert result.exit_code == 2
    assert "--account-only" in result.stderr
    assert result.stdout == ""


def test_bulk_refuses_local_only_options(run_cli: Any, sandbox: Any) -> None:
    result = run_cli(
        "diagnose",
        "--account-only",
        "--offline",
        "--customer",
        "C0000001",
        env_vars=staff(sandbox),
    )
    assert result.exit_code == 2


def test_customer_token_is_refused(run_cli: Any) -> None:
    result = run_cli("diagnose", "--account-only", "--customer", "C0000001")
    assert result.exit_code in (3, 4)
    assert "staff" in result.stderr
    assert result.stdout == ""
