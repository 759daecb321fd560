"""`moncompte terminate`, through the CLI against the real sandbox server."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import httpx
import pytest

from cli.app import main
from cli.context import Env
from domain.commitment import termination_fee
from tests.conftest import TODAY

INTERNET = "CT-0000001"  # 24-month commitment started at the first connection, box + antenna
TERMINATED = "CT-0000004"


def _mutable(box: Any) -> dict[str, str]:
    return {"MONCOMPTE_API_URL": box.url, "MONCOMPTE_TOKEN": box.customer_token}


def _contract(box: Any, contract_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{box.url}/v1/contracts/{contract_id}",
        headers={"Authorization": f"Bearer {box.customer_token}"},
    )
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run_on_terminal(box: Any, config_dir: Any, *args: str, typed: str) -> tuple[int, str, str]:
    """Run with stdin, stdout and stderr on a terminal, `typed` being what the user types.

    (run_cli makes stdin a pipe as soon as it is given text, so it cannot answer a prompt.)
    """
    env = Env(
        stdin=_Tty(typed),
        stdout=_Tty(),
        stderr=_Tty(),
        environ={
            **_mutable(box),
            "MONCOMPTE_CONFIG_DIR": str(config_dir),
            "MONCOMPTE_TODAY": TODAY.isoformat(),
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
        },
    )
    code = main(list(args), env)
    return code, env.stdout.getvalue(), env.stderr.getvalue()  # type: ignore[attr-defined]


# --- the quote -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "on",
    [
        None,  # today: month 11 of year 1
        "2027-01-16",  # last day of month 12: all 12 months of year 2 at 25 %
        "2027-01-17",  # month 13 has begun: 11 months at 25 %
        "2027-06-01",  # year 2
        "2028-01-16",  # last day of the commitment: nothing left
        "2028-02-01",  # after the commitment
    ],
)
def test_quote_matches_the_domain_fee(run_cli: Any, sandbox: Any, on: str | None) -> None:
    args = ["terminate", INTERNET, "--quote", "-o", "json"] + (["--on", on] if on else [])
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    quote = result.json
    contract = _contract(sandbox, INTERNET)
    expected = termination_fee(
        contract["monthly_price_cents"],
        contract["commitment_months"],
        date.fromisoformat(contract["commitment_start"]),
        date.fromisoformat(on) if on else TODAY,
        provider_fee_cents=contract["termination_fee_cents"],
    )
    assert quote["effective_date"] == expected.effective_date.isoformat()
    for key in (
        "months_remaining_year1",
        "months_remaining_year2",
        "monthly_price_cents",
        "year1_cents",
        "year2_cents",
        "chatel_fee_cents",
        "provider_fee_cents",
        "total_cents",
    ):
        assert quote[key] == getattr(expected, key), key
    assert quote["commitment_end"] == contract["commitment_end"]


def test_quote_formula_on_the_seeded_contract(run_cli: Any, sandbox: Any) -> None:
    """The worked examples of domain.md, redone on the seeded price and start date."""
    contract = _contract(sandbox, INTERNET)
    price, start = contract["monthly_price_cents"], contract["commitment_start"]
    assert (contract["commitment_months"], start) == (24, "2026-01-17")

    def quote(on: str) -> dict[str, Any]:
        result = run_cli("terminate", INTERNET, "--quote", "--on", on, "-o", "json")
        assert result.exit_code == 0, result.stderr
        data: dict[str, Any] = result.json
        return data

    last_day_of_month_12 = quote("2027-01-16")
    assert last_day_of_month_12["year1_cents"] == 0
    assert last_day_of_month_12["year2_cents"] == 12 * price // 4  # 8997 cents, exact
    month_13 = quote("2027-01-17")
    assert month_13["months_remaining_year2"] == 11
    assert month_13["year2_cents"] == (11 * price * 25 + 50) // 100  # 8247.25 -> 8247
    end_of_month_6 = quote("2026-07-16")  # month 6 served: 6 of year 1 left, all of year 2
    assert end_of_month_6["year1_cents"] == 6 * price
    assert end_of_month_6["chatel_fee_cents"] == 6 * price + 12 * price // 4
    assert end_of_month_6["total_cents"] == end_of_month_6["chatel_fee_cents"] + 4900
    after = quote("2028-02-01")
    assert after["chatel_fee_cents"] == 0
    assert after["total_cents"] == contract["termination_fee_cents"]


def test_quote_table_explains_the_fee(run_cli: Any) -> None:
    result = run_cli("terminate", INTERNET, "--quote")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "1 month(s) left × €29.99 = €29.99" in out  # year 1, in full
    assert "12 month(s) left × €29.99 × 25 % = €89.97" in out  # year 2, a quarter
    assert "Provider's termination fee:" in out and "€49.00" in out
    assert "Total:" in out and "€168.96" in out
    assert "Commitment ends on:" in out and "2028-01-16" in out
    assert "RM-20261124-" in out and "by 2026-12-24" in out  # 30 days after the termination
    assert "no longer possible (the period ended on 2026-01-19)" in out
    assert result.stderr == ""


def test_quote_machine_formats_are_raw_and_not_translated(run_cli: Any) -> None:
    english = run_cli("terminate", INTERNET, "--quote", "-o", "json")
    french = run_cli(
        "terminate", INTERNET, "--quote", "-o", "json", env_vars={"LANG": "fr_FR.UTF-8"}
    )
    assert english.stdout == french.stdout
    assert english.json["total_cents"] == 16896
    assert english.json["equipment_return"]["reference"].startswith("RM-")
    csv = run_cli("terminate", INTERNET, "--quote", "-o", "csv")
    header, row = csv.lines
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert values["total_cents"] == "16896" and values["withdrawal_possible"] == "false"
    table_fr = run_cli("terminate", INTERNET, "--quote", env_vars={"LANG": "fr_FR.UTF-8"})
    assert "168,96 €" in table_fr.stdout and "16/01/2028" in table_fr.stdout
    kinds = {item["kind"] for item in english.json["equipment_return"]["items"]}
    assert "antenna" in kinds and "antenna" in english.stdout
    assert "antenne" in table_fr.stdout and "antenna" not in table_fr.stdout


def test_quote_refusals_and_bad_input(run_cli: Any) -> None:
    done = run_cli("terminate", TERMINATED, "--quote")
    assert done.exit_code == 5
    assert "already_terminated" in done.stderr and "termination.once" in done.stderr
    unknown = run_cli("terminate", "CT-9999999", "--quote")
    assert unknown.exit_code == 4
    bad = run_cli("terminate", INTERNET, "--quote", "--on", "31/12/2026")
    assert bad.exit_code == 2 and "--on" in bad.stderr
    both = run_cli("terminate", INTERNET, "--quote", "--withdraw")
    assert both.exit_code == 2


# --- withdrawal ----------------------------------------------------------------------------


def test_withdraw_after_the_period_is_refused_with_the_deadline(run_cli: Any) -> None:
    result = run_cli("terminate", INTERNET, "--withdraw", "--yes")
    assert result.exit_code == 5
    assert "withdrawal.period" in result.stderr and "withdrawal_period_over" in result.stderr
    assert "2026-01-19" in result.stderr  # the deadline: 14 days from the contract
    # without --yes and without a terminal the rule is still the answer, not the flag
    assert run_cli("terminate", INTERNET, "--withdraw").exit_code == 5


# --- termination ---------------------------------------------------------------------------


def test_terminate_with_yes_then_again(run_cli: Any, fresh_sandbox: Any) -> None:
    env = _mutable(fresh_sandbox)
    result = run_cli("terminate", INTERNET, "--yes", env_vars=env)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert f"Contract {INTERNET} is terminated, effective 2026-11-24." in out
    assert "Termination fee: €168.96, on your last invoice of 2026-12-02." in out
    assert "RM-20261124-" in out and "by 2026-12-24" in out
    assert "closed parcel" in out and "price-list value" in out
    assert "BX4G-7731-0429" in out and "ANT-THD-52-118736" in out
    assert "€168.96" in result.stderr  # the quote was shown first, beside the prompt

    contract = _contract(fresh_sandbox, INTERNET)
    assert contract["status"] == "terminated"
    assert contract["terminated_on"] == "2026-11-24"
    assert all(e["return_reference"].startswith("RM-") for e in contract["equipment"])

    again = run_cli("terminate", INTERNET, "--yes", env_vars=env)
    assert again.exit_code == 5
    assert "already_terminated" in again.stderr


def test_terminate_on_a_date_as_json(run_cli: Any, fresh_sandbox: Any) -> None:
    result = run_cli(
        "terminate", INTERNET, "--on", "2026-12-15", "--yes", "-o", "json",
        env_vars=_mutable(fresh_sandbox),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    answer = result.json
    assert answer["contract"]["status"] == "terminated"
    assert answer["quote"]["effective_date"] == "2026-12-15"
    assert answer["equipment_return"]["reference"].startswith("RM-20261215-")
    assert answer["last_invoice_on"] >= "2026-12-15"


def test_terminate_after_typing_the_reference(fresh_sandbox: Any, tmp_path: Any) -> None:
    code, out, err = _run_on_terminal(
        fresh_sandbox, tmp_path, "terminate", INTERNET, typed=f"{INTERNET}\n"
    )
    assert code == 0, err
    assert f"Type the contract reference ({INTERNET}) to terminate it: " in err
    assert err.index("€168.96") < err.index("Type the contract reference")  # quote first
    assert "is terminated" in out
    assert _contract(fresh_sandbox, INTERNET)["status"] == "terminated"


def test_a_wrong_reference_terminates_nothing(fresh_sandbox: Any, tmp_path: Any) -> None:
    code, _out, err = _run_on_terminal(
        fresh_sandbox, tmp_path, "terminate", INTERNET, typed="CT-0000002\n"
    )
    assert code == 2
    assert "nothing was changed" in err
    assert _contract(fresh_sandbox, INTERNET)["status"] == "active"
    # end of input at the prompt aborts like Ctrl-C
    code, _out, _err = _run_on_terminal(fresh_sandbox, tmp_path, "terminate", INTERNET, typed="")
    assert code == 130
    assert _contract(fresh_sandbox, INTERNET)["status"] == "active"


def test_no_terminal_and_no_yes_is_a_usage_error(run_cli: Any, fresh_sandbox: Any) -> None:
    result = run_cli("terminate", INTERNET, env_vars=_mutable(fresh_sandbox))
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert result.stdout == ""
    assert _contract(fresh_sandbox, INTERNET)["status"] == "active"


def test_dry_run_changes_nothing(run_cli: Any, fresh_sandbox: Any) -> None:
    result = run_cli("terminate", INTERNET, "--dry-run", env_vars=_mutable(fresh_sandbox))
    assert result.exit_code == 0, result.stderr
    assert "€168.96" in result.stdout  # what would happen is the data of a dry run
    assert "dry run: nothing was terminated" in result.stderr
    assert _contract(fresh_sandbox, INTERNET)["status"] == "active"
    withdraw = run_cli(
        "terminate", INTERNET, "--withdraw", "--dry-run", env_vars=_mutable(fresh_sandbox)
    )
    assert withdraw.exit_code == 5  # the rule refuses even a dry run
    assert _contract(fresh_sandbox, INTERNET)["status"] == "active"
