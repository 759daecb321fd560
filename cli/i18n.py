"""Messages in the user's language: French when the locale says so, English otherwise.

Strings are written in English in the code and wrapped in `_()`; the French catalogue is
`cli/locale/fr/LC_MESSAGES/moncompte.po` (compiled to `.mo` beside it). Machine formats
(json, ndjson, csv, tsv) never go through `_()`: only what a person reads does.

Two kinds of text do not pass through `_()` where they are written, and are translated when
they are shown instead:

- help texts (`help=` of options and arguments, docstrings, the one-line helps of
  cli/app.py's COMMANDS): `translate_help()` translates the Click command tree built for the
  run. A `_()` at import time would not do: the first import fixes the language for the
  life of the process (in-process tests switch locales), and a docstring cannot be wrapped;
- Click's and Typer's own texts ("Usage:", "Show this message and exit.", "No such
  option"): they call the standard `gettext.gettext`, whose language comes from
  os.environ (LANGUAGE first), not from the profile's `locale` or the Env's environment;
  `translate_libraries()` points them at this catalogue instead, so that one language is
  chosen in one place. Their messages are in the catalogue (scripts/i18n.py extracts them
  from the installed packages).
"""

from __future__ import annotations

import gettext
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DOMAIN = "moncompte"
LOCALE_DIR = Path(__file__).parent / "locale"

_active: gettext.NullTranslations | None = None
_language = ""


def language_from_environ(environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """ "fr" or "en", from LC_ALL, LC_MESSAGES, LANG (the first one set wins, as in POSIX)."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"


def activate(language: str) -> None:
    """Select the catalogue for this run (the Env calls it once it knows the locale)."""
    global _active, _language
    _language = "fr" if language.lower().startswith("fr") else "en"
    _active = gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[_language], fallback=True
    )


def language() -> str:
    if _active is None:
        activate(language_from_environ())
    return _language


def _(message: str) -> str:
    if _active is None:
        activate(language_from_environ())
    assert _active is not None
    return _active.gettext(message)


def N_(message: str) -> str:
    """Mark `message` for the catalogue without translating it (it is translated where it
    is shown, with `_()` on a variable)."""
    return message


class _Active:
    """The catalogue of this run as domain.i18n's Translator."""

    @property
    def language(self) -> str:
        return language()

    def gettext(self, message: str) -> str:
        return translated(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if _active is None:
            activate(language_from_environ())
        assert _active is not None
        return _active.ngettext(singular, plural, n)


def localized(value: Any) -> str:
    """A domain text (`domain.i18n.Text`) in the user's language, its dates and amounts
    formatted for it; any other value as `str()`."""
    from domain.i18n import localize

    return localize(value, _Active())


def translated(text: str, context: str | None = None) -> str:
    """`_()` of a text known only at run time: a help text, which scripts/i18n.py extracts
    from the command tree rather than from a `_()` call."""
    if _active is None:
        activate(language_from_environ())
    assert _active is not None
    return _active.gettext(text) if context is None else _active.pgettext(context, text)


def ngettext(singular: str, plural: str, n: int) -> str:
    if _active is None:
        activate(language_from_environ())
    assert _active is not None
    return _active.ngettext(singular, plural, n)


# --- help texts and the libraries' own messages ---------------------------------------------

HELP_ATTRIBUTES = ("help", "short_help", "epilog")
# Placeholders of the usage line and the option list (FILE, KEY, COMMAND [ARGS]...),
# translated under this context: "FILE" the metavar is not "file" the word.
METAVAR = "metavar"
METAVAR_ATTRIBUTES = ("options_metavar", "subcommand_metavar")


def help_texts(command: Any) -> Iterator[tuple[Any, Any, str, str, str | None]]:
    """(command, object, attribute, text, context) for every text of a Click command tree
    that --help shows and Click does not translate itself: the commands' help, short help
    and epilog, their parameters' help, and the metavars (context METAVAR). Click adds
    --help itself, with a text `translate_libraries` covers. Duck-typed: no Click here."""
    stack = [command]
    while stack:
        cmd = stack.pop()
        for attr in (*HELP_ATTRIBUTES, *METAVAR_ATTRIBUTES):
            text = getattr(cmd, attr, None)
            if isinstance(text, str) and text:
                yield cmd, cmd, attr, text, (METAVAR if attr in METAVAR_ATTRIBUTES else None)
        for param in getattr(cmd, "params", None) or ():
            for attr, context in (("help", None), ("metavar", METAVAR)):
                text = getattr(param, attr, None)
                if isinstance(text, str) and text:
                    yield cmd, param, attr, text, context
        stack.extend(reversed(list((getattr(cmd, "commands", None) or {}).values())))


def translate_help(command: Any) -> None:
    """Translate in place the help texts of a Click tree built for this run (Typer builds a
    new one each time `typer.main.get_command` is called, so nothing else sees it)."""
    if language() == "en":
        return
    for _command, owner, attr, text, context in list(help_texts(command)):
        setattr(owner, attr, translated(text, context))


LIBRARIES = ("click", "typer")


def translate_libraries() -> None:
    """Make Click and Typer look their messages up in this catalogue, in the language chosen
    by `activate` (they bound `gettext.gettext` and `gettext.ngettext` when imported).

    Idempotent, and cheap: only the already imported modules of these packages are
    touched, so call it once they are loaded (a module imported later keeps English)."""
    for name, module in list(sys.modules.items()):
        if module is None or name.partition(".")[0] not in LIBRARIES:
            continue
        if getattr(module, "_", None) is gettext.gettext:
            module._ = _  # type: ignore[attr-defined]
        if getattr(module, "ngettext", None) is gettext.ngettext:
            module.ngettext = ngettext  # type: ignore[attr-defined]
