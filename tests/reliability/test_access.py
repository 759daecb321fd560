"""Access control from the CLI's side, and what tests/api/test_scope*.py leave out.

tests/api/test_scope.py walks every route with another customer's IDs (404), staff tokens
(403 on customer routes, 200 on `/v1/customers/{id}/…`) and missing, garbage, revoked and
expired tokens (401). Here:

- every ID-bearing command, run with the demo customer's token and the clean customer's
  IDs: exit 4, none of the clean customer's data on stdout, and nothing changed on the
  clean customer's account (read back with its own token);
- the same for IDs that reach the server another way than the path: a query filter
  (`invoices list --contract`), a body field (`claim new --contract`), a cursor taken from
  another customer's list;
- the lists of one customer never hold another's rows;
- revoked and expired tokens: exit 3 on every command that calls the API;
- staff: reads any customer (`customers show`, `--customer`), changes nothing (every
  mutation refused, nothing changed);
- login brute force: the sixth wrong password gets 429 (exit 6, with the wait), even
  before the right one.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Sandbox
from tests.reliability.conftest import Runner, assert_documented, make_runner

VALID_IBAN = "FR76 3000 6000 0112 3456 7890 189"


def _api(box: Sandbox, token: str) -> httpx.Client:
    return httpx.Client(base_url=box.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.fixture(scope="module")
def clean(box: Sandbox) -> dict[str, Any]:
    """The clean customer's IDs (a claim filed for the occasion) and a snapshot of its
    account, to compare after the attempts."""
    with _api(box, box.clean_token) as c:
        claim = c.post("/v1/claims", json={"category": "other", "subject": "s", "message": "m"})
        assert claim.status_code == 201, claim.text
        invoices = c.get("/v1/invoices").json()["items"]
        assert invoices
        return {
            "customer": c.get("/v1/me").json()["customer"]["id"],
            "contract": "CT-0000005",  # internet, mid-commitment
            "plan": "CT-0000006",  # instalments
            "invoice": invoices[0]["id"],
            "claim": claim.json()["id"],
            "snapshot": _snapshot(c),
        }


def _snapshot(c: httpx.Client) -> dict[str, Any]:
    return {
        "contracts": c.get("/v1/contracts").json(),
        "invoices": c.get("/v1/invoices").json(),
        "claims": [
            c.get(f"/v1/claims/{x['id']}").json() for x in c.get("/v1/claims").json()["items"]
        ],  # noqa: E501
        "schedule": c.get("/v1/contracts/CT-0000006/schedule").json(),
        "payment": c.get("/v1/payment-method").json(),
    }


def _commands(ids: dict[str, Any]) -> list[list[str]]:
    """Every command that takes an ID of the customer's data, with the clean customer's."""
    contract, plan, invoice, claim = ids["contract"], ids["plan"], ids["invoice"], ids["claim"]
    return [
        ["contracts", "show", contract],
        ["contracts", "show", plan, "-o", "json"],
        ["invoices", "show", invoice],
        ["invoices", "show", invoice, "--explain"],
        ["invoices", "download", invoice, "--to", "x.pdf"],
        ["invoices", "download", invoice, "--to", "-"],
        ["schedule", plan],
        ["reschedule", plan, "2", "--by", "7", "--dry-run"],
        ["reschedule", plan, "2", "--by", "7", "--yes"],
        ["terminate", contract, "--quote"],
        ["terminate", contract, "--dry-run"],
        ["terminate", contract, "--yes"],
        ["terminate", contract, "--withdraw", "--yes"],
        ["claim", "show", claim],
        ["claim", "reply", claim, "-m", "bonjour"],
        ["claim", "escalate", claim],
        ["claim", "letter", claim],
        ["claim", "letter", claim, "-f", "pdf", "--to", "l.pdf"],
        ["claim", "new", "-c", "billing", "-s", "s", "-m", "m", "--contract", contract],
        ["customers", "show", ids["customer"]],
        ["api", "GET", f"/v1/contracts/{contract}"],
        ["api", "GET", f"/v1/customers/{ids['customer']}/invoices"],
        ["api", "POST", f"/v1/contracts/{contract}/termination"],
    ]


@pytest.fixture()
def demo(box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.chdir(tmp_path)
    return make_runner(box, tmp_path, monkeypatch)


def _no_data_of(result: Any, ids: dict[str, Any]) -> None:
    for key in ("contract", "plan", "invoice", "claim"):
        assert ids[key] not in result.stdout, (key, result.stdout[:500])
    assert "Moreau" not in result.stdout  # the clean customer's name


def test_every_id_bearing_command_with_another_customers_ids_is_not_found(
    box: Sandbox,
    clean: dict[str, Any],
    demo: Runner,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    failures = []
    for args in _commands(clean):
        result = demo(*args)
        assert_documented(result, args)
        if result.exit_code != 4:
            failures.append((args, result.exit_code, result.stderr[-300:]))
        _no_data_of(result, clean)
    assert not failures, failures
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "l.pdf").exists()
    with capsys.disabled():
        print(f"\naccess: {len(_commands(clean))} ID-bearing commands, all exit 4, 0 rows read")
    with _api(box, box.clean_token) as c:
        assert _snapshot(c) == clean["snapshot"]


def test_other_customers_ids_in_filters_and_cursors(
    box: Sandbox, clean: dict[str, Any], demo: Runner
) -> None:
    """IDs that travel in a query, not the path: an empty answer, never the other's rows."""
    result = demo("invoices", "list", "--contract", clean["contract"], "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json == []
    # A cursor built from the clean customer's sort key (the cursor is opaque, but only
    # base64 of the last row's key): the demo customer still reads only its own rows.
    with _api(box, box.customer_token) as c:
        own = {i["id"] for i in c.get("/v1/invoices", params={"limit": 500}).json()["items"]}
        with _api(box, box.clean_token) as other:
            page = other.get("/v1/invoices", params={"limit": 1}).json()
        cursors = [page["next_cursor"]] if page["next_cursor"] else []
        key = json.dumps(
            [clean["snapshot"]["invoices"]["items"][0]["issue_date"], clean["invoice"]]
        )
        cursors.append(base64.urlsafe_b64encode(key.encode()).decode().rstrip("="))
        for cursor in cursors:
            r = c.get("/v1/invoices", params={"cursor": cursor})
            assert r.status_code in (200, 422), r.text
            if r.status_code == 200:
                assert {i["id"] for i in r.json()["items"]} <= own


def test_lists_hold_only_the_callers_rows(box: Sandbox, clean: dict[str, Any]) -> None:
    for token, other_ids in (
        (box.customer_token, {clean["contract"], clean["plan"], clean["invoice"], clean["claim"]}),
        (box.clean_token, {"CT-0000001", "CT-0000002", "INV-000000001", "CL-0000001"}),
    ):
        with _api(box, token) as c:
            for path in ("/v1/contracts", "/v1/invoices", "/v1/claims"):
                text = c.get(path, params={"limit": 500}).text
                assert not {i for i in other_ids if i in text}, (path, text[:300])


# --- revoked and expired tokens -----------------------------------------------------------------

API_COMMANDS = [
    ["whoami"], ["contracts"], ["contracts", "show", "CT-0000001"], ["invoices"],
    ["invoices", "show", "INV-000000001"], ["invoices", "download", "INV-000000001", "--to", "-"],
    ["schedule"], ["change-iban", VALID_IBAN, "--dry-run"], ["change-iban", VALID_IBAN, "--yes"],
    ["reschedule", "CT-0000003", "3", "--by", "3", "--dry-run"],
    ["terminate", "CT-0000001", "--quote"],
    ["terminate", "CT-0000001", "--yes"], ["claim", "list"], ["claim", "show", "CL-0000001"],
    ["claim", "new", "-c", "other", "-s", "s", "-m", "m"], ["claim", "escalate", "CL-0000001"],
    ["claim", "letter", "CL-0000001"], ["api", "GET", "/v1/me"], ["customers", "list"],
    ["diagnose", "--account-only"],
]  # fmt: skip


@pytest.fixture(scope="module")
def dead_tokens(box: Sandbox) -> Iterator[dict[str, str]]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from server.db import make_engine
    from server.models import Token, User
    from server.tokens import new_token_pair

    engine = make_engine(box.database_url)
    try:
        with Session(engine) as session:
            user = session.scalars(select(User).where(User.username == "demo")).one()
            past = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=2)
            expired, _r, _row = new_token_pair(session, user, past)
            revoked, _r, row = new_token_pair(session, user, datetime.now(UTC).replace(tzinfo=None))
            session.flush()
            token = session.get(Token, row.id)
            assert token is not None
            token.revoked = True
            session.commit()
        yield {"expired": expired, "revoked": revoked}
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["revoked", "expired"])
def test_dead_tokens_exit_3_everywhere(
    box: Sandbox, demo: Runner, dead_tokens: dict[str, str], kind: str
) -> None:
    failures = []
    for args in API_COMMANDS:
        result = demo(*args, env_vars={"MONCOMPTE_TOKEN": dead_tokens[kind]})
        assert_documented(result, args)
        if result.exit_code != (8 if args[0] == "diagnose" else 3):
            failures.append((args, result.exit_code, result.stderr[-300:]))
        assert dead_tokens[kind] not in result.stdout + result.stderr
    assert not failures, failures
    with _api(box, box.customer_token) as c:  # the refused mutations did nothing
        assert c.get("/v1/contracts/CT-0000001").json()["status"] != "terminated"


