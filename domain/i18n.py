"""Texts the domain words for people: English, and translatable where they are shown.

The domain is pure: it does not know the user's language and must not import the CLI's
catalogue. So a finding, a refusal or a remedy is a `Text`: a `str` (the English sentence,
what JSON output, logs and tests see) that also remembers its template and arguments.
Where a person reads it, the CLI calls `localize(text, translator)`, which looks the
template up in the catalogue and fills it with the arguments formatted for the language:
dates, timestamps and amounts stay typed (`date`, `datetime`, `Money`) until then, so that
"€29.99 on 2026-11-05" becomes "29,99 € le 05/11/2026", never a half-translated mix.

Templates are marked with `N_()` so scripts/i18n.py extracts them (it reads domain/ too).
A plain `str` is shown as it is: data from the API (a subject, a reason) is not ours to
translate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from domain.money import format_money

__all__ = ["Money", "N_", "Text", "Translator", "localize", "ngettext"]


def N_(message: str) -> str:
    """Mark `message` for the catalogue; it is translated where it is shown."""
    return message


def ngettext(singular: str, plural: str, n: int, /, **args: Any) -> Text:
    """`Text.plural`, chosen by `n` where it is shown ({n} is an argument). Call it under
    this name with string literals: scripts/i18n.py extracts `ngettext(a, b, n)` as one
    plural message (`Text.plural(N_(a), N_(b), n)` would give two unrelated entries, and
    the French plural would never be found)."""
    return Text.plural(singular, plural, n, **args)


@dataclass(frozen=True)
class Money:
    """An amount in cents, formatted when shown (`€1,234.56`, `1 234,56 €`)."""

    cents: int

    def __str__(self) -> str:
        return format_money(self.cents)


class Translator(Protocol):
    """What `localize` needs from the CLI's catalogue: gettext, ngettext and the language."""

    @property
    def language(self) -> str: ...

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


class _English:
    @property
    def language(self) -> str:
        return "en"

    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


ENGLISH: Translator = _English()


class Text(str):
    """An English sentence built from a `N_()` template and its arguments.

    `Text(N_("invoice {invoice} unpaid since {since}"), invoice="INV-1", since=date(...))`
    is the `str` "invoice INV-1 unpaid since 2026-11-05"; `localize` words it again in the
    user's language. Arguments may be `Text` themselves (a sentence within a sentence).

    Arguments are formatted before they are put in (no `{x:.1f}` in a template: round the
    number first), and `"; ".join(texts)` gives a plain `str`: use `Text.joined`.
    """

    template: str
    plural_template: str | None
    n: int | None
    args: dict[str, Any]
    parts: tuple[Any, ...] | None
    separator: str

    def __new__(cls, template: str, /, **args: Any) -> Text:
        return cls._make(template, None, None, args, None, "")

    @classmethod
    def plural(cls, singular: str, plural: str, n: int, /, **args: Any) -> Text:
        """ngettext's choice by `n` ({n} is an argument too); use `ngettext()` below, which
        the extractor knows."""
        return cls._make(singular, plural, n, {"n": n, **args}, None, "")

    @classmethod
    def joined(cls, parts: Iterable[Any], separator: str = "; ") -> Text:
        """Parts shown one after the other, each localized; the separator too when it is a
        `Text` (French spaces its `;`: `Text.joined(parts, Text(N_("; ")))`)."""
        return cls._make("", None, None, {}, tuple(parts), separator)

    @classmethod
    def _make(
        cls,
        template: str,
        plural_template: str | None,
        n: int | None,
        args: dict[str, Any],
        parts: tuple[Any, ...] | None,
        separator: str,
    ) -> Text:
        english = _render(template, plural_template, n, args, parts, separator, ENGLISH)
        self = super().__new__(cls, english)
        self.template = template
        self.plural_template = plural_template
        self.n = n
        self.args = args
        self.parts = parts
        self.separator = separator
        return self

    def __add__(self, other: str) -> Text:
        return Text.joined((self, other), "")

    def __radd__(self, other: str) -> Text:
        return Text.joined((other, self), "")

    def __reduce__(self) -> Any:  # copies and pickles keep the template (dataclasses.asdict)
        return (
            Text._make,
            (self.template, self.plural_template, self.n, self.args, self.parts, self.separator),
        )


def localize(value: Any, translator: Translator) -> str:
    """`value` as the user reads it: a `Text` translated, typed arguments formatted for the
    language; anything else is `str()`-ed."""
    if isinstance(value, Text):
        return _render(
            value.template,
            value.plural_template,
            value.n,
            value.args,
            value.parts,
            value.separator,
            translator,
        )
    return _format(value, translator.language)


def _render(
    template: str,
    plural_template: str | None,
    n: int | None,
    args: dict[str, Any],
    parts: tuple[Any, ...] | None,
    separator: str,
    translator: Translator,
) -> str:
    if parts is not None:
        return localize(separator, translator).join(localize(p, translator) for p in parts)
    if plural_template is not None and n is not None:
        pattern = translator.ngettext(template, plural_template, n)
    else:
        pattern = translator.gettext(template)
    if not args:
        return pattern
    return pattern.format(**{k: localize(v, translator) for k, v in args.items()})


def _format(value: Any, language: str) -> str:
    french = language == "fr"
    if isinstance(value, Money):
        return format_money(value.cents, "fr" if french else "en")
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        suffix = " UTC" if value.tzinfo else ""
        return moment.strftime("%d/%m/%Y %H:%M" if french else "%Y-%m-%d %H:%M") + suffix
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y") if french else value.isoformat()
    if isinstance(value, float) and french:
        return str(value).replace(".", ",")
    return str(value)
