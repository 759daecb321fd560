"""IBAN input, validation, masking, and when a new IBAN is first debited.

Structure, per-country length, BBAN format and the SEPA zone come from `schwifty`'s IBAN
registry. The French RIB key is checked here by hand: schwifty verifies it only for FR and
MC (and only on request), while the overseas departments and territories and the other
French-banking areas (GF, GP, MQ, RE, PF, TF, YT, NC, BL, MF, PM, WF) use the same RIB and
are not covered by it.

Input is strict on purpose: only ASCII spaces are forgiven. A tab, a dash, a no-break space
or a full-width digit in a bank account number usually means it was pasted from somewhere
unexpected, and the customer is told exactly which character and where. An IBAN is
personal data: no message here ever contains one in full.
"""

from __future__ import annotations

import re
import string
import unicodedata
from datetime import date

from pycountry import countries  # schwifty's own dependency, for country names
from schwifty import registry
from schwifty.domain import IBANSpec
from schwifty.exceptions import SchwiftyException

from domain.calendar import debit_date
from domain.i18n import N_, Text

__all__ = [
    "IBAN_CHECKS",
    "RIB_COUNTRIES",
    "IbanError",
    "first_debit_on_new_iban",
    "format_iban",
    "iban_check_digits",
    "mask_iban",
    "normalize_iban",
    "rib_key",
    "validate_iban",
]

IBAN_CHECKS = (
    "empty", "characters", "country", "length", "checksum", "format", "rib_key", "sepa",
)  # fmt: skip
"""Every value `IbanError.check` can take, in the order `validate_iban` applies them."""

RIB_COUNTRIES = frozenset(
    {"FR", "MC", "GF", "GP", "MQ", "RE", "PF", "TF", "YT", "NC", "BL", "MF", "PM", "WF"}
)
"""Country codes whose BBAN is a French RIB (bank 5 + branch 5 + account 11 + key 2)."""

# The day of the month from which a change of IBAN misses the next debit.
IBAN_CHANGE_CUTOFF_DAY = 25

_ALNUM = frozenset(string.ascii_letters + string.digits)
_RIB_LETTERS = {
    letter: str(value)
    for value, letters in enumerate(
        ("AJ", "BKS", "CLT", "DMU", "ENV", "FOW", "GPX", "HQY", "IRZ"), 1
    )
    for letter in letters
}
# "{count} digits": how many characters of which kind a part of the BBAN has.
_SPEC_COUNTS = {
    "n": N_("{count} digits"),
    "a": N_("{count} capital letters"),
    "c": N_("{count} letters or digits"),
    "e": N_("{count} spaces"),
}
_SPEC_WORDS = {
    "n": N_("digits"),
    "a": N_("capital letters"),
    "c": N_("letters or digits"),
    "e": N_("spaces"),
}


