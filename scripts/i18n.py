#!/usr/bin/env python3
"""Maintain the French message catalogue of moncompte (gettext domain `moncompte`).

    python scripts/i18n.py extract update compile   # after adding or changing messages
    python scripts/i18n.py check                    # what CI and tests/unit/test_i18n.py run

extract  `_()`, `N_()` and `ngettext()` calls in cli/, commands/, domain/ and server/
         (the server words its problem details from this catalogue too), the help
         texts and metavars of the app (docstrings, `help=`, COMMANDS' one-line helps:
         read from the command tree, as --help shows them) and Typer's own gettext
         messages (extracted from the installed package) -> cli/locale/moncompte.pot
update   merge the .pot into cli/locale/fr/LC_MESSAGES/moncompte.po, keeping translations
         (a changed message comes back fuzzy, with its old translation as a starting point)
compile  the .po -> moncompte.mo beside it (what cli/i18n.py and server/language.py load)
check    exit 1, listing what is wrong: .pot stale against the sources, French messages
         missing, fuzzy or untranslated, placeholders that differ from the English, a .mo
         that does not match the .po, or a `_()` argument that is not a plain string

Files are rewritten only when their messages change (not for a new date or line number),
so running the commands again does not create noise in the history. Needs Babel
(`pip install -e '.[test]'`).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import re
import string
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_file
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the help texts are read from the app itself
    sys.path.insert(0, str(ROOT))
SOURCE_DIRS = ("cli", "commands", "domain", "server")
# Third-party packages whose own gettext messages the user reads ("Options", "[default:
# …]", "No such command"), shown in French through cli.i18n.translate_libraries. An
# upgrade that adds or changes one makes `check` fail until it is translated. (Typer's
# copy of Click has no gettext: its texts are cli/typer_i18n.py's TEMPLATES.)
LIBRARIES = ("typer",)
DOMAIN = "moncompte"
LOCALE_DIR = ROOT / "cli" / "locale"
POT = LOCALE_DIR / f"{DOMAIN}.pot"
LANGUAGES = ("fr",)
KEYWORDS: dict[str, tuple[int, ...] | None] = {"_": None, "ngettext": (1, 2), "N_": None}
COMMENT_TAGS = ("Translators:",)
FIX = (
    "run `python scripts/i18n.py extract update compile`, translate what is missing or "
    "fuzzy in {po} (remove the `#, fuzzy` line once checked), then compile again"
)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    return po_path(language).with_suffix(".mo")


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


# --- sources -------------------------------------------------------------------------------


def source_files() -> list[Path]:
    return sorted(p for d in SOURCE_DIRS for p in (ROOT / d).rglob("*.py"))


def library_files() -> Iterator[tuple[str, Path]]:
    """(name as `typer/core.py`, path) of every module of LIBRARIES, as installed."""
    import importlib.util

    for library in LIBRARIES:
        spec = importlib.util.find_spec(library)
        if spec is None or spec.origin is None:
            continue
        base = Path(spec.origin).parent
        for path in sorted(base.rglob("*.py")):
            yield f"{library}/{path.relative_to(base).as_posix()}", path


def extract_catalog() -> Catalog:
    """Every message of the sources, as a template (no translations)."""
    catalog = new_catalog(None)
    files = [(path.relative_to(ROOT).as_posix(), path) for path in source_files()]
    for name, path in [*files, *library_files()]:
        for lineno, message, comments, context in extract_from_file(
            "python", path, keywords=KEYWORDS, comment_tags=COMMENT_TAGS, strip_comment_tags=True
        ):
            catalog.add(message, None, [(name, lineno)], auto_comments=comments, context=context)
    for name, text, context in help_texts():
        # A help text has no line number: Babel takes None (its stubs say int only).
        location = [(name, None)]
        catalog.add(text, None, location, context=context)  # type: ignore[arg-type]
    return catalog


def help_texts() -> Iterator[tuple[str, str, str | None]]:
    """(file, text, context) for every help text and metavar of the app, from each command
    tree cli/app.py builds (the whole app, the root help's placeholders, a single command's
    run); the file is the module of the command the text belongs to."""
    import typer.main

    from cli import i18n
    from cli.app import COMMANDS, build_app

    i18n.activate("en")
    apps = (build_app(), build_app(stubs=True), build_app([COMMANDS[0].name], documented=False))
    for app in apps:
        for command, _owner, _attr, text, context in i18n.help_texts(typer.main.get_command(app)):
            yield module_file(getattr(command, "callback", None)), text, context


def module_file(callback: object) -> str:
    """The file of the module that defines `callback`, or cli/app.py (Typer's own flags)."""
    module = sys.modules.get(getattr(callback, "__module__", "") or "")
    path = Path(getattr(module, "__file__", "") or "")
    if path.is_absolute() and path.is_relative_to(ROOT):
        return path.relative_to(ROOT).as_posix()
    return "cli/app.py"


def unextractable(extracted: Catalog | None = None) -> list[str]:
    """`_()`/`ngettext()` calls that would stay in English whatever the catalogue says:
    a text that is not a plain string literal (an f-string, a variable), which Babel skips
    silently, or a call Babel does not see at all (inside an f-string, on Python < 3.12)."""
    if extracted is None:
        extracted = extract_catalog()
    seen = {m.id if isinstance(m.id, str) else m.id[0] for m in messages(extracted)}
    problems = []
    for path in source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in KEYWORDS:
                continue
            where = f"{rel(path)}:{node.lineno}: {node.func.id}()"
            count = 2 if node.func.id == "ngettext" else 1
            for arg in node.args[:count]:
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                    problems.append(
                        f"{where} needs a plain string literal, not `{ast.unparse(arg)[:60]}`"
                        " (use {placeholders} and .format() after the call)"
                    )
            first = node.args[0] if node.args else None
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            if literal and isinstance(first, ast.Constant) and first.value not in seen:
                problems.append(
                    f"{where} of {first.value!r} is invisible to the extraction (inside an"
                    ' f-string?): write _("... {id}").format(id=...) instead'
                )
    return problems


# --- catalogues ----------------------------------------------------------------------------


def version() -> str:
    match = re.search(r'__version__ = "([^"]+)"', (ROOT / "cli" / "__init__.py").read_text())
    return match.group(1) if match else "0"


def new_catalog(language: str | None) -> Catalog:
    what = {"fr": "French messages"}.get(language or "", "Messages to translate")
    return Catalog(
        locale=language,
        domain=DOMAIN,
        header_comment=(
            f"# {what} of moncompte (gettext domain `{DOMAIN}`).\n"
            "# Maintained with scripts/i18n.py: extract, update, compile, check."
        ),
        project=DOMAIN,
        version=version(),
        msgid_bugs_address="moncompte maintainers",
        last_translator="moncompte contributors",
        language_team="French" if language == "fr" else "moncompte contributors",
        charset="utf-8",
        fuzzy=False,
    )


def load_po(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, domain=DOMAIN)


def po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    # No line numbers: a message moving down a file must not make the catalogue stale.
    write_po(buffer, catalog, width=100, ignore_obsolete=True, include_lineno=False)
    return buffer.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


Key = tuple[str | tuple[str, ...], str | None]  # (msgid or (singular, plural), context)


def key(message: Message) -> str | tuple[str, ...]:
    return message.id if isinstance(message.id, str) else tuple(message.id)


def messages(catalog: Catalog) -> Iterator[Message]:
    return (m for m in catalog if m.id)


def shape(catalog: Catalog) -> dict[Key, tuple[object, ...]]:
    """What matters in a template: ids, context, files, flags, comments (not line numbers)."""
    return {
        (key(m), m.context): (
            tuple(sorted({f for f, _ in m.locations})),
            tuple(sorted(m.flags - {"fuzzy"})),
            tuple(m.auto_comments),
        )
        for m in messages(catalog)
    }


def translations(catalog: Catalog) -> dict[Key, object]:
    """What a .mo carries: translated, non-fuzzy messages."""
    table: dict[Key, object] = {}
    for m in messages(catalog):
        if m.fuzzy or not is_translated(m):
            continue
        string_ = tuple(m.string) if isinstance(m.string, (list, tuple)) else m.string
        table[(key(m), m.context)] = string_
    return table


def is_translated(message: Message) -> bool:
    if isinstance(message.string, (list, tuple)):
        return all(message.string)
    return bool(message.string)


def placeholders(text: str) -> list[str]:
    """The `{name}` fields of a brace-format string, with their conversion and format spec."""
    fields = []
    try:
        for _literal, name, spec, conversion in string.Formatter().parse(text):
            if name is not None:
                fields.append(
                    f"{{{name}{'!' + conversion if conversion else ''}"
                    f"{':' + spec if spec else ''}}}"
                )
    except ValueError as error:
        return [f"<malformed: {error}>"]
    return sorted(fields)


def placeholder_problems(message: Message) -> list[str]:
    """Each form must have the fields of its English (French uses the singular for 0 and 1,
    so even a singular keeps its `{n}`)."""
    ids = [message.id] if isinstance(message.id, str) else list(message.id)
    raw = message.string or ""
    strings = [raw] if isinstance(raw, str) else list(raw)
    problems = []
    for i, text in enumerate(strings):
        wanted = placeholders(ids[min(i, len(ids) - 1)])
        got = placeholders(text)
        if text and got != wanted:
            problems.append(f"placeholders {got} differ from the English {wanted}")
    return problems


VOLATILE = (
    b'"Project-Id-Version:',
    b'"POT-Creation-Date:',
    b'"PO-Revision-Date:',
    b'"Generated-By:',
)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` unless the file already says the same, dates and Babel version aside."""

    def stable(text: bytes) -> list[bytes]:
        return [line for line in text.splitlines() if not line.startswith(VOLATILE)]

    if path.exists() and stable(path.read_bytes()) == stable(data):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


# --- commands ------------------------------------------------------------------------------


def cmd_extract() -> int:
    template = extract_catalog()
    for problem in unextractable(template):
        print(f"warning: {problem}", file=sys.stderr)
    written = write_if_changed(POT, po_bytes(template))
    print(f"{rel(POT)}: {len(shape(template))} messages{'' if written else ' (unchanged)'}")
    return 0


MIN_FUZZY = 24  # shorter messages get no fuzzy translation suggested by update


def key_text(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def merged(language: str, template: Catalog) -> Catalog:
    path = po_path(language)
    catalog = load_po(path) if path.exists() else new_catalog(language)
    catalog.update(template, update_header_comment=False, update_creation_date=False)
    for m in messages(catalog):
        if m.fuzzy and m.previous_id and len(key_text(m)) < MIN_FUZZY:
            # Babel's guess for a short message ("id" -> "payée") is noise, not a start.
            m.string = "" if isinstance(m.id, str) else ("",) * len(m.id)
            m.flags.discard("fuzzy")
            m.previous_id = []
        # Flags follow the English of today (update() keeps those of the old message).
        source = template.get(m.id, m.context)
        wanted = source.flags if source is not None else set()
        m.flags = {f for f in m.flags if not f.endswith("-format")} | {
            f for f in wanted if f.endswith("-format")
        }
    return catalog


def cmd_update() -> int:
    if not POT.exists():
        print(f"{rel(POT)} is missing: run `python scripts/i18n.py extract` first", file=sys.stderr)
        return 1
    template = load_po(POT)
    for language in LANGUAGES:
        path = po_path(language)
        catalog = merged(language, template)
        written = write_if_changed(path, po_bytes(catalog))
        todo = sum(1 for m in messages(catalog) if m.fuzzy or not is_translated(m))
        print(
            f"{rel(path)}: {len(list(messages(catalog)))} messages, {todo} to translate"
            f"{'' if written else ' (unchanged)'}"
        )
    return 0


def cmd_compile() -> int:
    for language in LANGUAGES:
        po, mo = po_path(language), mo_path(language)
        if not po.exists():
            print(
                f"{rel(po)} is missing: run `python scripts/i18n.py extract update`",
                file=sys.stderr,
            )
            return 1
        catalog = load_po(po)
        if mo.exists() and translations(mo_catalog(mo)) == translations(catalog):
            written = False  # the same translations: keep the file (and the history) as is
        else:
            mo.write_bytes(mo_bytes(catalog))
            written = True
        print(
            f"{rel(mo)}: {len(translations(catalog))} translations"
            f"{'' if written else ' (unchanged)'}"
        )
    return 0


def mo_catalog(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_mo(f)


def problems() -> Iterable[str]:
    """Everything `check` complains about, one line each."""
    template = extract_catalog()
    yield from unextractable(template)
    if not POT.exists():
        yield f"{rel(POT)} is missing"
        return
    pot = load_po(POT)
    fresh, stored = shape(template), shape(pot)
    for k in fresh.keys() - stored.keys():
        yield f"{rel(POT)} is stale: {k[0]!r} is in the sources but not in the .pot"
    for k in stored.keys() - fresh.keys():
        yield f"{rel(POT)} is stale: {k[0]!r} is no longer in the sources"
    for k in fresh.keys() & stored.keys():
        if fresh[k] != stored[k]:
            yield f"{rel(POT)} is stale: {k[0]!r} changed (files, flags or comments)"
    for language in LANGUAGES:
        po, mo = po_path(language), mo_path(language)
        if not po.exists():
            yield f"{rel(po)} is missing"
            continue
        catalog = load_po(po)
        for m in messages(template):
            found = catalog.get(m.id, m.context)
            where = f"{rel(po)}: {m.id!r}"
            if found is None:
                yield f"{where} is missing"
            elif found.fuzzy:
                yield f"{where} is fuzzy (check the translation, then remove the fuzzy flag)"
            elif not is_translated(found):
                yield f"{where} is not translated"
            else:
                for problem in placeholder_problems(found):
                    yield f"{where}: {problem}"
        extra = {key(m) for m in messages(catalog)} - {key(m) for m in messages(template)}
        for gone in sorted(extra, key=str):
            yield f"{rel(po)}: {gone!r} is no longer in the sources (run update)"
        if not mo.exists():
            yield f"{rel(mo)} is missing"
        elif translations(mo_catalog(mo)) != translations(catalog):
            yield f"{rel(mo)} is stale: it does not match {rel(po)} (run compile)"


def cmd_check() -> int:
    found = list(problems())
    if not found:
        print(
            f"catalogue complete: {len(shape(extract_catalog()))} messages, "
            f"{', '.join(LANGUAGES)} translated and compiled"
        )
        return 0
    for problem in found:
        print(problem)
    print(f"\n{len(found)} problem(s): " + FIX.format(po=rel(po_path("fr"))))
    return 1


COMMANDS = {
    "extract": cmd_extract,
    "update": cmd_update,
    "compile": cmd_compile,
    "check": cmd_check,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 2)[2],
    )
    parser.add_argument(
        "commands",
        nargs="+",
        choices=list(COMMANDS),
        metavar="COMMAND",
        help="one or more of: " + ", ".join(COMMANDS) + " (run in that order)",
    )
    args = parser.parse_args(argv)
    with _exclusive():
        for name in args.commands:
            status = COMMANDS[name]()
            if status:
                return status
    return 0


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    """One run at a time on this clone: two runs reading and rewriting the .po at once
    would lose the translations one of them adds (no lock on Windows, where it is rare)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(LOCALE_DIR / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


if __name__ == "__main__":
    sys.exit(main())
