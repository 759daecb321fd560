"""`moncompte invoices [list] | show [--explain] | download` against the real sandbox."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.money import format_money
from server.seed import DEMO_REFS, demo_refs
from tests.conftest import TODAY

FR = {"LANG": "fr_FR.UTF-8"}
LIST_KEYS = [
    "id",
    "contract_id",
    "issue_date",
    "period_start",
    "period_end",
    "debit_date",
    "total_cents",
    "debited_cents",
    "status",
    "debit_date_moved_reason",
]


def api_get(sandbox: Any, path: str, params: dict[str, Any] | None = None) -> Any:
    response = httpx.get(
        sandbox.url + path,
        params=params,
        headers={"Authorization": f"Bearer {sandbox.customer_token}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json() if "json" in response.headers["content-type"] else response.content


def api_invoices(sandbox: Any, **params: Any) -> list[dict[str, Any]]:
    """Every invoice the API lists for these filters, following the cursor."""
    items: list[dict[str, Any]] = []
    query = {"limit": 500, **params}
    while True:
        page = api_get(sandbox, "/v1/invoices", query)
        items.extend(page["items"])
        if not page["next_cursor"]:
            return items
        query["cursor"] = page["next_cursor"]


def pick(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: item[k] for k in LIST_KEYS} for item in items]


# --- list ---------------------------------------------------------------------------------------


def test_invoices_alone_lists_like_invoices_list(run_cli: Any) -> None:
    alone = run_cli("invoices")
    listed = run_cli("invoices", "list")
    assert alone.exit_code == listed.exit_code == 0, alone.stderr
    assert alone.stdout == listed.stdout
    assert "INV-000000001" in alone.stdout


def test_list_json_is_the_api_list(run_cli: Any, sandbox: Any) -> None:
    result = run_cli("invoices", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json == pick(api_invoices(sandbox, status="all"))
    dates = [row["issue_date"] for row in result.json]
    assert dates == sorted(dates, reverse=True)  # newest first


def test_list_table_has_a_totals_row(run_cli: Any, sandbox: Any) -> None:
    result = run_cli("invoices", "list")
    assert result.exit_code == 0, result.stderr
    items = api_invoices(sandbox)
    assert len(result.lines) == 1 + len(items) + 1  # header, rows, totals
    header = result.lines[0]
    for word in ("invoice", "contract", "issued", "debit", "total", "status"):
        assert word in header
    total = result.lines[-1]
    assert total.startswith("Total")
    assert format_money(sum(i["total_cents"] for i in items), "en") in total


@pytest.mark.parametrize(
    ("status", "allowed"),
    [("unpaid", {"unpaid", "failed"}), ("paid", {"paid"}), ("all", {"paid", "unpaid", "failed"})],
)
def test_status_filter(run_cli: Any, sandbox: Any, status: str, allowed: set[str]) -> None:
    result = run_cli("invoices", "--status", status, "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json, "the demo data has invoices of every kind"
    assert {row["status"] for row in result.json} <= allowed
    assert result.json == pick(api_invoices(sandbox, status=status))


def test_unpaid_lists_the_rejected_debit(run_cli: Any) -> None:
    result = run_cli("invoices", "list", "--status", "unpaid", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert DEMO_REFS["unpaid_invoice"] in {row["id"] for row in result.json}
    assert all(row["status"] != "paid" for row in result.json)


def test_bad_status_is_a_usage_error(run_cli: Any) -> None:
    result = run_cli("invoices", "--status", "overdue")
    assert result.exit_code == 2
    assert "--status" in result.stderr


def test_since_and_until_bound_the_issue_date(run_cli: Any, sandbox: Any) -> None:
    result = run_cli("invoices", "--since", "2026-04-02", "--until", "2026-08-03", "-o", "json")
    assert result.exit_code == 0, result.stderr
    rows = result.json
    assert rows and all("2026-04-02" <= r["issue_date"] <= "2026-08-03" for r in rows)
    # both bounds are inclusive: invoices issued exactly on them are listed
    assert {"2026-04-02", "2026-08-03"} <= {r["issue_date"] for r in rows}
    assert rows == pick(api_invoices(sandbox, since="2026-04-02", until="2026-08-03"))
    everything = api_invoices(sandbox)
    outside = [i for i in everything if not "2026-04-02" <= i["issue_date"] <= "2026-08-03"]
    assert outside and not {i["id"] for i in outside} & {r["id"] for r in rows}


@pytest.mark.parametrize(
    "value", ["2026-13-01", "24/11/2026", "20261124", "2026-02-30", "yesterday", "2026-W48-2"]
)
def test_bad_date_is_exit_2_with_a_clear_message(run_cli: Any, value: str) -> None:
    for option in ("--since", "--until"):
        result = run_cli("invoices", option, value)
        assert result.exit_code == 2, result.stderr
        assert option in result.stderr and "YYYY-MM-DD" in result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout == ""


def test_since_after_until_is_refused(run_cli: Any) -> None:
    result = run_cli("invoices", "--since", "2026-10-01", "--until", "2026-09-01")
    assert result.exit_code == 2
    assert "--since" in result.stderr and "--until" in result.stderr


def test_contract_filter(run_cli: Any, sandbox: Any) -> None:
    contract = DEMO_REFS["terminated_contract"]
    result = run_cli("invoices", "--contract", contract, "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json and {r["contract_id"] for r in result.json} == {contract}
    assert result.json == pick(api_invoices(sandbox, contract=contract))


def test_limit_keeps_the_newest(run_cli: Any, sandbox: Any) -> None:
    result = run_cli("invoices", "--limit", "3", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json == pick(api_invoices(sandbox))[:3]
    table = run_cli("invoices", "list", "--limit", "2")
    assert len(table.lines) == 1 + 2 + 1
    assert run_cli("invoices", "--limit", "0").exit_code == 2


def test_list_options_before_a_subcommand_are_refused(run_cli: Any) -> None:
    result = run_cli("invoices", "--limit", "2", "show", "INV-000000001")
    assert result.exit_code == 2
    assert "invoices list" in result.stderr


def test_csv_and_ndjson_are_raw(run_cli: Any, sandbox: Any) -> None:
    csv = run_cli("invoices", "-o", "csv", "--limit", "1")
    assert csv.exit_code == 0, csv.stderr
    assert csv.lines[0] == ",".join(LIST_KEYS)
    newest = api_invoices(sandbox)[0]
    assert csv.lines[1].startswith(f"{newest['id']},{newest['contract_id']},")
    assert f",{newest['total_cents']}," in csv.lines[1]
    ndjson = run_cli("invoices", "-o", "ndjson", "--status", "unpaid")
    assert ndjson.exit_code == 0
    assert len(ndjson.lines) == len(api_invoices(sandbox, status="unpaid"))


def test_empty_result(run_cli: Any) -> None:
    result = run_cli("invoices", "--since", "2030-01-01", "-o", "json")
    assert result.exit_code == 0
    assert result.json == []
    table = run_cli("invoices", "--since", "2030-01-01")
    assert table.exit_code == 0 and "no invoice" in table.stderr


# --- pagination: more invoices than one page ----------------------------------------------------


def add_invoices(database_url: str, count: int) -> None:
    """Give the demo customer `count` more (old, paid) invoices, straight in the database."""
    from sqlalchemy.orm import Session

    from server.db import make_engine
    from server.models import Invoice, InvoiceLine

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            for n in range(count):
                day = dt.date(2020, 1, 2) + dt.timedelta(days=n)
                session.add(
                    Invoice(
                        id=f"INV-8{n:08d}",
                        customer_id=DEMO_REFS["customer"],
                        contract_id=DEMO_REFS["internet_contract"],
                        issue_date=day,
                        debit_date=day + dt.timedelta(days=3),
                        period_start=day,
                        period_end=day + dt.timedelta(days=27),
                        total_cents=1000 + n,
                        debited_cents=1000 + n,
                        status="paid",
                        lines=[
                            InvoiceLine(
                                position=1,
                                label="Subscription",
                                kind="subscription",
                                amount_cents=1000 + n,
                                explanation="test data",
                            )
                        ],
                    )
                )
            session.commit()
    finally:
        engine.dispose()


@pytest.fixture()
def many_invoices(fresh_sandbox: Any) -> Any:
    add_invoices(fresh_sandbox.database_url, 130)
    return fresh_sandbox


def _env(box: Any) -> dict[str, str]:
    return {"MONCOMPTE_API_URL": box.url, "MONCOMPTE_TOKEN": box.customer_token}


def test_pagination_is_transparent(run_cli: Any, many_invoices: Any) -> None:
    expected = pick(api_invoices(many_invoices))
    assert len(expected) > 2 * 50  # more than two pages of the server's default size
    result = run_cli("invoices", "-o", "json", "-v", env_vars=_env(many_invoices))
    assert result.exit_code == 0, result.stderr
    assert result.json == expected
    requests = [line for line in result.stderr.splitlines() if "> GET" in line]
    assert len(requests) == 3 and all("/v1/invoices" in r for r in requests)
    assert "cursor=" in requests[1] and "cursor=" in requests[2]


def test_limit_across_pages_and_totals(run_cli: Any, many_invoices: Any) -> None:
    expected = pick(api_invoices(many_invoices))
    result = run_cli(
        "invoices", "--limit", "75", "-o", "ndjson", "-v", env_vars=_env(many_invoices)
    )
    assert result.exit_code == 0, result.stderr
    assert len(result.lines) == 75
    requests = [line for line in result.stderr.splitlines() if "> GET" in line]
    assert len(requests) == 2  # the third page is never fetched
    table = run_cli("invoices", "--limit", "120", env_vars=_env(many_invoices))
    assert table.exit_code == 0
    assert len(table.lines) == 1 + 120 + 1
    total = sum(i["total_cents"] for i in expected[:120])
    assert format_money(total, "en") in table.lines[-1]


# --- show ---------------------------------------------------------------------------------------


def test_show_json_is_the_api_invoice(run_cli: Any, sandbox: Any) -> None:
    invoice_id = DEMO_REFS["first_invoice"]
    result = run_cli("invoices", "show", invoice_id, "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json == api_get(sandbox, f"/v1/invoices/{invoice_id}")
    explained = run_cli("invoices", "show", invoice_id, "--explain", "-o", "json")
    assert explained.stdout == result.stdout


def test_show_table_header_and_lines(run_cli: Any, sandbox: Any) -> None:
    invoice_id = DEMO_REFS["first_invoice"]
    invoice = api_get(sandbox, f"/v1/invoices/{invoice_id}")
    result = run_cli("invoices", "show", invoice_id)
    assert result.exit_code == 0, result.stderr
    for name in ("invoice:", "contract:", "issued:", "period from:", "debit date:", "total:"):
        assert name in result.stdout
    for line in invoice["lines"]:
        row = next(r for r in result.lines if r.startswith(line["label"]))
        assert format_money(line["amount_cents"], "en") in row
    assert result.lines[-1].startswith("Total")
    assert format_money(invoice["total_cents"], "en") in result.lines[-1]
    assert "How this invoice is made up" not in result.stdout  # only with --explain


def test_explain_first_invoice_prorata_and_activation(run_cli: Any, sandbox: Any) -> None:
    invoice_id = DEMO_REFS["first_invoice"]
    invoice = api_get(sandbox, f"/v1/invoices/{invoice_id}")
    result = run_cli("invoices", "show", invoice_id, "--explain")
    assert result.exit_code == 0, result.stderr
    kinds = {line["kind"] for line in invoice["lines"]}
    assert {"activation", "prorata"} <= kinds
    for line in invoice["lines"]:
        assert line["explanation"] in result.stdout
    assert "first connection" in result.stdout
    assert "activation fee" in result.stdout.lower()


def test_explain_out_of_plan_line(run_cli: Any, sandbox: Any) -> None:
    invoice_id = DEMO_REFS["out_of_plan_invoice"]
    invoice = api_get(sandbox, f"/v1/invoices/{invoice_id}")
    line = next(li for li in invoice["lines"] if li["kind"] == "out_of_plan")
    result = run_cli("invoices", "show", invoice_id, "--explain")
    assert result.exit_code == 0, result.stderr
    assert "out of plan" in result.stdout
    assert line["explanation"] in result.stdout
    assert "special" in result.stdout


def test_explain_moved_debit_date(run_cli: Any, sandbox: Any) -> None:
    invoice_id = demo_refs(TODAY)["moved_debit_invoice"]
    assert invoice_id, "the demo data has a debit moved by a weekend or holiday"
    invoice = api_get(sandbox, f"/v1/invoices/{invoice_id}")
    assert invoice["debit_date_moved_reason"]
    result = run_cli("invoices", "show", invoice_id, "--explain")
    assert result.exit_code == 0, result.stderr
    assert "Debit date moved to" in result.stdout
    assert invoice["debit_date_moved_reason"] in result.stdout
    assert invoice["debit_date"] in result.stdout
    plain = run_cli("invoices", "show", invoice_id)
    assert "debit date moved:" in plain.stdout  # the reason is a header field too
    assert invoice["debit_date_moved_reason"] in plain.stdout



def test_moved_debit_date_reason_in_french(run_cli: Any, sandbox: Any) -> None:
    """The API sends the English reason; in French the CLI words the same rule again, with
    French weekdays, months and holiday names, and json keeps the API's sentence."""
    import datetime as dt

    from cli import i18n
    from domain.calendar import debit_moved_reason

    invoice_id = demo_refs(TODAY)["moved_debit_invoice"]
    invoice = api_get(sandbox, f"/v1/invoices/{invoice_id}")
    debit = dt.date.fromisoformat(invoice["debit_date"])
    reason = debit_moved_reason(debit.year, debit.month)
    assert reason == invoice["debit_date_moved_reason"]
    i18n.activate("fr")
    try:
        french = i18n.localized(reason)
    finally:
        i18n.activate("en")
    assert french != reason and " est " in french
    result = run_cli("invoices", "show", invoice_id, "--explain", env_vars=FR)
    assert result.exit_code == 0, result.stderr
    assert french in result.stdout
    assert invoice["debit_date_moved_reason"] not in result.stdout
    assert debit.strftime("%d/%m/%Y") in result.stdout
    listed = run_cli("invoices", "-o", "json", env_vars=FR)
    by_id = {row["id"]: row for row in listed.json}
    assert by_id[invoice_id]["debit_date_moved_reason"] == invoice["debit_date_moved_reason"]


