"""The customer file: its columns, how it is read (UTF-8, BOM, `,` `;` or tab), and how one
row becomes the rows of three tables, checked with the rules the API applies.

A row is one contract and the customer who holds it; a customer with several contracts
has several rows, whose customer columns must agree. Every problem of a row is reported,
not only the first, so that one pass over the file lists everything to fix.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.commitment import ALLOWED_COMMITMENTS, commitment_end
from domain.iban import IbanError, validate_iban
from domain.money import parse_money
from server.models import Contract, Customer, PaymentMethod

__all__ = ["COLUMNS", "REQUIRED", "FileError", "Parsed", "Problem", "decoded", "read_rows"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: `line N: column: message`."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.column}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "problem": self.message}


class FileError(Exception):
    """The file cannot be read as a customer file at all (not UTF-8, bad header, …)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True)
class Parsed:
    """A valid row as tuples in the column order of `server.seed.generated_data._COLUMNS`
    (dates as ISO text), ready for the seed's bulk insert."""

    line: int
    customer: tuple[Any, ...]
    payment: tuple[Any, ...]
    contract: tuple[Any, ...]


def _limit(column: Any) -> int:
    length = column.type.length
    assert isinstance(length, int)
    return length


# Bound of the columns checked by their own format: long enough for that check to be the
# one reported ("'next monday' is not a date"), short enough to refuse a stray paragraph.
_LOOSE = 60
# column -> (required, the longest value, from the model where it is a string column)
COLUMNS: dict[str, tuple[bool, int]] = {
    "customer_id": (True, _LOOSE),
    "customer_number": (False, _limit(Customer.customer_number)),
    "first_name": (False, _limit(Customer.first_name)),
    "last_name": (True, _limit(Customer.last_name)),
    "email": (True, _limit(Customer.email)),
    "phone": (False, _limit(Customer.phone)),
    "address_line1": (False, _limit(Customer.address_line1)),
    "postcode": (False, _limit(Customer.postcode)),
    "city": (False, _limit(Customer.city)),
    "country": (False, _LOOSE),
    "terms_version": (True, _limit(Customer.terms_version_accepted)),
    "iban": (True, 100),  # as typed, spaces included: the API's own bound
    "mandate_reference": (False, _limit(PaymentMethod.mandate_reference)),
    "bank_name": (False, _limit(PaymentMethod.bank_name)),
    "contract_id": (True, _LOOSE),
    "kind": (False, _LOOSE),
    "offer": (True, _limit(Contract.offer)),
    "status": (False, _LOOSE),
    "monthly_price": (True, _LOOSE),
    "activation_fee": (False, _LOOSE),
    "termination_fee": (False, _LOOSE),
    "start_date": (True, _LOOSE),
    "first_connection": (False, _LOOSE),
    "commitment_months": (False, _LOOSE),
    "commitment_end": (False, _LOOSE),
}
REQUIRED = tuple(name for name, (required, _) in COLUMNS.items() if required)

