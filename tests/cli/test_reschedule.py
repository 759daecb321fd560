"""`moncompte reschedule CONTRACT INSTALMENT (--to DATE | --by DAYS)` against the sandbox."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.seed import DEMO_REFS

PLAN, NUMBER = DEMO_REFS["reschedulable_instalment"]
PARTWORK = DEMO_REFS["partwork_contract"]
FR = {"LANG": "fr_FR.UTF-8"}


def api_get(box: Any, path: str) -> Any:
    response = httpx.get(
        box.url + path, headers={"Authorization": f"Bearer {box.customer_token}"}, timeout=10
    )
    response.raise_for_status()
    return response.json()


def schedule(box: Any, contract: str = PLAN) -> Any:
    return api_get(box, f"/v1/contracts/{contract}/schedule")


def instalment(box: Any, number: int, contract: str = PLAN) -> Any:
    return next(i for i in schedule(box, contract)["instalments"] if i["number"] == number)


def fresh_env(box: Any) -> dict[str, str]:
    return {"MONCOMPTE_API_URL": box.url, "MONCOMPTE_TOKEN": box.customer_token}


# --- allowed ------------------------------------------------------------------------------------


def test_reschedule_changes_the_schedule(run_cli: Any, fresh_sandbox: Any) -> None:
    before = instalment(fresh_sandbox, NUMBER)
    result = run_cli(
        "reschedule",
        PLAN,
        str(NUMBER),
        "--to",
        "2026-12-28",
        "--yes",
        "-o",
        "json",
        env_vars=fresh_env(fresh_sandbox),
    )
    assert result.exit_code == 0, result.stderr
    assert result.json["to"] == "2026-12-28" and result.json["dry_run"] is False
    assert result.json["due_date"] == before["due_date"]
    after = instalment(fresh_sandbox, NUMBER)
    assert after["due_date"] == "2026-12-28"
    assert after["status"] == "rescheduled"
    assert after["rescheduled_count"] == before["rescheduled_count"] + 1
    assert after["original_due_date"] == before["original_due_date"]
    assert result.json["debit_date"] == after["debit_date"]


def test_reschedule_by_days_in_a_table(run_cli: Any, fresh_sandbox: Any) -> None:
    before = instalment(fresh_sandbox, NUMBER)
    result = run_cli(
        "reschedule", PLAN, str(NUMBER), "--by", "10", "--yes",
        env_vars=fresh_env(fresh_sandbox),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert before["due_date"] == "2026-12-19"
    assert instalment(fresh_sandbox, NUMBER)["due_date"] == "2026-12-29"
    assert "2026-12-29" in result.stdout and "postponed" in result.stderr
    # the options were shown before the change
    assert "earliest new date" in result.stderr or "earliest new date" in result.stdout


def test_dry_run_shows_the_options_and_changes_nothing(run_cli: Any, fresh_sandbox: Any) -> None:
    before = schedule(fresh_sandbox)
    options = api_get(
        fresh_sandbox, f"/v1/contracts/{PLAN}/instalments/{NUMBER}/reschedule-options"
    )
    result = run_cli(
        "reschedule", PLAN, str(NUMBER), "--by", "5", "--dry-run", "-o", "json",
        env_vars=fresh_env(fresh_sandbox),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    preview = result.json
    assert preview["dry_run"] is True
    assert preview["earliest"] == options["earliest"]
    assert preview["latest"] == options["latest"]
    assert preview["suggested"] == options["suggested"]
    assert preview["to"] == "2026-12-24"
    assert schedule(fresh_sandbox) == before
    table = run_cli(
        "reschedule", PLAN, str(NUMBER), "--to", "2027-01-04", "--dry-run",
        env_vars=fresh_env(fresh_sandbox),
    )  # fmt: skip
    assert table.exit_code == 0
    for word in ("earliest new date", "latest new date", "suggested dates", "new due date"):
        assert word in table.stdout
    assert options["latest"] in table.stdout
    assert schedule(fresh_sandbox) == before


# --- refused: exit 5 naming the condition -------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "rule", "words"),
    [
        ("already_due_instalment", "reschedule.not_yet_due", "already paid"),
        ("failed_instalment", "reschedule.not_failed", "failed"),
        ("rescheduled_instalment", "reschedule.per_instalment_limit", "already been postponed"),
    ],
)
def test_refused_by_the_options(
    run_cli: Any, sandbox: Any, ref: str, rule: str, words: str
) -> None:
    contract, number = DEMO_REFS[ref]
    before = schedule(sandbox, contract)
    for extra in (["--dry-run"], ["--yes"]):
        result = run_cli("reschedule", contract, str(number), "--by", "3", *extra)
        assert result.exit_code == 5, result.stderr
        assert rule in result.stderr and words in result.stderr
    assert schedule(sandbox, contract) == before


def test_refused_too_far(run_cli: Any, sandbox: Any) -> None:
    before = schedule(sandbox)
    result = run_cli("reschedule", PLAN, str(NUMBER), "--by", "45", "--yes")
    assert result.exit_code == 5
    assert "reschedule.max_delay" in result.stderr and "more than 30 days" in result.stderr
    earlier = run_cli("reschedule", PLAN, str(NUMBER), "--to", "2026-12-01", "--dry-run")
    assert earlier.exit_code == 5
    assert "reschedule.later_date" in earlier.stderr
    assert schedule(sandbox) == before


def test_refusals_in_french(run_cli: Any, sandbox: Any) -> None:
    """Under a French locale the domain's refusal is French, dates written out in French,
    whether the server gave it in the options or the CLI found it for a date."""
    contract, number = DEMO_REFS["already_due_instalment"]
    paid = run_cli("reschedule", contract, str(number), "--by", "3", "--dry-run", env_vars=FR)
    assert paid.exit_code == 5, paid.stderr
    assert "reschedule.not_yet_due" in paid.stderr
    assert "est déjà payée" in paid.stderr and "already paid" not in paid.stderr
    far = run_cli("reschedule", PLAN, str(NUMBER), "--by", "45", "--dry-run", env_vars=FR)
    assert far.exit_code == 5, far.stderr
    assert "reschedule.max_delay" in far.stderr
    assert "tombe plus de 30 jours" in far.stderr and "more than" not in far.stderr
    months = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
              "septembre", "octobre", "novembre", "décembre")  # fmt: skip
    assert any(f" {month} 20" in far.stderr for month in months), far.stderr
    english = run_cli("reschedule", PLAN, str(NUMBER), "--by", "45", "--dry-run")
    assert "is more than 30 days after the original due date" in english.stderr


def test_refused_plan_limit_reached(run_cli: Any, fresh_sandbox: Any) -> None:
    env = fresh_env(fresh_sandbox)
    due = [i for i in schedule(fresh_sandbox, PARTWORK)["instalments"] if i["status"] == "due"]
    first, second, third = (str(i["number"]) for i in due[:3])
    for number in (first, second):
        ok = run_cli("reschedule", PARTWORK, number, "--by", "2", "--yes", env_vars=env)
        assert ok.exit_code == 0, ok.stderr
    before = schedule(fresh_sandbox, PARTWORK)
    refused = run_cli("reschedule", PARTWORK, third, "--by", "2", "--yes", env_vars=env)
    assert refused.exit_code == 5
    assert "reschedule.per_plan_limit" in refused.stderr and "at most 2" in refused.stderr
    assert schedule(fresh_sandbox, PARTWORK) == before


# --- usage --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2026-12-32", "28/12/2026", "next week", "20261228"])
def test_bad_date_is_exit_2(run_cli: Any, value: str) -> None:
    result = run_cli("reschedule", PLAN, str(NUMBER), "--to", value, "--dry-run")
    assert result.exit_code == 2
    assert "--to" in result.stderr and "YYYY-MM-DD" in result.stderr


def test_to_or_by_exactly_one(run_cli: Any) -> None:
    neither = run_cli("reschedule", PLAN, str(NUMBER), "--dry-run")
    both = run_cli("reschedule", PLAN, str(NUMBER), "--to", "2026-12-28", "--by", "3", "--dry-run")
    assert neither.exit_code == both.exit_code == 2
    assert "--to" in neither.stderr and "--by" in neither.stderr
    assert run_cli("reschedule", PLAN, str(NUMBER), "--by", "0").exit_code == 2


def test_no_terminal_and_no_yes_is_exit_2(run_cli: Any, sandbox: Any) -> None:
    before = schedule(sandbox)
    result = run_cli("reschedule", PLAN, str(NUMBER), "--by", "5")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert schedule(sandbox) == before


def test_declined_on_a_terminal(run_cli: Any, fresh_sandbox: Any) -> None:
    before = schedule(fresh_sandbox)
    result = run_cli(
        "reschedule", PLAN, str(NUMBER), "--by", "5", tty=True,
        env_vars=fresh_env(fresh_sandbox),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Postpone this instalment?" in result.stderr and "not postponed" in result.stderr
    assert schedule(fresh_sandbox) == before


def test_unknown_instalment_or_contract_is_exit_4(run_cli: Any) -> None:
    missing = run_cli("reschedule", PLAN, "99", "--by", "3", "--dry-run")
    assert missing.exit_code == 4 and "1, 2, 3, 4" in missing.stderr
    assert run_cli("reschedule", "CT-9999999", "1", "--by", "3", "--dry-run").exit_code == 4


def test_french_locale_changes_tables_not_json(run_cli: Any) -> None:
    args = ("reschedule", PLAN, str(NUMBER), "--by", "5", "--dry-run")
    fr = run_cli(*args, env_vars=FR)
    assert fr.exit_code == 0, fr.stderr
    assert "24/12/2026" in fr.stdout and "149,90 €" in fr.stdout
    assert run_cli(*args, "-o", "json", env_vars=FR).stdout_bytes == (
        run_cli(*args, "-o", "json").stdout_bytes
    )


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
    args = ("reschedule", PLAN, str(NUMBER), "--by", "5", "--dry-run")
    fr = run_cli(*args, env_vars=FR)
    assert fr.exit_code == 0, fr.stderr
    assert french("new due date") in fr.stdout and "new due date" not in fr.stdout
