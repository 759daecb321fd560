"""`diagnose`, its support file and `status` in French (issue #17), against the sandbox.

Under LANG=fr_FR.UTF-8 a person reads French: findings, remedies, titles and the summary,
with French dates (05/11/2026) and amounts (29,99 €), while -o json keeps the English
sentences byte for byte. The expected French is derived from the demo's own data (its
dates move with the seed), and no fixed English word of our catalogue entries may be left
in the French output; what the API sends (a restriction's reason, a maintenance message,
an offer's name) is shown as sent and left out of that check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.pofile import read_po

from cli import i18n
from tests.conftest import TODAY

FR = {"LANG": "fr_FR.UTF-8"}
EN = {"LANG": "C.UTF-8"}
PO = i18n.LOCALE_DIR / "fr" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
# The catalogue entries of these files are the ones this test holds to "no English left".
OURS = ("domain/diagnose/", "commands/diagnose/", "commands/status/")
# Timings differ from run to run.
MOVING = {"net.latency", "net.tcp", "net.dns", "net.clock"}


def fr_date(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def fr_money(cents: int) -> str:
    euros, rest = divmod(cents, 100)
    return f"{euros:,}".replace(",", "\u202f") + f",{rest:02d} €"


def fr_count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n <= 1 else many}"  # French: singular for 0 and 1


def _catalogue() -> list[tuple[list[str], list[str]]]:
    """(English forms, French forms) of our entries."""
    with PO.open("rb") as f:
        catalog = read_po(f)
    out = []
    for m in catalog:
        if not m.id or not any(loc.startswith(OURS) for loc, _ in m.locations):
            continue
        english = list(m.id) if isinstance(m.id, tuple | list) else [m.id]
        strings = m.string if isinstance(m.string, tuple | list) else [m.string]
        french = [str(s or "") for s in strings]
        out.append((english, french))
    return out


def _pieces(template: str) -> list[str]:
    """The fixed words of a template: what is left between its {placeholders}."""
    return [p.strip(" ,;:()[]-«»") for p in re.split(r"\{[a-z_]+\}", template)]


# Commands named in remedies ("moncompte invoices list --status unpaid") are not words.
_COMMAND = re.compile(r"moncompte(?: --?[\w-]+| [\w.#@/-]+| \"[^\"]*\")*")


def english_left(text: str, sent_as_is: Iterable[str]) -> list[str]:
    """Fixed English words of our templates found in `text`, apart from what the API sent
    and from words the French catalogue itself uses (box, proxy, TLS, ok)."""
    for data in sent_as_is:
        text = text.replace(data, " ")
    text = _COMMAND.sub(" ", text)
    entries = _catalogue()
    french_words = " ".join(s for _, french in entries for s in french)
    found = []
    for english, _french in entries:
        for template in english:
            for piece in _pieces(template):
                words = re.findall(r"[A-Za-z]+", piece)
                if len(words) == 1 and len(words[0]) < 4:
                    continue  # "ok", "id", "h", "ms": symbols or the same in French
                if not words or re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", french_words):
                    continue
                if re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", text):
                    found.append(f"{piece!r} (from {template!r})")
    return sorted(set(found))


@pytest.fixture()
def api_data(run_cli: Any, sandbox: Any) -> dict[str, Any]:
    """What the API itself says about the demo account, to derive the expected French."""

    def get(*args: str) -> Any:
        result = run_cli(*args, "-o", "json", env_vars=EN)
        assert result.exit_code == 0, result.stderr
        return result.json

    status = httpx.get(f"{sandbox.url}/v1/status", timeout=10).json()
    return {
        "invoice": get("invoices", "show", "INV-000000009"),
        "schedule": get("schedule", "CT-0000003"),
        "claim": get("claim", "show", "CL-0000001"),
        "status": status,
    }


def _sent_as_is(english_json: dict[str, Any], status: dict[str, Any]) -> list[str]:
    """The API's own texts embedded in findings: restriction reasons, maintenance
    descriptions, option names."""
    checks = {c["id"]: c for c in english_json["checks"]}
    texts = [
        str(r.get("reason"))
        for r in checks["account.restrictions"]["details"].get("restrictions", [])
    ]
    texts += [str(w.get("description") or "").strip() for w in status.get("maintenance") or []]
    return [t for t in texts if t]


def test_french_table_words_findings_with_french_dates_and_amounts(
    run_cli: Any, api_data: dict[str, Any]
) -> None:
    english = run_cli("diagnose", "-o", "json", env_vars=EN)
    result = run_cli("diagnose", env_vars=FR)
    assert result.exit_code == 8, result.stderr
    out = result.stdout

    invoice = api_data["invoice"]
    days = (TODAY - date.fromisoformat(invoice["debit_date"])).days
    assert (
        f"facture INV-000000009 impayée depuis le {fr_date(invoice['debit_date'])} "
        f"({fr_money(invoice['total_cents'])}, {fr_count(days, 'jour', 'jours')})"
    ) in out
    failed = next(i for i in api_data["schedule"]["instalments"] if i["status"] == "failed")
    assert (
        f"échéance {failed['number']} de CT-0000003 rejetée le {fr_date(failed['due_date'])} "
        f"({fr_money(failed['amount_cents'])})"
    ) in out
    claim = api_data["claim"]
    age = (TODAY - date.fromisoformat(claim["created_on"])).days
    last_day = date.fromisoformat(claim["mediator_until"]).toordinal() - 1
    assert (
        f"CL-0000001 (facturation, {fr_date(claim['created_on'])}) sans réponse depuis "
        f"{fr_count(age, 'jour', 'jours')} : le médiateur peut être saisi jusqu'au "
        f"{date.fromordinal(last_day).strftime('%d/%m/%Y')}"
    ) in out
    # Remedies, and the suggested subject of a new claim, in French too.
    assert "moncompte claim new --category billing" in out  # codes stay codes
    assert '--subject "Montant prélevé pour INV-000000006"' in out
    assert "réglez ce qui est dû, ou demandez le report d'une échéance" in out
    # 53.2 h -> 53,2 h; the outage's times as French timestamps in UTC.
    outage = re.search(r"panne de (\d+,\d) h du (\d\d/\d\d/\d{4} \d\d:\d\d UTC) au ", out)
    assert outage, out
    for check in english.json["checks"]:
        if check["status"] == "ok" or check["id"] in MOVING:
            continue
        assert check["finding"] not in out, check["id"]  # no English sentence left
    assert english_left(out, _sent_as_is(english.json, api_data["status"])) == []


def test_french_summary_line_and_english_json(run_cli: Any) -> None:
    english = run_cli("diagnose", "-o", "json", env_vars=EN)
    french = run_cli("diagnose", "-o", "json", env_vars=FR)
    # -o json is machine output: the same English sentences, titles and summary.
    keys = ("id", "status", "finding", "remedy", "refs", "details", "title")
    for en, fr in zip(english.json["checks"], french.json["checks"], strict=True):
        if en["id"] not in MOVING:
            assert {k: en[k] for k in keys} == {k: fr[k] for k in keys}
    assert french.json["summary"]["text"] == english.json["summary"]["text"]
    c = english.json["summary"]
    expected = (
        f"{c['ok']} ok, {fr_count(c['warn'], 'avertissement', 'avertissements')}, "
        f"{fr_count(c['fail'], 'échec', 'échecs')}"
    )
    if c["skip"]:
        expected += f", {fr_count(c['skip'], 'non vérifiée', 'non vérifiées')}"
    table = run_cli("diagnose", env_vars=FR)
    assert expected in table.stderr.splitlines()
    assert english.json["summary"]["text"] not in table.stderr
    # And the English table is unchanged: English words, English formats.
    plain = run_cli("diagnose", env_vars=EN)
    assert "unpaid since" in plain.stdout and "€29.99" in plain.stdout
    assert "impayée" not in plain.stdout and "29,99" not in plain.stdout
    assert c["text"] in plain.stderr


def test_french_offline_and_list_checks(run_cli: Any) -> None:
    result = run_cli("diagnose", "--offline", env_vars={**FR, "MONCOMPTE_TOKEN": None})
    assert "hors ligne (--offline) : non vérifié" in result.stdout
    assert "offline (--offline): not checked" not in result.stdout
    listing = run_cli("diagnose", "--list-checks", env_vars=FR)
    assert "fichier de configuration lisible et valide" in listing.stdout
    assert "config file readable and valid" not in listing.stdout
    machine = run_cli("diagnose", "--list-checks", "-o", "json", env_vars=FR)
    assert machine.json[0]["title"] == "config file readable and valid"


def test_french_support_file(run_cli: Any, api_data: dict[str, Any], tmp_path: Path) -> None:
    english = run_cli("diagnose", "-o", "json", env_vars=EN)
    path = tmp_path / "support.md"
    result = run_cli("diagnose", "--report", str(path), env_vars=FR)
    assert result.exit_code == 8
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Fichier pour le support (moncompte diagnose)")
    for heading in ("## Client", "## Ce qui ne va pas", "## Toutes les vérifications"):
        assert heading in text
    assert "- Numéro client : 10000001" in text
    assert "- Téléphone : 09 70 247 247" in text
    invoice = api_data["invoice"]
    assert f"impayée depuis le {fr_date(invoice['debit_date'])}" in text
    assert "  - que faire : " in text
    # Ids, statuses and references stay as they are, for support to search.
    assert "**fail** `account.payments`" in text and "INV-000000009, CT-0000003#2" in text
    assert english_left(text, _sent_as_is(english.json, api_data["status"])) == []
    # The JSON support file keeps the English sentences (machine output).
    path_json = tmp_path / "support.json"
    run_cli("diagnose", "--report", str(path_json), env_vars=FR)
    report = json.loads(path_json.read_text(encoding="utf-8"))
    assert any("unpaid since" in p["finding"] for p in report["problems"])


def test_status_in_french_has_no_english(run_cli: Any, api_data: dict[str, Any]) -> None:
    english = run_cli("diagnose", "-o", "json", env_vars=EN)
    result = run_cli("status", env_vars=FR)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    urgent = out[out.index("Urgent (moncompte diagnose)") :]
    invoice = api_data["invoice"]
    assert (
        f"- account.payments : facture INV-000000009 impayée depuis le "
        f"{fr_date(invoice['debit_date'])} ({fr_money(invoice['total_cents'])}"
    ) in urgent
    assert "unpaid since" not in out and "€" + "29.99" not in out
    assert "antenne ANT-" in out and "antenna" not in out  # the equipment's kind, worded
    assert english_left(out, _sent_as_is(english.json, api_data["status"])) == []
    # -o json keeps the English finding
    machine = run_cli("status", "-o", "json", env_vars=FR)
    payments = next(u for u in machine.json["urgent"] if u["check"] == "account.payments")
    assert payments["finding"].startswith("invoice INV-000000009 unpaid since ")


def test_the_english_check_finds_english(run_cli: Any) -> None:
    """The "no English left" check itself: the English table is full of it."""
    found = english_left(run_cli("diagnose", env_vars=EN).stdout, ())
    assert any("unpaid since" in f for f in found), found
    assert len(found) > 20, found
