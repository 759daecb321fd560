"""The language of a request's error messages, from its Accept-Language header.

The API speaks English and French. Problem bodies (`detail`, `title`) are worded in the
language the client prefers (RFC 9110 §12.5.4: the highest q-value wins, `fr-FR` and
`fr-CA` are French, `*` is any language not named otherwise, q=0 means "not this one");
anything else — no header, an unknown language, garbage — is English. Machine fields never
change with the language, so a client that matches on `code` is not affected.

The words come from the CLI's gettext catalogue (cli/locale, one catalogue for the whole
project), loaded here per language rather than through cli.i18n: that module keeps one
process-wide language, and a server answers each request in its own.
"""

from __future__ import annotations

import gettext
import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from domain.i18n import Translator

__all__ = [
    "DEFAULT",
    "SUPPORTED",
    "locale_dir",
    "negotiate",
    "scope_language",
    "translator",
]

DOMAIN = "moncompte"
DEFAULT = "en"
SUPPORTED = ("en", "fr")

# A header longer than this is not a browser's or the CLI's: the rest is ignored, so a
# hostile one costs no more than a normal one.
_MAX_HEADER = 1024
_MAX_RANGES = 32
_RANGE = re.compile(r"\*|[a-z]{1,8}(?:[-_][a-z0-9]{1,8})*")
_QVALUE = re.compile(r"0(?:\.\d{0,3})?|1(?:\.0{0,3})?")


def negotiate(header: str | None) -> str:
    """ "fr" or "en": the supported language the header prefers, English when none is."""
    if not header:
        return DEFAULT
    explicit: dict[str, tuple[float, int]] = {}
    wildcard: tuple[float, int] | None = None
    for position, item in enumerate(header[:_MAX_HEADER].split(",")[:_MAX_RANGES]):
        parsed = _parse_range(item)
        if parsed is None:
            continue
        tag, q = parsed
        if tag == "*":
            if wildcard is None:
                wildcard = (q, position)
            continue
        language = re.split(r"[-_]", tag, maxsplit=1)[0]
        if language in SUPPORTED and (language not in explicit or q > explicit[language][0]):
            explicit[language] = (q, position)
    scores = dict(explicit)
    if wildcard is not None:
        for language in SUPPORTED:
            scores.setdefault(language, wildcard)
    acceptable = [(q, position, language) for language, (q, position) in scores.items() if q > 0]
    if not acceptable:
        return DEFAULT
    # Highest q first; at equal q the range written first; `*` covering both: English.
    acceptable.sort(key=lambda c: (-c[0], c[1], c[2] != DEFAULT))
    return acceptable[0][2]


def _parse_range(item: str) -> tuple[str, float] | None:
    """(language range, q) of one `tag;q=0.8` element, or None if it is malformed."""
    tag, *params = (part.strip() for part in item.split(";"))
    tag = tag.lower()
    if not _RANGE.fullmatch(tag):
        return None
    q = 1.0
    for param in params:
        name, sep, value = param.partition("=")
        if name.strip().lower() != "q":
            continue  # an extension parameter: allowed, and meaningless to us
        value = value.strip()
        if not sep or not _QVALUE.fullmatch(value):
            return None
        q = float(value)
    return tag, q


def scope_language(scope: Mapping[str, object]) -> str:
    """The language of an ASGI request (for middleware answering before any route)."""
    headers = scope.get("headers") or ()
    for name, value in headers:  # type: ignore[attr-defined]
        if name == b"accept-language":
            return negotiate(value.decode("latin-1"))
    return DEFAULT


def locale_dir() -> Path:
    """cli/locale, wherever the `cli` package is installed (a clone, an editable install,
    a wheel in site-packages), found without importing it."""
    spec = importlib.util.find_spec("cli")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "locale"
            if candidate.is_dir():
                return candidate
    return Path(__file__).resolve().parent.parent / "cli" / "locale"


@dataclass(frozen=True)
class _Catalogue:
    """One language's catalogue as domain.i18n's Translator."""

    language: str
    translations: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)


@cache
def translator(language: str) -> Translator:
    """The catalogue for `language` (loaded once; English, or a missing .mo, translates
    nothing)."""
    if language not in SUPPORTED or language == DEFAULT:
        return _Catalogue(DEFAULT, gettext.NullTranslations())
    found = gettext.translation(DOMAIN, localedir=locale_dir(), languages=[language], fallback=True)
    return _Catalogue(language, found)
