"""Money as integer cents: formatting, parsing and the one rounding rule.

Every amount in the project is an `int` of euro cents, so no float ever touches money.
Formatting is done by hand rather than through `locale`/Babel: the output must not depend
on the machine's locale settings, and the French form uses a plain ASCII space (not the
narrow no-break space CLDR prescribes) so it survives terminals, CSV and copy-paste.
"""

from __future__ import annotations

import re

__all__ = ["AmountError", "div_round_half_up", "format_money", "is_french_locale", "parse_money"]

_FRENCH_LOCALE = re.compile(r"fr(?:$|[_\-.@])", re.IGNORECASE)


def is_french_locale(locale: str) -> bool:
    """Whether a locale string ("fr", "fr_FR", "fr-CA", "fr_FR.UTF-8") means French."""
    return _FRENCH_LOCALE.match(locale.strip()) is not None


def _group_thousands(units: int, separator: str) -> str:
    digits = str(units)
    groups = []
    while len(digits) > 3:
        groups.append(digits[-3:])
        digits = digits[:-3]
    groups.append(digits)
    return separator.join(reversed(groups))


def format_money(cents: int, locale: str = "en") -> str:
    """Render cents for humans: `1 234,56 €` in French, `€1,234.56` otherwise.

    The minus sign leads in both forms (`-1 234,56 €`, `-€1,234.56`) so a negative amount
    is never mistaken for a positive one when columns are aligned.
    """
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    if is_french_locale(locale):
        return f"{sign}{_group_thousands(units, ' ')},{rest:02d} €"
    return f"{sign}€{_group_thousands(units, ',')}.{rest:02d}"


# Spaces people (and CLDR) put between thousands: ASCII, no-break and narrow no-break.
_SPACES = " \u00a0\u202f"
_AMOUNT = re.compile(
    r"""
    (?P<sign1>[-+]?)[ \u00a0\u202f]*
    (?:€[ \u00a0\u202f]*)?
    (?P<sign2>[-+]?)
    (?P<number>[0-9][0-9 \u00a0\u202f.,]*)
    (?:[ \u00a0\u202f]*(?:€|EUR))?
    """,
    re.VERBOSE | re.IGNORECASE,
)
_INTEGER_PART = {
    # The thousands separators allowed with each decimal separator, one kind per amount
    # (the back-reference); plain digits always work.
    ".": re.compile(r"[0-9]{1,3}(?P<t>[, \u00a0\u202f])[0-9]{3}(?:(?P=t)[0-9]{3})*|[0-9]+"),
    ",": re.compile(r"[0-9]{1,3}(?P<t>[. \u00a0\u202f])[0-9]{3}(?:(?P=t)[0-9]{3})*|[0-9]+"),
}
# A bound far above any real amount, and below Python's int-from-str digit limit.
_MAX_UNIT_DIGITS = 15


def N_(message: str) -> str:
    """Mark a template for the catalogue (scripts/i18n.py extracts `N_()` calls)."""
    return message


class AmountError(ValueError):
    """An amount refused by `parse_money`: `str(error)` is the English sentence; the
    template (marked `N_`) and its arguments let the CLI word it in the user's language
    (`domain.i18n.Text(error.template, **error.arguments)`).

    Not a `domain.i18n.Text` itself: domain.i18n formats amounts with this module, and a
    module of the domain must not import one that imports it."""

    def __init__(self, template: str, **arguments: object) -> None:
        super().__init__(template.format(**arguments) if arguments else template)
        self.template = template
        self.arguments = arguments

    def __reduce__(self) -> tuple[object, ...]:
        return (_amount_error, (self.template, self.arguments))


def _amount_error(template: str, arguments: dict[str, object]) -> AmountError:
    return AmountError(template, **arguments)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def parse_money(text: str) -> int:
    """Read an amount typed by a person into cents.

    Accepted: "12", "12.5", "12,50", "1 234,56", "1,234.56", "1.234,56", "€12.50",
    "12,50 €", "12.50 EUR", a leading "-" or "+". The last "." or "," is the decimal
    separator, so "1,234" is 1.234 euros and refused (more than 2 decimals) rather than
    silently read as 1234: a money amount that is ambiguous must not be guessed.
    Only ASCII digits count; anything else is refused with a message naming the input.
    """
    stripped = text.strip(" \t\r\n" + _SPACES)
    if not stripped:
        raise AmountError(N_("empty amount: enter a number of euros such as 12,50 or 12.50"))

    match = _AMOUNT.fullmatch(stripped)
    if match is None or (match["sign1"] and match["sign2"]):
        raise AmountError(
            N_("not an amount of money: {amount}; enter a number of euros such as 12,50 or 12.50"),
            amount=_shown(stripped),
        )
    number = match["number"].rstrip(_SPACES)
    negative = "-" in (match["sign1"], match["sign2"])

    decimal_at = max(number.rfind("."), number.rfind(","))
    if decimal_at == -1:
        integer, decimals, separator = number, "", "."
    else:
        integer, decimals = number[:decimal_at], number[decimal_at + 1 :]
        separator = number[decimal_at]
        if not decimals.isascii() or not decimals.isdigit():
            raise AmountError(
                N_(
                    "not an amount of money: {amount}; digits must follow the "
                    "decimal separator {separator}"
                ),
                amount=_shown(stripped),
                separator=repr(separator),
            )
        if len(decimals) > 2:
            raise AmountError(
                N_(
                    "too many decimals in {amount}: at most 2 (cents) after "
                    "{separator}; write thousands with spaces, e.g. 1 234,56"
                ),
                amount=_shown(stripped),
                separator=repr(separator),
            )
    if not _INTEGER_PART[separator].fullmatch(integer):
        raise AmountError(
            N_(
                "not an amount of money: {amount}; group thousands by 3 digits, "
                "e.g. 1 234,56 or 1,234.56"
            ),
            amount=_shown(stripped),
        )
    digits = "".join(ch for ch in integer if ch.isdigit())
    if len(digits) > _MAX_UNIT_DIGITS:
        raise AmountError(
            N_("amount too large: {amount}; at most {digits} digits of euros"),
            amount=_shown(stripped),
            digits=_MAX_UNIT_DIGITS,
        )

    units = int(digits)
    cents = units * 100 + int(decimals.ljust(2, "0"))
    return -cents if negative else cents


def div_round_half_up(numerator: int, denominator: int) -> int:
    """Exact integer division, rounded to the nearest integer, halves away from zero.

    Used wherever a rule computes a fraction of an amount (the 25 % of the Chatel fee):
    integer arithmetic keeps it exact, and rounding once at the end with a documented rule
    makes the server and the CLI agree to the cent. For negative results halves also go
    away from zero (-2.5 → -3), the same as `decimal.ROUND_HALF_UP`, so that
    `div_round_half_up(-n, d) == -div_round_half_up(n, d)`: a refund mirrors its charge.
    Raises ZeroDivisionError for a zero denominator.
    """
    if denominator == 0:
        raise ZeroDivisionError("div_round_half_up: denominator is zero")
    quotient, remainder = divmod(abs(numerator), abs(denominator))
    if 2 * remainder >= abs(denominator):
        quotient += 1
    return -quotient if (numerator < 0) != (denominator < 0) else quotient
