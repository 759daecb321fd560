"""`moncompte customers list|search|show` (staff) against the real sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Sandbox


def staff(sandbox: Sandbox) -> dict[str, str]:
    return {"MONCOMPTE_TOKEN": sandbox.staff_token}


def api_customers(sandbox: Sandbox) -> list[dict[str, Any]]:
    r = httpx.get(
        f"{sandbox.url}/v1/customers",
        params={"limit": 500},
        headers={"Authorization": f"Bearer {sandbox.staff_token}"},
    )
    r.raise_for_status()
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_list_is_a_table_sorted_by_id(run_cli: Any, sandbox: Sandbox) -> None:
    r = run_cli("customers", "list", env_vars=staff(sandbox))
    assert r.exit_code == 0, r.stderr
    assert r.lines[0].split()[:2] == ["id", "customer"]
    ids = [line.split()[0] for line in r.lines[1:]]
    assert ids == [c["id"] for c in api_customers(sandbox)] and ids == sorted(ids)


def test_limit_says_when_more_match(run_cli: Any, sandbox: Sandbox) -> None:
    r = run_cli("customers", "list", "--limit", "1", "-o", "ndjson", env_vars=staff(sandbox))
    assert r.exit_code == 0 and len(r.lines) == 1
    assert "--all lists every one" in r.stderr
    assert json.loads(r.lines[0])["id"] == "C0000001"


def test_all_walks_every_page(
    run_cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import commands.customers

    monkeypatch.setattr(commands.customers, "ALL_PAGE_SIZE", 1)  # one request per customer
    r = run_cli(
        "customers", "list", "--all", "--columns", "id", "-o", "csv", env_vars=staff(sandbox)
    )
    assert r.exit_code == 0, r.stderr
    assert r.lines == ["id", *(c["id"] for c in api_customers(sandbox))]
    assert "more customers" not in r.stderr


def test_a_file_of_ids_feeds_a_bulk_lookup(run_cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    listing = run_cli(
        "customers", "list", "--all", "--columns", "id", "-o", "csv", env_vars=staff(sandbox)
    )
    path = tmp_path / "ids.csv"
    path.write_text(listing.stdout)
    shown = run_cli("customers", "show", "--customers-file", str(path), env_vars=staff(sandbox))
    assert shown.exit_code == 0, shown.stderr
    got = [json.loads(line) for line in shown.lines]
    assert [c["customer_id"] for c in got] == listing.lines[1:]
    assert {"customer_number", "email", "address.city", "restrictions"} <= set(got[0])


def test_search_every_word_must_match(run_cli: Any, sandbox: Sandbox) -> None:
    r = run_cli("customers", "search", "claire", "DUBOIS", "-o", "json", env_vars=staff(sandbox))
    assert r.exit_code == 0, r.stderr
    assert [c["id"] for c in r.json] == ["C0000001"]
    none = run_cli("customers", "search", "claire", "moreau", env_vars=staff(sandbox))
    assert none.exit_code == 0 and "no customer matches" in none.stderr


def test_show_one_customer(run_cli: Any, sandbox: Sandbox) -> None:
    table = run_cli("customers", "show", "C0000001", env_vars=staff(sandbox))
    assert table.exit_code == 0, table.stderr
    assert "Dubois" in table.stdout and "Restrictions" in table.stdout
    as_json = run_cli("customers", "show", "C0000001", "-o", "json", env_vars=staff(sandbox))
    assert as_json.json == next(c for c in api_customers(sandbox) if c["id"] == "C0000001")


def test_show_unknown_customer_is_exit_4(run_cli: Any, sandbox: Sandbox) -> None:
    r = run_cli("customers", "show", "C9999999", env_vars=staff(sandbox))
    assert r.exit_code == 4 and "not found" in r.stderr


def test_show_without_an_id_is_a_usage_error(run_cli: Any, sandbox: Sandbox) -> None:
    r = run_cli("customers", "show", env_vars=staff(sandbox))
    assert r.exit_code == 2 and "--customers-file" in r.stderr


def test_customer_token_needs_staff(run_cli: Any) -> None:
    r = run_cli("customers", "list")
    assert r.exit_code == 3 and "staff login" in r.stderr


def test_all_and_limit_conflict(run_cli: Any, sandbox: Sandbox) -> None:
    r = run_cli("customers", "list", "--all", "--limit", "3", env_vars=staff(sandbox))
    assert r.exit_code == 2
