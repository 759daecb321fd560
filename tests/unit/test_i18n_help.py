"""Every --help and the usage errors in the user's language: French under a French locale,
English otherwise, with nothing of the other language leaking in.

Runs the CLI in-process (`cli.app.main(argv, env)`) for the root, every command of
cli/app.py's COMMANDS and every subcommand of their Typer groups, under LANG=fr_FR.UTF-8
and LANG=C, one after the other in the same process (so a language left over from the
previous run would show). Whether every message has a French translation at all is
tests/unit/test_i18n.py's check (`scripts/i18n.py check`), which covers the help texts,
the metavars and Typer's texts too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli import i18n, typer_i18n
from cli.app import COMMANDS, build_app

from .cli.helpers import Run, run

FR = "fr_FR.UTF-8"
EN = "C"

# English that must not appear in French output: Typer's and Click's words, our prefixes.
ENGLISH = (
    "Usage:",
    "Options:",
    "Commands:",
    "Arguments:",
    "Show this message",
    "Print the version",
    "[default:",
    "[required]",
    "default:",
    "required]",
    "Error",
    "error:",
    "hint:",
    "warning:",
    "Missing",
    "missing",
    "Invalid",
    "invalid value",
    "No such",
    "no such",
    "Did you mean",
    "Possible options",
    "is not a valid",
    "is not one of",
    "is not in the range",
    "requires an argument",
    "unexpected extra",
    " see '",
    "COMMAND [ARGS]",
)
# French that must not appear in English output.
FRENCH = (
    "Utilisation",
    "Commandes",
    "Affiche cette aide",
    "défaut",
    "obligatoire",
    "erreur :",
    "conseil :",
    "attention :",
    "manquant",
    "inconnue",
    "Vouliez-vous",
    "invalide",
    "COMMANDE",
    "FICHIER",
    " : ",
)


def _paths() -> Iterator[tuple[str, ...]]:
    """() for the root, then every command and subcommand, as argv prefixes."""
    import typer.main

    i18n.activate("en")
    root = typer.main.get_command(build_app())

    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
            if not getattr(sub, "hidden", False):
                yield from walk(sub, (*path, name))

    yield from walk(root, ())


PATHS = list(_paths())


@pytest.fixture()
def cli(tmp_path: Path) -> Any:
    def run_in(language: str, *args: str) -> Run:
        environ = {"LANG": language, "MONCOMPTE_CONFIG_DIR": str(tmp_path), "TERM": "dumb"}
        return run(*args, environ=environ)

    return run_in


def _offending(text: str, words: tuple[str, ...]) -> list[str]:
    return [f"{word!r} in {line!r}" for line in text.splitlines() for word in words if word in line]


def test_the_walk_covers_every_command() -> None:
    top = {path[0] for path in PATHS if path}
    assert top == {entry.name for entry in COMMANDS}
    assert ("invoices", "list") in PATHS and ("claim", "drafts") in PATHS


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "moncompte")
def test_help_in_french(cli: Any, path: tuple[str, ...]) -> None:
    result = cli(FR, *path, "--help")
    assert result.exit_code == 0, result.stderr
    text = result.stdout + result.stderr
    assert text.startswith("Utilisation : moncompte"), text[:200]
    assert "Affiche cette aide et quitte." in text
    assert _offending(text, ENGLISH) == []
    # French punctuation after a space stays on the line of the word before it
    assert not re.search(r"(?m)^\s+[:;?!](\s|$)", text), text


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "moncompte")
def test_help_in_english(cli: Any, path: tuple[str, ...]) -> None:
    result = cli(EN, *path, "--help")
    assert result.exit_code == 0, result.stderr
    text = result.stdout + result.stderr
    assert text.startswith("Usage: moncompte"), text[:200]
    assert "Show this message and exit." in text
    assert _offending(text, FRENCH) == []


def test_a_command_help_is_french_then_english_in_one_process(cli: Any) -> None:
    french = cli(FR, "invoices", "list", "--help").stdout
    english = cli(EN, "invoices", "list", "--help").stdout
    again = cli(FR, "invoices", "list", "--help").stdout
    assert "Émises à cette date ou après." in french and "--since AAAA-MM-JJ" in french
    assert "Issued on or after this date." in english and "--since YYYY-MM-DD" in english
    assert again == french
    assert "Options :" in french and "[défaut : all]" in french
    assert "Options:" in english and "[default: all]" in english


def test_root_help_lists_the_commands_in_french(cli: Any) -> None:
    text = cli(FR, "--help").stdout
    assert "Commandes :" in text
    assert "Factures : lister, afficher, télécharger." in text
    assert "Codes de sortie :" in text


# (argv, what the French error says, what the English one says); all exit 2.
ERRORS = [
    (
        ["invoicez"],
        "erreur : commande inconnue : 'invoicez'. Vouliez-vous dire 'invoices' ?",
        "error: no such command 'invoicez'. Did you mean 'invoices'?",
    ),
    (
        ["invoices", "--lim", "3"],
        "erreur : option inconnue : --lim (options possibles : --limit)",
        "error: no such option: --lim (Possible options: --limit)",
    ),
    (
        ["terminate"],
        "erreur : argument manquant : 'CONTRAT'.",
        "error: missing argument 'CONTRACT'.",
    ),
    (
        ["invoices", "--limit", "0"],
        "erreur : valeur invalide pour '--limit' : 0 n'est pas dans l'intervalle x>=1.",
        "error: invalid value for '--limit': 0 is not in the range x>=1.",
    ),
    (
        ["invoices", "--status", "bogus"],
        "erreur : valeur invalide pour '--status' : 'bogus' ne fait pas partie des choix : "
        "'unpaid', 'paid', 'failed', 'all'.",
        "error: invalid value for '--status': 'bogus' is not one of "
        "'unpaid', 'paid', 'failed', 'all'.",
    ),
    (
        ["reschedule", "CT-1", "x"],
        "erreur : valeur invalide pour 'ÉCHÉANCE' : 'x' n'est pas un nombre entier valide.",
        "error: invalid value for 'INSTALMENT': 'x' is not a valid int range.",
    ),
    (
        ["invoices", "list", "extra"],
        "erreur : argument(s) en trop : extra",
        "error: got unexpected extra argument(s) (extra)",
    ),
    (
        ["invoices", "download", "X", "--to"],
        "erreur : l'option '--to' demande un argument.",
        "error: option '--to' requires an argument.",
    ),
]


@pytest.mark.parametrize(("argv", "french", "english"), ERRORS, ids=lambda a: str(a)[:30])
def test_usage_errors_in_both_languages(
    cli: Any, argv: list[str], french: str, english: str
) -> None:
    fr = cli(FR, *argv)
    assert fr.exit_code == 2 and fr.stdout == ""
    lines = fr.stderr.splitlines()
    assert lines[0] == french
    assert re.fullmatch(r"conseil : voir 'moncompte[\w -]*--help'", lines[1]), lines
    assert _offending(fr.stderr, ENGLISH) == []
    en = cli(EN, *argv)
    assert en.exit_code == 2
    assert en.stderr.splitlines()[0] == english
    assert en.stderr.splitlines()[1].startswith("hint: see 'moncompte")
    assert _offending(en.stderr, FRENCH) == []


def test_a_group_without_its_subcommand_shows_its_help_in_french(cli: Any) -> None:
    result = cli(FR, "claim")
    assert result.exit_code == 2
    assert result.stderr.startswith("Utilisation : moncompte claim [OPTIONS] COMMANDE [ARGS]...")
    assert _offending(result.stderr, ENGLISH) == []


def test_our_own_errors_have_french_prefixes(cli: Any) -> None:
    """A MoncompteError goes through errors.handle: `erreur :` and `conseil :`."""
    result = cli(FR, "invoices", "--since", "2026-13-01")
    assert result.exit_code == 2
    first, second = result.stderr.splitlines()[:2]
    assert first.startswith("erreur : ") and second.startswith("conseil : ")


def test_every_template_is_translated() -> None:
    """The vendored Click's texts that typer_i18n recognises all have a French form (the
    catalogue check says so too; this names the one that lacks it)."""
    i18n.activate("fr")
    try:
        missing = [t for t in typer_i18n.TEMPLATES if i18n.translated(t) == t]
    finally:
        i18n.activate("en")
    assert missing == []


def test_an_unknown_text_stays_as_it_is() -> None:
    i18n.activate("fr")
    try:
        assert typer_i18n.translate_text("Something Typer says one day.") == (
            "Something Typer says one day."
        )
    finally:
        i18n.activate("en")


def test_help_texts_are_extracted_from_the_app() -> None:
    """scripts/i18n.py reads the help from the command tree: a docstring, a `help=` of an
    option, a one-line help of COMMANDS and a metavar are all in the template."""
    from babel.messages.pofile import read_po

    with (i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot").open("rb") as f:
        pot = read_po(f)
    assert pot.get("List invoices, newest first, with a totals row in tables.") is not None
    assert pot.get("Issued on or after this date.") is not None
    assert pot.get(COMMANDS[0].help) is not None
    assert pot.get("FILE", context=i18n.METAVAR) is not None
    assert pot.get("default: {default}") is not None  # Typer's own, from typer/core.py


def test_api_problems_are_worded_in_french() -> None:
    """The CLI's own wording around a server answer (the server's detail stays as sent)."""
    from cli.errors import from_problem

    i18n.activate("fr")
    try:
        refused = from_problem(401, {}, method="GET", url="/v1/me", host="h")
        busy = from_problem(503, {"detail": "maintenance"}, method="GET", url="/", host="h")
    finally:
        i18n.activate("en")
    assert refused.message == "non authentifié : les identifiants ont été refusés"
    assert refused.hint is not None and refused.hint.startswith("lancez 'moncompte login'")
    assert busy.message == "service indisponible sur h : maintenance"
    english = from_problem(401, {}, method="GET", url="/v1/me", host="h")
    assert english.message == "not authenticated: the credentials were refused"