_CUSTOMER_ID = re.compile(r"C[0-9]{7}")
_CONTRACT_ID = re.compile(r"CT-[0-9]{7}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_PHONE = re.compile(r"[0-9 +().-]*")
_COUNTRY = re.compile(r"[A-Z]{2}")
_FR_POSTCODE = re.compile(r"[0-9]{5}")
_MANDATE = re.compile(r"[A-Za-z0-9+?/:().,' -]+")  # the SEPA character set of a RUM
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_FR_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
_MAX_CENTS = 2**31 - 1  # an INTEGER column on PostgreSQL
_STATUSES = ("active", "pending_activation")
_KINDS = ("internet", "installments", "partwork")


class _Bad(ValueError):
    """A cell refused; the message is the `problem` of its report line."""


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _text(value: str, limit: int) -> str:
    value = unicodedata.normalize("NFC", value)
    if len(value) > limit:
        raise _Bad(f"at most {limit} characters, this one has {len(value)}")
    for position, ch in enumerate(value, 1):
        if unicodedata.category(ch) == "Cc":
            raise _Bad(f"control character U+{ord(ch):04X} at position {position}")
    return value


def parse_date(value: str) -> date:
    """`2026-11-24` or, as French spreadsheets write it, `24/11/2026`."""
    if match := _ISO_DATE.fullmatch(value):
        year, month, day = (int(g) for g in match.groups())
    elif match := _FR_DATE.fullmatch(value):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise _Bad(f"{_shown(value)} is not a date: use YYYY-MM-DD (or DD/MM/YYYY)")
    try:
        parsed = date(year, month, day)
    except ValueError as exc:
        raise _Bad(f"{_shown(value)} is not a date: {exc}") from None
    if not 1950 <= parsed.year <= 2100:
        raise _Bad(f"{_shown(value)}: the year must be between 1950 and 2100")
    return parsed


def _money(value: str) -> int:
    try:
        cents = parse_money(value)
    except ValueError as exc:
        raise _Bad(str(exc)) from None
    if cents < 0:
        raise _Bad(f"{_shown(value)} is negative")
    if cents > _MAX_CENTS:
        raise _Bad(f"{_shown(value)} is too large")
    return cents


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise _Bad(f"{_shown(value)} is not {what}")
        return value

    return check


# The IDs' fixed width matters: the seed numbers new customers after the largest ID.
_CHECKS: dict[str, Callable[[str], Any]] = {
    "customer_id": _matching(_CUSTOMER_ID, "an ID like C1234567 (C and 7 digits)"),
    "contract_id": _matching(_CONTRACT_ID, "an ID like CT-1234567 (CT- and 7 digits)"),
    "email": _matching(_EMAIL, "an email address"),
    "phone": _matching(_PHONE, "a phone number (digits, spaces, + . - ( ))"),
    "country": lambda v: _matching(_COUNTRY, "a 2-letter country code (FR)")(v.upper()),
    "mandate_reference": _matching(
        _MANDATE, "a SEPA mandate reference (A-Z 0-9 + ? / - : ( ) . , ')"
    ),
    "monthly_price": _money,
    "activation_fee": _money,
    "termination_fee": _money,
    "start_date": parse_date,
    "first_connection": parse_date,
    "commitment_end": parse_date,
}


def _iban(value: str) -> str:
    try:
        return validate_iban(value, require_sepa=True)
    except IbanError as exc:  # its messages never show the IBAN in full
        raise _Bad(str(exc)) from None


def _kind(value: str) -> str:
    if value == "internet":
        return value
    if value in _KINDS:
        raise _Bad(f"only internet contracts can be imported yet, not {value!r}")
    raise _Bad(f"unknown kind {_shown(value)}: internet, installments or partwork")


def _status(value: str) -> str:
    if value not in _STATUSES:
        raise _Bad(f"unknown status {_shown(value)}: {' or '.join(_STATUSES)}")
    return value


def _months(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) not in ALLOWED_COMMITMENTS:
        allowed = ", ".join(str(m) for m in sorted(ALLOWED_COMMITMENTS))
        raise _Bad(f"{_shown(value)} is not a commitment offered: {allowed} months")
    return int(value)


_CHECKS.update(iban=_iban, kind=_kind, status=_status, commitment_months=_months)


def _commitment(
    start: date, months: int | None, end: date | None, problems: list[tuple[str, str]]
) -> int:
    """The commitment in months, from `commitment_months`, `commitment_end` or both."""
    if end is None:
        return months or 0
    if end < start:
        problems.append(("commitment_end", f"{end} is before start_date {start}"))
        return 0
    fitting = [m for m in sorted(ALLOWED_COMMITMENTS) if m and commitment_end(start, m) == end]
    if months is not None and (months == 0 or commitment_end(start, months) != end):
        expected = commitment_end(start, months) if months else "no end (no commitment)"
        problems.append(
            ("commitment_end", f"{end} does not match commitment_months {months}: {expected}")
        )
    elif not fitting:
        ends = " or ".join(
            f"{commitment_end(start, m)} ({m} months)" for m in sorted(ALLOWED_COMMITMENTS) if m
        )
        problems.append(
            ("commitment_end", f"{end} is not the last day of a commitment from {start}: {ends}")
        )
    return months if months is not None else (fitting[0] if fitting else 0)


def parse_row(line: int, cells: dict[str, str], now: str) -> tuple[Parsed | None, list[Problem]]:
    """The row's tuples, or None and every problem found in it."""
    found: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    for column, (required, limit) in COLUMNS.items():
        raw = cells.get(column, "")
        if not raw:
            if required:
                found.append((column, "required, but empty"))
            values[column] = None
            continue
        try:
            text = _text(raw, limit)
            check = _CHECKS.get(column)
            values[column] = check(text) if check else text
        except _Bad as exc:
            found.append((column, str(exc)))
            values[column] = None
    start: date | None = values["start_date"]
    months = 0
    if start is not None:
        first = values["first_connection"]
        if first is not None and first < start:
            found.append(("first_connection", f"{first} is before start_date {start}"))
        if first is not None and values["status"] == "pending_activation":
            found.append(("status", "pending_activation, but first_connection is set"))
        months = _commitment(start, values["commitment_months"], values["commitment_end"], found)
    country = values["country"] or "FR"
    if country == "FR" and values["postcode"] and not _FR_POSTCODE.fullmatch(values["postcode"]):
        found.append(("postcode", f"{_shown(values['postcode'])} is not a French postcode"))
    if found or start is None:
        return None, [Problem(line, column, message) for column, message in found]

    cid = values["customer_id"]
    customer = (
        cid, values["customer_number"] or cid, values["first_name"] or "", values["last_name"],
        values["email"], values["phone"] or "", values["address_line1"] or "",
        values["postcode"] or "", values["city"] or "", country, values["terms_version"],
        start.isoformat(),
    )  # fmt: skip
    payment = (
        cid, "sepa_debit", values["iban"], values["mandate_reference"] or f"RUM-{cid}",
        values["bank_name"], now,
    )  # fmt: skip
    first_iso = values["first_connection"].isoformat() if values["first_connection"] else None
    contract = (
        values["contract_id"], cid, values["kind"] or "internet", values["offer"],
        values["status"] or "active", values["monthly_price"], values["activation_fee"] or 0,
        values["termination_fee"] or 0, start.isoformat(), start.isoformat(), first_iso, None,
        months, start.isoformat() if months else None,
        None, None, None, None, None, None, None, None,
    )  # fmt: skip
    return Parsed(line, customer, payment, contract), []


# --- reading the file ----------------------------------------------------------------------


def _header(first: str, delimiter: str | None) -> tuple[str, list[str]]:
    first = first.lstrip("\ufeff")  # a BOM the decoder left (text given to us already decoded)
    if not first.strip():
        raise FileError(Problem(1, "header", "empty: the first line must name the columns"))
    if delimiter is None:  # column names hold none of these: the most frequent one wins
        delimiter = max((",", ";", "\t"), key=first.count)
    names = [name.strip().lower() for name in next(csv.reader([first], delimiter=delimiter))]
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise FileError(
            Problem(
                1, "header",
                f"unknown column(s) {', '.join(map(_shown, unknown))}; the columns are "
                f"{', '.join(COLUMNS)}",
            )
        )  # fmt: skip
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise FileError(Problem(1, "header", f"column(s) given twice: {', '.join(repeated)}"))
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise FileError(Problem(1, "header", f"missing required column(s): {', '.join(missing)}"))
    return delimiter, names


def read_rows(
    lines: Iterable[str], now: str, *, delimiter: str | None = None
) -> Iterator[Parsed | list[Problem]]:
    """The file's rows, parsed: each a `Parsed` or the list of its problems.

    The header is read and checked at once (`FileError`), before any row is read. A part
    of the file that cannot be read later (not UTF-8, a field over the csv module's
    limit) ends the rows with its problem. Blank rows (`;;;;` from a spreadsheet) are
    skipped. `now` is the time stamp of the bank details' `updated_at`.
    """
    source = iter(lines)
    first = next(source, "")
    delimiter, names = _header(first, delimiter)
    reader = csv.reader(itertools.chain([first], source), delimiter=delimiter)
    next(reader)
    return _rows(reader, names, delimiter, now)


def _rows(
    reader: Any, names: list[str], delimiter: str, now: str
) -> Iterator[Parsed | list[Problem]]:
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except FileError as exc:
            yield [exc.problem]
            return
        except csv.Error as exc:
            yield [Problem(line, "file", f"unreadable CSV: {exc}")]
            return
        stripped = [cell.strip(" \t") for cell in cells]
        if not any(stripped):
            continue
        if len(stripped) != len(names):
            yield [
                Problem(
                    line, "row",
                    f"{len(stripped)} fields where the header has {len(names)}: check the "
                    f"delimiter ({delimiter!r}) and the quotes",
                )
            ]  # fmt: skip
            continue
        parsed, problems = parse_row(line, dict(zip(names, stripped, strict=True)), now)
        yield parsed if parsed is not None else problems


def decoded(raw_lines: Iterable[bytes]) -> Iterator[str]:
    """Bytes lines as text, UTF-8 with or without a BOM; `FileError` names the first line
    that is not UTF-8 (a spreadsheet's "CSV" is often Windows-1252)."""
    for number, raw in enumerate(raw_lines, 1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileError(
                Problem(
                    number, "file",
                    f"byte 0x{raw[exc.start]:02X} at position {exc.start + 1} is not UTF-8: "
                    "save the file as UTF-8 (in Excel: 'CSV UTF-8'), or convert it with "
                    "iconv -f WINDOWS-1252 -t UTF-8",
                )
            ) from None  # fmt: skip