def test_explain_debit_mismatch(run_cli: Any) -> None:
    result = run_cli("invoices", "show", DEMO_REFS["debit_mismatch_invoice"], "--explain")
    assert result.exit_code == 0, result.stderr
    assert "€34.99 was debited for a total of €29.99" in result.stdout


def test_show_csv_is_one_row_per_line(run_cli: Any, sandbox: Any) -> None:
    invoice_id = DEMO_REFS["first_invoice"]
    invoice = api_get(sandbox, f"/v1/invoices/{invoice_id}")
    result = run_cli("invoices", "show", invoice_id, "-o", "ndjson")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.lines]
    assert [r["amount_cents"] for r in rows] == [li["amount_cents"] for li in invoice["lines"]]
    assert {r["invoice_id"] for r in rows} == {invoice_id}


def test_show_unknown_invoice_is_exit_4(run_cli: Any) -> None:
    result = run_cli("invoices", "show", "INV-999999999")
    assert result.exit_code == 4
    assert "not found" in result.stderr


def test_french_locale_changes_tables_not_json(run_cli: Any) -> None:
    invoice_id = DEMO_REFS["first_invoice"]
    fr = run_cli("invoices", "show", invoice_id, "--explain", env_vars=FR)
    assert fr.exit_code == 0, fr.stderr
    assert "93,50 €" in fr.stdout and "02/02/2026" in fr.stdout
    for args in (
        ("invoices", "-o", "json"),
        ("invoices", "show", invoice_id, "-o", "json"),
        ("invoices", "-o", "csv"),
    ):
        assert run_cli(*args, env_vars=FR).stdout_bytes == run_cli(*args).stdout_bytes


