"""Messages in the user's language: French when the locale says so, English otherwise.

Strings are written in English in the code and wrapped in `_()`; the French catalogue is
`cli/locale/fr/LC_MESSAGES/moncompte.po` (compiled to `.mo` beside it). Machine formats
(json, ndjson, csv, tsv) never go through `_()`: only what a person reads does.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

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


def ngettext(singular: str, plural: str, n: int) -> str:
    if _active is None:
        activate(language_from_environ())
    assert _active is not None
    return _active.ngettext(singular, plural, n)