class IbanError(ValueError):
    """An IBAN refused locally; `check` says which check failed (see `IBAN_CHECKS`).

    `message` is a `Text`: `str(error)` is the English sentence (the server's answer, logs),
    and the CLI shows `localized(error.message)` in the user's language."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(message)
        self.check = check
        self.message = message

    def __reduce__(self) -> tuple[type[IbanError], tuple[str, str]]:
        return (IbanError, (self.check, self.message))


def _describe_character(ch: str) -> str:
    # The Unicode name is an identifier (NO-BREAK SPACE), the same in every language.
    name = unicodedata.name(ch, "")
    code = f"U+{ord(ch):04X}"
    return f"{ch!r} ({code} {name})" if name else f"{ch!r} ({code})"


def normalize_iban(text: str) -> str:
    """Drop ASCII spaces and uppercase; refuse any other character than A-Z, a-z, 0-9.

    The error names the first offending character (repr and code point) and its 1-based
    position in the text as typed, spaces included, so the customer can find it.
    """
    kept = []
    for position, ch in enumerate(text, 1):
        if ch == " ":
            continue
        if ch not in _ALNUM:
            raise IbanError(
                "characters",
                Text(
                    N_(
                        "invalid character {character} at position {position}: "
                        "an IBAN has only letters A-Z, digits 0-9 and optional spaces"
                    ),
                    character=_describe_character(ch),
                    position=position,
                ),
            )
        kept.append(ch)
    return "".join(kept).upper()


def iban_check_digits(country: str, bban: str) -> str:
    """The two ISO 7064 mod 97-10 check digits for a country code and a BBAN.

    Exposed so tests and seed data can build IBANs whose checksum is right while something
    else (the RIB key, the format) is deliberately wrong.
    """
    remainder = _mod97(bban + country.upper() + "00")
    return f"{98 - remainder:02d}"


def _mod97(alnum: str) -> int:
    # Letters count A=10 … Z=35; int(ch, 36) does exactly that for ASCII alphanumerics.
    remainder = 0
    for ch in alnum:
        remainder = (remainder * (100 if ch.isalpha() else 10) + int(ch, 36)) % 97
    return remainder


_SPEC_TOKEN = re.compile(r"(\d+)(!?)([nace])")
_SPEC_CLASS = {
    "n": frozenset(string.digits),
    "a": frozenset(string.ascii_uppercase),
    "c": frozenset(string.digits + string.ascii_uppercase),
    "e": frozenset(" "),
}


def _format_problem(country: str, bban_spec: str, bban: str) -> Text:
    """Say which part of the BBAN breaks the country's structure, in IBAN positions."""
    tokens = _SPEC_TOKEN.findall(bban_spec)
    words = Text.joined(
        (Text(_SPEC_COUNTS[kind], count=int(count)) for count, _, kind in tokens), ", "
    )
    intro = Text(
        N_("the account part of an IBAN from {country} is {parts}"), country=country, parts=words
    )
    position = 0
    for count, exact, kind in tokens:
        size = int(count)
        part = bban[position : position + size]
        if not exact or any(ch not in _SPEC_CLASS[kind] for ch in part):
            if not exact:  # a variable-length field: no position to point at
                break
            first, last = position + 5, position + size + 4  # 1-based, after "CCkk"
            return Text(
                N_("{intro}; characters {first} to {last} should be {kind}"),
                intro=intro,
                first=first,
                last=last,
                kind=Text(_SPEC_WORDS[kind]),
            )
        position += size
    return Text(N_("{intro}; this one does not follow that structure"), intro=intro)


def _rib_value(text: str) -> int:
    return int("".join(_RIB_LETTERS.get(ch, ch) for ch in text.upper()))


def rib_key(bank: str, branch: str, account: str) -> int:
    """The French RIB key (01 to 97) of a bank code, branch code and account number.

    97 − ((89 × bank + 15 × branch + 3 × account) mod 97), letters of the account counting
    A,J=1 B,K,S=2 C,L,T=3 D,M,U=4 E,N,V=5 F,O,W=6 G,P,X=7 H,Q,Y=8 I,R,Z=9.
    """
    if len(bank) != 5 or not (bank.isascii() and bank.isdigit()):
        raise ValueError("a RIB bank code is 5 digits")
    if len(branch) != 5 or not (branch.isascii() and branch.isdigit()):
        raise ValueError("a RIB branch code is 5 digits")
    if len(account) != 11 or not (account.isascii() and account.isalnum()):
        raise ValueError("a RIB account number is 11 letters or digits")
    total = 89 * int(bank) + 15 * int(branch) + 3 * _rib_value(account)
    return 97 - total % 97


def _spec_for(country: str) -> IBANSpec | None:
    try:
        return registry.get_iban_spec(country)
    except (SchwiftyException, KeyError):
        return None


def _country_name(country: str) -> str:
    found = countries.get(alpha_2=country)
    name = getattr(found, "name", None)
    return f"{country} ({name})" if isinstance(name, str) else country


