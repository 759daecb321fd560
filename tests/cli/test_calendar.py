"""`moncompte calendar` against the real sandbox server: the iCalendar parsed back with the
icalendar library and checked against what `schedule`, `invoices` and `status` show."""

from __future__ import annotations

import os
import stat
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest

from domain.calendar import add_months, debit_date, invoice_date

FR = {"LANG": "fr_FR.UTF-8"}


def api_get(sandbox: Any, path: str) -> Any:
    response = httpx.get(
        sandbox.url + path,
        headers={"Authorization": f"Bearer {sandbox.customer_token}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def parse(data: bytes) -> list[Any]:
    cal = icalendar.Calendar.from_ical(data)
    assert cal["VERSION"] == "2.0" and cal.get("PRODID")
    return list(cal.walk("VEVENT"))


def calendar(run_cli: Any, *args: str, env_vars: dict[str, str] | None = None) -> list[Any]:
    result = run_cli("calendar", *args, env_vars=env_vars)
    assert result.exit_code == 0, result.stderr
    return parse(result.stdout_bytes)


def day(event: Any) -> date:
    value = event.decoded("DTSTART")
    assert isinstance(value, date)
    return value


def by_uid(events: list[Any]) -> dict[str, Any]:
    return {str(e["UID"]): e for e in events}


def test_events_are_valid_dated_and_in_the_window(run_cli: Any, sandbox: Any) -> None:
    events = calendar(run_cli, "--to", "-")
    assert events
    end = add_months(sandbox.today, 3)
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)
    for e in events:
        assert sandbox.today <= day(e) <= end
        assert (e.decoded("DTEND") - day(e)).days == 1  # all-day
        assert e.get("DTSTAMP") is not None and int(e["SEQUENCE"]) >= 0
        assert str(e["UID"]).endswith("@moncompte")
        assert str(e["SUMMARY"])


def test_uids_are_stable_across_runs(run_cli: Any) -> None:
    first = calendar(run_cli)
    second = calendar(run_cli)
    assert [str(e["UID"]) for e in first] == [str(e["UID"]) for e in second]
    assert {str(e["UID"]): day(e) for e in first} == {str(e["UID"]): day(e) for e in second}


def test_instalments_are_the_schedule_dates(run_cli: Any, sandbox: Any) -> None:
    events = by_uid(calendar(run_cli, "--months", "6"))
    end = add_months(sandbox.today, 6)
    schedules = run_cli("schedule", "-o", "json").json
    expected = {
        f"instalment-{p['contract_id']}-{i['number']}@moncompte": (
            i["debit_date"],
            i["rescheduled_count"],
        )
        for p in schedules
        for i in p["instalments"]
        if i["status"] in ("due", "rescheduled")
        and sandbox.today.isoformat() <= i["debit_date"] <= end.isoformat()
    }
    assert expected
    got = {
        uid: (day(e).isoformat(), int(e["SEQUENCE"]))
        for uid, e in events.items()
        if uid.startswith("instalment-")
    }
    assert got == expected
    # A rescheduled instalment is a revision of its event.
    assert any(seq > 0 for _, seq in expected.values())


def test_debits_and_invoice_dates_follow_the_billing_rule(run_cli: Any, sandbox: Any) -> None:
    events = by_uid(calendar(run_cli, "--months", "4"))
    # The invoices command shows the same rule on every issued invoice.
    for inv in run_cli("invoices", "list", "-o", "json").json:
        issued = date.fromisoformat(inv["issue_date"])
        assert inv["debit_date"] == debit_date(issued.year, issued.month).isoformat()
    status = run_cli("status", "-o", "json").json
    internet = [
        c for c in status["contracts"] if c["kind"] == "internet" and c["status"] == "active"
    ]
    assert internet
    for c in internet:
        debits = sorted(
            (day(e), e) for uid, e in events.items() if uid.startswith(f"debit-{c['id']}-")
        )
        assert debits, c["id"]
        assert debits[0][0].isoformat() == c["next_debit"]["date"]
        for when, e in debits:
            assert when == debit_date(when.year, when.month)
            month = str(e["UID"]).split(f"debit-{c['id']}-")[1].split("@")[0]
            assert month == f"{when:%Y-%m}"
            invoice = events.get(f"invoice-{c['id']}-{month}@moncompte")
            if invoice is not None:
                assert day(invoice) == invoice_date(when.year, when.month)


def test_deadlines_equipment_and_mediator(run_cli: Any, sandbox: Any) -> None:
    events = by_uid(calendar(run_cli, "--months", "12"))
    status = run_cli("status", "-o", "json").json
    returns = [
        (c["id"], item)
        for c in status["contracts"]
        if c["equipment_return"]
        for item in c["equipment_return"]["items"]
    ]
    assert returns
    for cid, item in returns:
        e = events[f"return-{cid}-{item['serial']}@moncompte"]
        assert day(e).isoformat() == item["deadline"]
        assert item["reference"].startswith("RM-") and item["reference"] in str(e["SUMMARY"])
    for claim in status["claims"]:
        if claim["next_step"] in ("escalate", "reply_or_escalate"):
            e = events[f"mediator-last-day-{claim['id']}@moncompte"]
            assert day(e).isoformat() == claim["mediator_last_day"]


def test_french_summaries(run_cli: Any) -> None:
    english = by_uid(calendar(run_cli))
    french = by_uid(calendar(run_cli, env_vars=FR))
    assert set(english) == set(french)
    instalment = next(uid for uid in french if uid.startswith("instalment-"))
    assert str(french[instalment]["SUMMARY"]).startswith("Échéance ")
    assert "€" in str(french[instalment]["SUMMARY"]).replace("\u00a0", " ")
    assert any(str(french[u]["SUMMARY"]) != str(english[u]["SUMMARY"]) for u in french)


def test_to_a_file_is_the_same_calendar(run_cli: Any, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "compte.ics"
    result = run_cli("calendar", "--to", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert str(target) in result.stderr
    from_file = by_uid(parse(target.read_bytes()))
    assert {u: day(e) for u, e in from_file.items()} == {
        u: day(e) for u, e in by_uid(calendar(run_cli)).items()
    }
    assert list(folder.iterdir()) == [target]  # no temporary file left
    # Writing again replaces the file (a calendar is regenerated, same UIDs).
    again = run_cli("calendar", "--to", str(target), "--months", "1")
    assert again.exit_code == 0, again.stderr
    assert len(parse(target.read_bytes())) < len(from_file)


@pytest.mark.parametrize("value", ["0", "-1", "abc", "25", "99999999999999999999"])
def test_bad_months_is_a_usage_error(run_cli: Any, value: str) -> None:
    result = run_cli("calendar", f"--months={value}")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and "--months" in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_destination_leaves_nothing(run_cli: Any, tmp_path: Path) -> None:
    missing = run_cli("calendar", "--to", str(tmp_path / "nope" / "x.ics"))
    assert missing.exit_code == 2 and "no such directory" in missing.stderr
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        # root writes anywhere: then a directory no one can create files in (/proc).
        target = locked / "x.ics" if not os.access(locked, os.W_OK) else Path("/proc/x.ics")
        result = run_cli("calendar", "--to", str(target))
        assert result.exit_code == 2
        assert "cannot write" in result.stderr and result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1
        assert not target.exists() and list(locked.iterdir()) == []
    finally:
        locked.chmod(stat.S_IRWXU)
    directory = run_cli("calendar", "--to", str(tmp_path))
    assert directory.exit_code == 2 and "directory" in directory.stderr


def test_staff_customer_calendar(run_cli: Any, sandbox: Any) -> None:
    own = calendar(run_cli)
    staff = calendar(
        run_cli, "--customer", "C0000001", env_vars={"MONCOMPTE_TOKEN": sandbox.staff_token}
    )
    assert [str(e["UID"]) for e in staff] == [str(e["UID"]) for e in own]
    clean = calendar(run_cli, env_vars={"MONCOMPTE_TOKEN": sandbox.clean_token})
    assert clean and not {str(e["UID"]) for e in clean} & {str(e["UID"]) for e in own}


def test_server_down_is_exit_6_and_writes_nothing(run_cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "x.ics"
    result = run_cli(
        "calendar", "--to", str(target), env_vars={"MONCOMPTE_API_URL": "http://127.0.0.1:9"}
    )
    assert result.exit_code == 6
    assert not target.exists()
