"""The French catalogue: complete, compiled, faithful to the placeholders, and picked by locale.

When `test_catalogue_is_complete_and_compiled` fails, a message was added or changed in cli/
or commands/ without the catalogue following: run

    python scripts/i18n.py extract update compile

then translate what is new or fuzzy in cli/locale/fr/LC_MESSAGES/moncompte.po and compile again.
"""

from __future__ import annotations

import fnmatch
import string
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from cli import i18n

ROOT = Path(__file__).resolve().parents[2]
PO = i18n.LOCALE_DIR / "fr" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
MO = PO.with_suffix(".mo")
UPDATE = "python scripts/i18n.py extract update compile"


def test_catalogue_is_complete_and_compiled() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "i18n.py"), "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, (
        "The French catalogue does not match the sources. Run `"
        + UPDATE
        + "`, translate every new or fuzzy message in "
        + str(PO.relative_to(ROOT))
        + " (and drop its `#, fuzzy` line), then compile again.\n\n"
        + result.stdout
        + result.stderr
    )


def _fields(text: str) -> list[str]:
    return sorted(
        f"{name}!{conversion or ''}:{spec or ''}"
        for _, name, spec, conversion in string.Formatter().parse(text)
        if name is not None
    )


def _translations() -> list[tuple[str, str]]:
    with PO.open("rb") as f:
        catalog = read_po(f)
    pairs = []
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        raw = message.string or ""
        strings = [raw] if isinstance(raw, str) else list(raw)
        for i, text in enumerate(strings):
            if text:
                pairs.append((ids[min(i, len(ids) - 1)], text))
    return pairs


def test_the_catalogue_has_translations() -> None:
    assert len(_translations()) > 200


@pytest.mark.parametrize(("msgid", "msgstr"), _translations(), ids=lambda s: s[:40])
def test_translation_keeps_the_placeholders(msgid: str, msgstr: str) -> None:
    assert _fields(msgstr) == _fields(msgid), f"{msgid!r} -> {msgstr!r}"


@pytest.fixture()
def fresh_i18n(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """cli.i18n as at start-up: nothing chosen yet, no locale variable set."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(i18n, "_active", None)
    monkeypatch.setattr(i18n, "_language", "")
    return monkeypatch


def test_french_locale_gives_french(fresh_i18n: pytest.MonkeyPatch) -> None:
    fresh_i18n.setenv("LANG", "fr_FR.UTF-8")
    assert i18n.language() == "fr"
    assert i18n._("Invoices") == "Factures"
    assert i18n._("dry run: nothing was changed") == "simulation : rien n'a été modifié"
    assert i18n._("Schedule of {contract}").format(contract="CT-1") == "Échéancier de CT-1"


def test_c_locale_gives_english(fresh_i18n: pytest.MonkeyPatch) -> None:
    fresh_i18n.setenv("LANG", "C")
    assert i18n.language() == "en"
    assert i18n._("Invoices") == "Invoices"


def test_lc_all_wins_over_lang(fresh_i18n: pytest.MonkeyPatch) -> None:
    fresh_i18n.setenv("LANG", "fr_FR.UTF-8")
    fresh_i18n.setenv("LC_ALL", "en_GB.UTF-8")
    assert i18n._("Invoices") == "Invoices"


def test_activate_switches_language(fresh_i18n: pytest.MonkeyPatch) -> None:
    i18n.activate("fr")
    assert i18n._("Contracts") == "Contrats"
    i18n.activate("en")
    assert i18n._("Contracts") == "Contracts"


def test_unknown_message_falls_back_to_english(fresh_i18n: pytest.MonkeyPatch) -> None:
    i18n.activate("fr")
    assert i18n._("no such message, surely") == "no such message, surely"


def test_compiled_catalogue_ships_with_the_package() -> None:
    """The .mo sits where cli/i18n.py looks, and package-data puts it in wheels."""
    assert MO.is_file()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["cli"]
    inside = MO.relative_to(ROOT / "cli").as_posix()
    assert any(fnmatch.fnmatch(inside, p) for p in patterns), patterns