# --- staff ---------------------------------------------------------------------------------------


def test_staff_reads_any_customer(box: Sandbox, clean: dict[str, Any], demo: Runner) -> None:
    staff = {"MONCOMPTE_TOKEN": box.staff_token}
    for customer in ("C0000001", clean["customer"]):
        shown = demo("customers", "show", customer, "-o", "json", env_vars=staff)
        assert shown.exit_code == 0, shown.stderr
        assert customer in shown.stdout
        contracts = demo("contracts", "--customer", customer, "-o", "ndjson", env_vars=staff)
        assert contracts.exit_code == 0, contracts.stderr
        rows = [json.loads(line) for line in contracts.lines]
        assert rows and {r["customer_id"] for r in rows} == {customer}


def test_staff_changes_nothing(box: Sandbox, clean: dict[str, Any], demo: Runner) -> None:
    """The API lets staff mutate nothing on a customer's behalf; the CLI's mutations, run
    with a staff token, are refused and change nothing."""
    staff = {"MONCOMPTE_TOKEN": box.staff_token}
    attempts = [
        ["terminate", clean["contract"], "--yes"],
        ["terminate", clean["contract"], "--withdraw", "--yes"],
        ["reschedule", clean["plan"], "2", "--by", "7", "--yes"],
        ["change-iban", VALID_IBAN, "--yes"],
        ["claim", "new", "-c", "billing", "-s", "s", "-m", "m"],
        ["claim", "reply", clean["claim"], "-m", "bonjour"],
        ["claim", "escalate", clean["claim"]],
        ["api", "POST", f"/v1/contracts/{clean['contract']}/termination"],
        ["api", "PUT", "/v1/payment-method", "-f", f"iban={VALID_IBAN}"],
    ]
    for args in attempts:
        result = demo(*args, env_vars=staff)
        assert_documented(result, args)
        assert result.exit_code in (3, 4), (args, result.exit_code, result.stderr)
    with _api(box, box.clean_token) as c:
        assert _snapshot(c) == clean["snapshot"]


# --- login brute force ---------------------------------------------------------------------------


def test_login_brute_force_is_rate_limited(box: Sandbox, demo: Runner) -> None:
    """Wrong passwords for one user: 3 each, then 6 (429, with the wait), even for the
    right password."""
    login = ["login", "--api-url", box.url, "-u", "clean", "--password-stdin", "--insecure-storage"]
    codes = [demo(*login, stdin="wrong-password\n").exit_code for _ in range(5)]
    assert codes == [3] * 5
    limited = demo(*login, stdin="wrong-password\n")
    assert limited.exit_code == 6, limited.stderr
    assert "rate limited" in limited.stderr and "try again in" in limited.stderr
    right = demo(*login, stdin="clean1234\n")
    assert right.exit_code == 6, right.stderr
