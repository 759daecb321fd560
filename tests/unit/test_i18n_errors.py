"""The CLI's own messages in the user's language: the main error paths, run in-process under
LANG=fr_FR.UTF-8 and LANG=C one after the other, must print only texts of the catalogue.

What fails a case:
- under English, a line of stderr (its `error: ` / `hint: ` / `warning: ` prefix taken off)
  that is not the rendering of a catalogue message: a message written without `_()` (or
  an `N_()` template shown without `localized()`) has no msgid to match;
- under French, a line that is not the rendering of a French translation, or that still
  holds the fixed words of an English message (a piece left untranslated);
- a different exit code in the two languages, or not the expected one.

A message is matched as its template with each `{placeholder}` standing for any text, so
a message put together from others (`"; {request} was not carried out"` after a network
error) matches through its outer template. Messages whose fixed text is only punctuation
(`{label}: {value}`) explain nothing and are left out. Whether every msgid has a French
translation at all is tests/unit/test_i18n.py's check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from cli.i18n import LOCALE_DIR

from .cli.helpers import Run, run

FR = "fr_FR.UTF-8"
EN = "C"
CLOSED = "http://127.0.0.1:1"  # nothing listens there: "cannot connect", and no sandbox
PREFIXES = {
    EN: ("error: ", "hint: ", "warning: "),
    FR: ("erreur : ", "conseil : ", "attention : "),
}
_PLACEHOLDER = re.compile(r"\{[a-z_]*(?:![rs])?\}")
_WORD = re.compile(r"[A-Za-zÀ-ÿ]{3,}")


# --- the catalogue as patterns ----------------------------------------------------------------


def _texts(strings: Iterable[Any]) -> Iterator[str]:
    for value in strings:
        if isinstance(value, tuple | list):
            yield from (v for v in value if v)
        elif value:
            yield value


def _pattern(template: str) -> re.Pattern[str] | None:
    """`template` as a regex matching its renderings; None when its fixed text has no word."""
    fixed = _PLACEHOLDER.split(template)
    if not any(_WORD.search(part) for part in fixed):
        return None
    return re.compile("(?s)" + "(.+?)".join(re.escape(part) for part in fixed))


@cache
def _catalog() -> Any:
    with open(LOCALE_DIR / "fr" / "LC_MESSAGES" / "moncompte.po", "rb") as handle:
        return read_po(handle)


@cache
def _patterns(language: str) -> tuple[re.Pattern[str], ...]:
    """The messages of one language: the msgids (English) or their translations."""
    found = []
    for message in _catalog():
        if not message.id or message.context:  # metavars (FILE) are not messages
            continue
        strings = message.id if language == EN else message.string
        for text in _texts([strings]):
            pattern = _pattern(text)
            if pattern is not None:
                found.append(pattern)
    return tuple(found)


@cache
def _english_pieces() -> tuple[str, ...]:
    """Fixed runs of English of our messages, of 3 words or more, that their French
    translation does not share (a URL, a command line, a variable name is not English)."""
    pieces = set()
    for message in _catalog():
        if not message.id or message.context or not message.string:
            continue
        french = " ".join(_texts([message.string]))
        for english in _texts([message.id]):
            for part in _PLACEHOLDER.split(english):
                part = part.strip(" .,;:()'")
                if (
                    len(_WORD.findall(part)) >= 3
                    and part not in french
                    and "moncompte " not in part
                ):
                    pieces.add(part)
    return tuple(sorted(pieces))


def _explained(line: str, language: str) -> bool:
    for prefix in PREFIXES[language]:
        if line.startswith(prefix):
            line = line[len(prefix) :]
            break
    return any(pattern.fullmatch(line) for pattern in _patterns(language))


def _problems(result: Run, language: str) -> list[str]:
    problems = []
    for line in result.stderr.splitlines():
        if not line.strip():
            continue
        if not _explained(line, language):
            problems.append(f"not a catalogue message: {line!r}")
        if language == FR:
            problems += [
                f"English {piece!r} in {line!r}" for piece in _english_pieces() if piece in line
            ]
    return problems


# --- the error paths -------------------------------------------------------------------------

Runner = Callable[[str], Run]


def _offline(tmp: Path, *args: str, stdin: str = "", **environ: str) -> Runner:
    """A run without a server: `MONCOMPTE_API_URL` at a closed port unless given."""

    def go(language: str) -> Run:
        env = {
            "LANG": language,
            "MONCOMPTE_CONFIG_DIR": str(tmp / "config"),
            "MONCOMPTE_API_URL": CLOSED,
            "MONCOMPTE_TODAY": "2026-11-24",
            "TERM": "dumb",
            **environ,
        }
        return run(*args, environ={k: v for k, v in env.items() if v}, stdin=stdin)

    return go


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# (name, exit code, how to build the runner in a temporary directory)
OFFLINE: list[tuple[str, int, Callable[[Path], Runner]]] = [
    ("unknown config key", 2, lambda t: _offline(t, "config", "get", "colour")),
    ("bad config value", 2, lambda t: _offline(t, "config", "set", "timeout", "soon")),
    ("bad config choice", 2, lambda t: _offline(t, "config", "set", "locale", "de")),
    ("bad API URL in config", 2, lambda t: _offline(t, "config", "set", "api_url", "ftp://x")),
    ("bad profile", 2, lambda t: _offline(t, "--profile", "my profile", "whoami")),
    ("bad --output", 2, lambda t: _offline(t, "-o", "yaml", "invoices")),
    ("bad --timeout", 2, lambda t: _offline(t, "--timeout", "0", "whoami")),
    ("empty --columns", 2, lambda t: _offline(t, "--columns", ",", "invoices")),
    ("bad date", 2, lambda t: _offline(t, "invoices", "--since", "2026-13-01")),
    (
        "dates in the wrong order",
        2,
        lambda t: _offline(t, "invoices", "--since", "2026-11-01", "--until", "2026-10-01"),
    ),
    (
        "MONCOMPTE_TODAY not a date",
        2,
        lambda t: _offline(t, "sandbox", "status", MONCOMPTE_TODAY="tomorrow"),
    ),
    (
        "plain http to a remote host",
        2,
        lambda t: _offline(t, "whoami", MONCOMPTE_API_URL="http://api.example"),
    ),
    (
        "unknown sandbox mode",
        2,
        lambda t: _offline(t, "whoami", MONCOMPTE_API_URL="", MONCOMPTE_SANDBOX="docker"),
    ),
    (
        "IBAN: bad checksum",
        2,
        lambda t: _offline(t, "change-iban", "FR7630006000011234567890188", "--dry-run"),
    ),
    (
        "IBAN: outside SEPA",
        2,
        lambda t: _offline(t, "change-iban", "BR1800360305000010009795493C1", "--dry-run"),
    ),
    ("IBAN: empty", 2, lambda t: _offline(t, "change-iban", "-", "--dry-run", stdin="\n")),
    (
        "IBAN: unicode space",
        2,
        lambda t: _offline(t, "change-iban", "FR76 3000\u00a06000 0112 3456 7890 189", "--dry-run"),
    ),
    ("IBAN: length", 2, lambda t: _offline(t, "change-iban", "FR76300060000112", "--dry-run")),
    ("IBAN: country", 2, lambda t: _offline(t, "change-iban", "XX7630006000", "--dry-run")),
    (
        "IBAN: format",
        2,
        lambda t: _offline(t, "change-iban", "FR76300060000112345678901AA", "--dry-run"),
    ),
    ("api: a URL for a path", 2, lambda t: _offline(t, "api", "GET", "https://evil.example/")),
    ("api: an empty ID", 2, lambda t: _offline(t, "api", "GET", "/v1/invoices//pdf")),
    ("api: unknown method", 2, lambda t: _offline(t, "api", "FETCH", "/v1/me")),
    ("api: bad field", 2, lambda t: _offline(t, "api", "POST", "/v1/x", "-f", "novalue")),
    (
        "api: input not JSON",
        2,
        lambda t: _offline(t, "api", "POST", "/v1/x", "--input", "-", stdin="{nope"),
    ),
    (
        "api: input unreadable",
        2,
        lambda t: _offline(t, "api", "POST", "/v1/x", "--input", str(t / "missing.json")),
    ),
    (
        "not logged in, no sandbox",
        3,
        lambda t: _offline(
            t,
            "whoami",
            MONCOMPTE_TOKEN="",
            MONCOMPTE_CONFIG_DIR=str(
                _write(
                    t / "cfg" / "config.toml", '[profiles.default]\ncredential_store = "file"\n'
                ).parent
            ),
        ),
    ),
    (
        "logout, nothing stored",
        0,
        lambda t: _offline(
            t,
            "logout",
            MONCOMPTE_CONFIG_DIR=str(
                _write(
                    t / "cfg" / "config.toml", '[profiles.default]\ncredential_store = "file"\n'
                ).parent
            ),
        ),
    ),
    (
        "logout, token from the environment",
        2,
        lambda t: _offline(t, "logout", MONCOMPTE_TOKEN="mc_at_whatever"),
    ),
    ("API unreachable", 6, lambda t: _offline(t, "whoami", MONCOMPTE_TOKEN="mc_at_whatever")),
    ("login: two sources", 2, lambda t: _offline(t, "login", "--password-stdin", "--with-token")),
    ("login: no terminal", 2, lambda t: _offline(t, "login", "--username", "claire")),
    (
        "login: empty token",
        2,
        lambda t: _offline(t, "login", "--with-token", "--insecure-storage", stdin="\n"),
    ),
    (
        "corrupt config",
        2,
        lambda t: _offline(
            t,
            "config",
            "list",
            MONCOMPTE_CONFIG_DIR=str(_write(t / "bad" / "config.toml", "[[").parent),
        ),
    ),
    (
        "bulk: no such ids file",
        2,
        lambda t: _offline(t, "invoices", "--customers-file", str(t / "ids.txt")),
    ),
    (
        "bulk: ids file is a directory",
        2,
        lambda t: _offline(t, "invoices", "--customers-file", str(t)),
    ),
    ("claim draft: unknown", 4, lambda t: _offline(t, "claim", "send", "DR-20261124-zzzz")),
    ("claim draft: bad ID", 4, lambda t: _offline(t, "claim", "send", "../x")),
    ("claim draft: none to send", 0, lambda t: _offline(t, "claim", "send", "--all")),
    (
        "file cannot be written: no directory",
        2,
        lambda t: _offline(t, "invoices", "download", "INV-1", "--to", str(t / "no" / "x.pdf")),
    ),
    (
        "file cannot be written: not a file",
        2,
        lambda t: _offline(t, "invoices", "download", "INV-1", "--to", "/dev/null", "--force"),
    ),
    (
        "completion: unknown shell",
        2,
        lambda t: _offline(t, "completion", "install", SHELL="/bin/tcsh"),
    ),
]


@pytest.mark.parametrize(("name", "code", "build"), OFFLINE, ids=[c[0] for c in OFFLINE])
def test_error_in_both_languages(
    tmp_path: Path, name: str, code: int, build: Callable[[Path], Runner]
) -> None:
    runner = build(tmp_path)
    english, french = runner(EN), runner(FR)
    assert english.exit_code == code, english.stderr
    assert french.exit_code == code, french.stderr
    assert english.stderr.strip(), "no message at all"
    problems = _problems(english, EN) + _problems(french, FR)
    assert not problems, "\n".join(problems)
    assert english.stderr != french.stderr


# --- against the sandbox --------------------------------------------------------------------


def _both(run_cli: Any, *args: str, **env_vars: str | None) -> tuple[Any, Any]:
    english = run_cli(*args, env_vars={"LANG": EN, **env_vars})
    french = run_cli(*args, env_vars={"LANG": FR, **env_vars})
    return english, french


SERVED: list[tuple[str, int, tuple[str, ...]]] = [
    ("unknown invoice", 4, ("invoices", "show", "INV-0000000")),
    ("unknown contract", 4, ("contracts", "show", "CT-9999999")),
    ("unknown column", 2, ("--columns", "nope", "invoices")),
    ("bulk needs staff", 3, ("invoices", "--customer", "C-1")),
]


@pytest.mark.parametrize(("name", "code", "args"), SERVED, ids=[c[0] for c in SERVED])
def test_served_error_in_both_languages(
    run_cli: Any, name: str, code: int, args: tuple[str, ...]
) -> None:
    english, french = _both(run_cli, *args)
    assert (english.exit_code, french.exit_code) == (code, code), english.stderr + french.stderr
    problems = _problems(english, EN) + _problems(french, FR)
    assert not problems, "\n".join(problems)


def test_bulk_with_bad_ids_and_an_errors_file_that_cannot_be_written(
    run_cli: Any, sandbox: Any, tmp_path: Path
) -> None:
    ids = _write(tmp_path / "ids.txt", "C-0000001\nnot an id!\n")
    staff = {"MONCOMPTE_TOKEN": sandbox.staff_token}
    args = ("customers", "show", "--customers-file", str(ids), "-o", "ndjson")
    english, french = _both(run_cli, *args, **staff)
    assert english.exit_code == french.exit_code == 7
    assert "not a customer id (unexpected characters)" in english.stderr
    assert "pas un identifiant client (caractères inattendus)" in french.stderr
    assert english.stdout == french.stdout  # ndjson: the same machine output
    problems = _problems(english, EN) + _problems(french, FR)
    assert not problems, "\n".join(problems)

    unwritable = (*args, "--errors", str(tmp_path / "no" / "errors.ndjson"))
    english, french = _both(run_cli, *unwritable, **staff)
    assert english.exit_code == french.exit_code == 2
    assert "No such file or directory" in english.stderr
    assert "fichier ou dossier introuvable" in french.stderr
    assert not _problems(english, EN) + _problems(french, FR)


# --- what tables show, and what machine formats keep ------------------------------------------


def test_sandbox_banner_and_whoami_labels(run_cli: Any) -> None:
    english, french = _both(run_cli, "whoami", MONCOMPTE_API_URL=None, MONCOMPTE_TOKEN=None,
                            MONCOMPTE_SANDBOX="inprocess")  # fmt: skip
    assert english.exit_code == french.exit_code == 0, english.stderr + french.stderr
    assert english.stderr.startswith("sandbox: demo data — moncompte login")
    assert french.stderr.startswith("bac à sable : données de démonstration")
    assert "credential store: sandbox (demo, no login needed)" in english.stdout
    assert "stockage de l'identifiant : bac à sable (demo, sans connexion)" in french.stdout
    assert "nom d'utilisateur :" in french.stdout
    assert not _problems(english, EN) + _problems(french, FR)


def test_claim_statuses_in_words_in_tables_only(run_cli: Any) -> None:
    english, french = _both(run_cli, "claim", "list")
    assert "answered" in english.stdout and "billing" in english.stdout
    assert "répondue" in french.stdout and "facturation" in french.stdout
    assert "answered" not in french.stdout and "billing" not in french.stdout
    for fmt in ("json", "csv"):
        en, fr = _both(run_cli, "claim", "list", "-o", fmt)
        assert en.stdout == fr.stdout and "billing" in fr.stdout


def test_credential_store_in_json_stays_english(run_cli: Any) -> None:
    english, french = _both(run_cli, "whoami", "-o", "json")
    assert english.json["credential_store"] == french.json["credential_store"]
    assert english.json["credential_store"] == "environment MONCOMPTE_TOKEN"


def test_config_list_sources_in_words(tmp_path: Path) -> None:
    english, french = (
        _offline(tmp_path, "config", "list", MONCOMPTE_API_URL="")(language)
        for language in (EN, FR)
    )
    assert re.search(r"^output\s+table\s+default$", english.stdout, re.M)
    assert re.search(r"^output\s+table\s+défaut$", french.stdout, re.M)
    assert french.stdout.split()[:3] == ["clé", "valeur", "source"]


# --- the check itself --------------------------------------------------------------------


def test_the_check_catches_a_message_outside_the_catalogue() -> None:
    english = Run(2, "", "error: the frobnicator is unhappy\n")
    french = Run(2, "", "erreur : format de sortie invalide 'yaml' (the frobnicator is unhappy)\n")
    assert _problems(english, EN)
    assert _problems(Run(2, "", "erreur : the frobnicator is unhappy\n"), FR)
    assert not _problems(Run(2, "", "error: invalid output format 'yaml'\n"), EN)
    assert not _problems(Run(2, "", "erreur : format de sortie invalide 'yaml'\n"), FR)
    leaked = Run(2, "", "erreur : impossible de lire x : the credential comes from y\n")
    assert any("English" in p for p in _problems(leaked, FR))
    assert french.stderr  # an unknown reason inside a French template is data, not ours
