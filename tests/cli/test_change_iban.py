"""`moncompte change-iban IBAN|-` against the real sandbox server.

The invalid corpus is the domain's own (tests/unit/test_iban.py): every entry must be
refused locally with exit 2 naming the failed check, and no output may contain the IBAN.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.iban import first_debit_on_new_iban, format_iban, mask_iban, validate_iban
from tests.conftest import TODAY
from tests.unit.test_iban import INVALID, VALID_SEPA

FR = {"LANG": "fr_FR.UTF-8"}
NEW_IBAN = "fr76 3000 6000 0112 3456 7890 189"


def payment_method(box: Any) -> Any:
    response = httpx.get(
        box.url + "/v1/payment-method",
        headers={"Authorization": f"Bearer {box.customer_token}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def fresh_env(box: Any) -> dict[str, str]:
    return {"MONCOMPTE_API_URL": box.url, "MONCOMPTE_TOKEN": box.customer_token}


def assert_not_leaked(result: Any, text: str) -> None:
    """Neither the IBAN as typed nor its compact or grouped forms appear anywhere."""
    shown = (result.stdout + result.stderr).upper()
    compact = "".join(text.split()).upper()
    forms = {text.strip().upper(), compact}
    if compact.isascii() and compact.isalnum():
        forms.add(format_iban(compact))
    for form in forms:
        if len(form.replace(" ", "")) >= 8:
            assert form not in shown, f"the IBAN was shown: {form[:12]}…"


# --- local validation ---------------------------------------------------------------------------


def test_the_corpus_is_large_enough() -> None:
    assert len(INVALID) >= 40


@pytest.mark.parametrize(("text", "check"), INVALID, ids=lambda v: repr(v)[:30])
def test_invalid_iban_is_exit_2_naming_the_check(run_cli: Any, text: str, check: str) -> None:
    result = run_cli("change-iban", text, "--dry-run")
    assert result.exit_code == 2, result.stderr
    assert f"({check} check)" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert_not_leaked(result, text)


@pytest.mark.parametrize(("text", "check"), INVALID[::7], ids=lambda v: repr(v)[:30])
def test_invalid_iban_verbose_and_yes_still_never_shown(
    run_cli: Any, text: str, check: str
) -> None:
    result = run_cli("change-iban", text, "--yes", "-v", "-o", "json")
    assert result.exit_code == 2
    assert f"({check} check)" in result.stderr
    assert_not_leaked(result, text)


def test_invalid_iban_from_stdin(run_cli: Any) -> None:
    text = "FR76 3000 6000 0112 3456 7890 185"  # wrong checksum
    result = run_cli("change-iban", "-", "--dry-run", stdin=text + "\n")
    assert result.exit_code == 2
    assert "(checksum check)" in result.stderr
    assert_not_leaked(result, text)


# --- dry run ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", VALID_SEPA[::4], ids=lambda v: v.strip()[:4])
def test_valid_ibans_with_spaces_and_lowercase_dry_run(
    run_cli: Any, sandbox: Any, text: str
) -> None:
    before = payment_method(sandbox)
    result = run_cli("change-iban", text, "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.stderr
    preview = result.json
    assert preview == {
        "previous_iban_masked": before["iban_masked"],
        "iban_masked": mask_iban(validate_iban(text)),
        "mandate_reference": before["mandate_reference"],
        "received_on": TODAY.isoformat(),
        "first_debit_on": first_debit_on_new_iban(TODAY).isoformat(),
        "dry_run": True,
    }
    assert_not_leaked(result, text)
    assert payment_method(sandbox) == before  # nothing changed


def test_dry_run_table(run_cli: Any, sandbox: Any) -> None:
    before = payment_method(sandbox)
    result = run_cli("change-iban", NEW_IBAN, "--dry-run")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert before["iban_masked"] in out and mask_iban(NEW_IBAN) in out
    assert "mandate reference (kept)" in out and before["mandate_reference"] in out
    assert "first debit on the new IBAN" in out and "2026-12-07" in out
    assert "nothing was changed" in result.stderr
    assert_not_leaked(result, NEW_IBAN)


def test_iban_from_stdin(run_cli: Any) -> None:
    result = run_cli("change-iban", "-", "--dry-run", "-o", "json", stdin=NEW_IBAN + "\n")
    assert result.exit_code == 0, result.stderr
    assert result.json["iban_masked"] == "FR76 **** **** **** **** ***0 189"
    assert_not_leaked(result, NEW_IBAN)


def test_empty_stdin_is_the_empty_check(run_cli: Any) -> None:
    result = run_cli("change-iban", "-", "--dry-run", stdin="")
    assert result.exit_code == 2
    assert "(empty check)" in result.stderr


# --- confirmation -------------------------------------------------------------------------------


def test_no_terminal_and_no_yes_is_exit_2_naming_yes(run_cli: Any, sandbox: Any) -> None:
    before = payment_method(sandbox)
    result = run_cli("change-iban", NEW_IBAN)
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert payment_method(sandbox) == before
    assert_not_leaked(result, NEW_IBAN)


def test_declined_at_the_prompt_changes_nothing(run_cli: Any, fresh_sandbox: Any) -> None:
    before = payment_method(fresh_sandbox)
    # A terminal whose input ends at once: end of input is a "no".
    result = run_cli("change-iban", NEW_IBAN, tty=True, env_vars=fresh_env(fresh_sandbox))
    assert result.exit_code == 2
    assert "not changed" in result.stderr
    assert payment_method(fresh_sandbox) == before


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_on_terminal(
    args: list[str], answer: str, box: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    """The CLI with stdin and stderr on a (fake) terminal that types `answer`."""
    from cli.app import main

    for key, value in {
        **fresh_env(box),
        "MONCOMPTE_CONFIG_DIR": str(tmp_path / "config"),
        "MONCOMPTE_TODAY": TODAY.isoformat(),
        "LANG": "C.UTF-8",
    }.items():
        monkeypatch.setenv(key, value)
    out, err = io.StringIO(), _Tty()
    code = main(args, streams=(_Tty(answer), out, err))
    return code, out.getvalue(), err.getvalue()


def test_confirmed_at_the_prompt(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = payment_method(fresh_sandbox)
    code, out, err = run_on_terminal(
        ["change-iban", NEW_IBAN], "oui\n", fresh_sandbox, tmp_path, monkeypatch
    )
    assert code == 0, err
    assert "Change the IBAN? [y/N]" in err
    # the preview came before the question
    assert err.index(before["iban_masked"]) < err.index("Change the IBAN?")
    after = payment_method(fresh_sandbox)
    assert after["iban_masked"] == mask_iban(NEW_IBAN)
    assert after["mandate_reference"] == before["mandate_reference"]
    assert format_iban(NEW_IBAN) not in (out + err).upper()


# --- the real change ----------------------------------------------------------------------------


def test_change_with_yes(run_cli: Any, fresh_sandbox: Any) -> None:
    before = payment_method(fresh_sandbox)
    result = run_cli(
        "change-iban", NEW_IBAN, "--yes", "-o", "json", "-v", env_vars=fresh_env(fresh_sandbox)
    )
    assert result.exit_code == 0, result.stderr
    answer = result.json
    assert answer == {
        "previous_iban_masked": before["iban_masked"],
        "iban_masked": "FR76 **** **** **** **** ***0 189",
        "mandate_reference": before["mandate_reference"],
        "received_on": TODAY.isoformat(),
        "first_debit_on": first_debit_on_new_iban(TODAY).isoformat(),
        "dry_run": False,
    }
    after = payment_method(fresh_sandbox)
    assert after["iban_masked"] == answer["iban_masked"]
    assert after["mandate_reference"] == before["mandate_reference"]
    assert "PUT" in result.stderr  # -v logged the request...
    assert_not_leaked(result, NEW_IBAN)  # ...but never the IBAN


def test_change_table_from_stdin(run_cli: Any, fresh_sandbox: Any) -> None:
    text = VALID_SEPA[0]  # German, lowercase, with spaces
    result = run_cli(
        "change-iban", "-", "--yes", stdin=text + "\n", env_vars=fresh_env(fresh_sandbox)
    )
    assert result.exit_code == 0, result.stderr
    assert mask_iban(text) in result.stdout
    assert "IBAN changed" in result.stderr
    assert payment_method(fresh_sandbox)["iban_masked"] == mask_iban(text)
    assert_not_leaked(result, text)


def test_french_locale_changes_tables_not_json(run_cli: Any) -> None:
    fr = run_cli("change-iban", NEW_IBAN, "--dry-run", env_vars=FR)
    assert fr.exit_code == 0, fr.stderr
    assert "07/12/2026" in fr.stdout and "24/11/2026" in fr.stdout
    args = ("change-iban", NEW_IBAN, "--dry-run", "-o", "json")
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
    fr = run_cli("change-iban", NEW_IBAN, "--dry-run", env_vars=FR)
    assert fr.exit_code == 0, fr.stderr
    assert french("new IBAN") in fr.stdout and french("mandate reference (kept)") in fr.stdout
    assert french("dry run: nothing was changed") in fr.stderr