def validate_iban(text: str, *, require_sepa: bool = True) -> str:
    """Check an IBAN as typed and return it normalized (no spaces, uppercase).

    Checks, in order, each raising `IbanError` with its `check`: empty, characters,
    country (no IBAN format for that code), length (per country), checksum (mod 97 = 1
    and check digits 02 to 98), format (the country's BBAN structure), rib_key (French RIB
    areas), sepa (country outside the SEPA zone, skipped with `require_sepa=False`).
    """
    iban = normalize_iban(text) if text.strip(" ") else ""
    if not iban:
        raise IbanError(
            "empty", Text(N_("no IBAN given: enter the IBAN printed on your bank details"))
        )

    country = iban[:2]
    spec = _spec_for(country) if len(country) == 2 and country.isalpha() else None
    if spec is None:
        raise IbanError(
            "country",
            Text(
                N_(
                    "an IBAN starts with the 2-letter code of a country that uses IBANs; "
                    "{country} is not one"
                ),
                country=repr(country),
            ),
        )

    if len(iban) != spec.iban_length:
        raise IbanError(
            "length",
            Text(
                N_("an IBAN from {country} has {expected} characters, this one has {length}"),
                country=country,
                expected=spec.iban_length,
                length=len(iban),
            ),
        )

    check_digits = iban[2:4]
    if not check_digits.isdigit():
        raise IbanError(
            "checksum",
            Text(N_("the 3rd and 4th characters of an IBAN (check digits) must be digits")),
        )
    if not 2 <= int(check_digits) <= 98:
        raise IbanError(
            "checksum",
            Text(
                N_("the IBAN check digits must be between 02 and 98, got {digits}"),
                digits=check_digits,
            ),
        )
    if _mod97(iban[4:] + iban[:4]) != 1:
        raise IbanError(
            "checksum",
            Text(
                N_(
                    "the IBAN check digits do not match the rest of the number (mod 97): "
                    "look for a mistyped or swapped character"
                )
            ),
        )

    bban = iban[4:]
    if spec.regex.fullmatch(bban) is None:
        raise IbanError(
            "format",
            _format_problem(country, spec.bban_spec, bban),
        )

    if country in RIB_COUNTRIES:
        key = int(bban[21:23])
        if rib_key(bban[0:5], bban[5:10], bban[10:21]) != key:
            raise IbanError(
                "rib_key",
                Text(
                    N_(
                        "the RIB key {key} (the last 2 digits) does not match the bank, "
                        "branch and account numbers: look for a mistyped character"
                    ),
                    key=bban[21:23],
                ),
            )

    if require_sepa and not spec.in_sepa_zone:
        raise IbanError(
            "sepa",
            Text(
                N_(
                    "IBAN from {country}, outside the SEPA zone: a SEPA direct "
                    "debit needs an account in the SEPA zone"
                ),
                country=_country_name(country),
            ),
        )

    return iban


def _compact(iban: str) -> str:
    return "".join(iban.split()).upper()


def _group(text: str) -> str:
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def format_iban(iban: str) -> str:
    """The IBAN in groups of 4 (`FR76 3000 6000 ...`), how banks print it."""
    return _group(_compact(iban))


def mask_iban(iban: str) -> str:
    """The IBAN safe to show and log: country, check digits and last 4 characters kept.

    `FR7630006000011234567890189` → `FR76 **** **** **** **** ***0 189`. Never more than 8
    characters are revealed, and for a text too short to be an IBAN (under 12 characters,
    where 8 would be most of it) only the first 2 are.
    """
    compact = _compact(iban)
    if len(compact) >= 12:
        shown = compact[:4] + "*" * (len(compact) - 8) + compact[-4:]
    else:
        shown = compact[:2] + "*" * max(len(compact) - 2, 0)
    return _group(shown)


def first_debit_on_new_iban(received: date) -> date:
    """Date of the first debit taken from an IBAN whose change was received on `received`.

    A change received before the 25th of month M applies to the debit of month M+1; from
    the 25th on, to that of M+2 (the provider needs the time to amend the mandate).
    """
    months_ahead = 1 if received.day < IBAN_CHANGE_CUTOFF_DAY else 2
    index = received.year * 12 + received.month - 1 + months_ahead
    year, month0 = divmod(index, 12)
    return debit_date(year, month0 + 1)