# --- download -----------------------------------------------------------------------------------


def _files(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


def test_download_to_the_default_file(
    run_cli: Any, sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    invoice_id = DEMO_REFS["first_invoice"]
    result = run_cli("invoices", "download", invoice_id)
    assert result.exit_code == 0, result.stderr
    pdf = work / f"{invoice_id}.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(data) == len(api_get(sandbox, f"/v1/invoices/{invoice_id}/pdf"))
    assert _files(work) == [pdf.name]  # no temporary file left
    assert result.stdout == "" and str(pdf.name) in result.stderr


def test_download_refuses_to_overwrite_without_force(run_cli: Any, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    dest = work / "invoice.pdf"
    dest.write_bytes(b"keep me")
    invoice_id = DEMO_REFS["latest_invoice"]
    result = run_cli("invoices", "download", invoice_id, "--to", str(dest))
    assert result.exit_code == 2
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert dest.read_bytes() == b"keep me"
    forced = run_cli("invoices", "download", invoice_id, "--to", str(dest), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert dest.read_bytes().startswith(b"%PDF-")
    assert _files(work) == ["invoice.pdf"]


def test_download_into_a_directory(run_cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "pdfs"
    target.mkdir()
    invoice_id = DEMO_REFS["unpaid_invoice"]
    result = run_cli("invoices", "download", invoice_id, "--to", str(target))
    assert result.exit_code == 0, result.stderr
    assert (target / f"{invoice_id}.pdf").read_bytes().startswith(b"%PDF-")


def test_download_to_stdout_when_piped(run_cli: Any, sandbox: Any) -> None:
    invoice_id = DEMO_REFS["first_invoice"]
    result = run_cli("invoices", "download", invoice_id, "--to", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(b"%PDF-")
    assert len(result.stdout_bytes) == len(api_get(sandbox, f"/v1/invoices/{invoice_id}/pdf"))


def test_download_to_a_terminal_is_refused(run_cli: Any) -> None:
    result = run_cli("invoices", "download", DEMO_REFS["first_invoice"], "--to", "-", tty=True)
    assert result.exit_code == 2
    assert "redirect" in result.stderr
    assert result.stdout_bytes == b""


def test_download_unknown_invoice_leaves_nothing(run_cli: Any, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    result = run_cli("invoices", "download", "INV-999999999", "--to", str(work / "x.pdf"))
    assert result.exit_code == 4
    assert _files(work) == []


def test_download_into_a_missing_directory(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli(
        "invoices", "download", DEMO_REFS["first_invoice"], "--to", str(tmp_path / "no" / "x.pdf")
    )
    assert result.exit_code == 2
    assert "no such directory" in result.stderr


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


def test_french_headers_and_explanation(run_cli: Any) -> None:
    fr = run_cli("invoices", "show", DEMO_REFS["first_invoice"], "--explain", env_vars=FR)
    assert fr.exit_code == 0, fr.stderr
    assert french("How this invoice is made up:") in fr.stdout
    assert "How this invoice is made up:" not in fr.stdout
    listed = run_cli("invoices", "--status", "unpaid", env_vars=FR)
    assert french("unpaid") in listed.stdout and french("invoice") in listed.lines[0]
