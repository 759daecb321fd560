"""Money: formatting per locale, parsing what people type, and the one rounding rule."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import div_round_half_up, format_money, is_french_locale, parse_money


@pytest.mark.parametrize(
    ("cents", "fr", "en"),
    [
        (0, "0,00 €", "€0.00"),
        (5, "0,05 €", "€0.05"),
        (99, "0,99 €", "€0.99"),
        (100, "1,00 €", "€1.00"),
        (1250, "12,50 €", "€12.50"),
        (99999, "999,99 €", "€999.99"),
        (100000, "1 000,00 €", "€1,000.00"),
        (123456, "1 234,56 €", "€1,234.56"),
        (123456789, "1 234 567,89 €", "€1,234,567.89"),
        (-1, "-0,01 €", "-€0.01"),
        (-123456, "-1 234,56 €", "-€1,234.56"),
    ],
)
def test_format_money(cents: int, fr: str, en: str) -> None:
    assert format_money(cents, "fr") == fr
    assert format_money(cents, "en") == en
    assert format_money(cents) == en


def test_french_thousands_separator_is_an_ascii_space() -> None:
    text = format_money(123456789, "fr_FR.UTF-8")
    assert text.isascii() is False  # the euro sign
    assert "\u00a0" not in text and "\u202f" not in text
    assert text.count(" ") == 3


@pytest.mark.parametrize(
    "locale", ["fr", "FR", "fr_FR", "fr_FR.UTF-8", "fr-CA", "fr_BE@euro", " fr_CH "]
)
def test_french_locales(locale: str) -> None:
    assert is_french_locale(locale)
    assert format_money(150, locale) == "1,50 €"


@pytest.mark.parametrize(
    "locale", ["en", "en_US.UTF-8", "C", "POSIX", "", "de_DE", "fra", "french"]
)
def test_other_locales_are_english(locale: str) -> None:
    assert not is_french_locale(locale)
    assert format_money(150, locale) == "€1.50"


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12", 1200),
        ("12.5", 1250),
        ("12,5", 1250),
        ("12,50", 1250),
        ("12.50", 1250),
        ("0,05", 5),
        ("0", 0),
        ("1 234,56", 123456),
        ("1\u00a0234,56", 123456),
        ("1\u202f234,56 €", 123456),
        ("1,234.56", 123456),
        ("1.234,56", 123456),
        ("1 234 567", 123456700),
        ("€12.50", 1250),
        ("€ 12.50", 1250),
        ("12,50 €", 1250),
        ("12,50€", 1250),
        ("12.50 EUR", 1250),
        ("  12,50  ", 1250),
        ("-12,50", -1250),
        ("-€12.50", -1250),
        ("€-12.50", -1250),
        ("-1 234,56 €", -123456),
        ("+3", 300),
        ("007", 700),
    ],
)
def test_parse_money(text: str, cents: int) -> None:
    assert parse_money(text) == cents


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("12.345", "too many decimals"),
        ("1,234", "too many decimals"),
        ("0,001", "too many decimals"),
        ("12.", "digits must follow"),
        ("12,", "digits must follow"),
        ("abc", "not an amount"),
        ("12abc", "not an amount"),
        ("€", "not an amount"),
        ("--12", "not an amount"),
        ("-€-12", "not an amount"),
        ("12 34", "group thousands"),
        ("1 23,45", "group thousands"),
        ("1,2,3.45", "group thousands"),
        ("1 234.567,89", "group thousands"),
        ("１２", "not an amount"),  # full-width digits
        ("١٢", "not an amount"),  # Arabic-Indic digits
        ("12 $", "not an amount"),
        ("9" * 40, "too large"),
        (".50", "not an amount"),
    ],
)
def test_parse_money_refuses(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_money(text)


def test_parse_money_error_does_not_echo_a_huge_input() -> None:
    with pytest.raises(ValueError) as caught:
        parse_money("x" * 10_000)
    assert len(str(caught.value)) < 200


@given(st.integers(min_value=-(10**14), max_value=10**14), st.sampled_from(["fr", "en"]))
def test_format_then_parse_round_trips(cents: int, locale: str) -> None:
    assert parse_money(format_money(cents, locale)) == cents


@given(st.integers(min_value=0, max_value=10**9))
def test_plain_decimal_text_parses(cents: int) -> None:
    units, rest = divmod(cents, 100)
    assert parse_money(f"{units}.{rest:02d}") == cents
    assert parse_money(f"{units},{rest:02d}") == cents


@pytest.mark.parametrize(
    ("n", "d", "expected"),
    [
        (10, 4, 3),  # 2.5 -> 3
        (9, 4, 2),  # 2.25 -> 2
        (11, 4, 3),  # 2.75 -> 3
        (8, 4, 2),
        (0, 4, 0),
        (1, 2, 1),  # 0.5 -> 1
        (1, 3, 0),
        (2, 3, 1),
        (-10, 4, -3),  # -2.5 -> -3 (away from zero)
        (-9, 4, -2),
        (10, -4, -3),
        (-10, -4, 3),
        (47988, 4, 11997),  # 25 % of 12 x 39.99
    ],
)
def test_div_round_half_up(n: int, d: int, expected: int) -> None:
    assert div_round_half_up(n, d) == expected


def test_div_round_half_up_by_zero() -> None:
    with pytest.raises(ZeroDivisionError):
        div_round_half_up(1, 0)


@given(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.integers(min_value=-(10**6), max_value=10**6).filter(lambda d: d != 0),
)
def test_div_round_half_up_matches_decimal(n: int, d: int) -> None:
    with localcontext() as context:
        context.prec = 60  # exact for these magnitudes
        expected = (Decimal(n) / Decimal(d)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    result = div_round_half_up(n, d)
    assert result == int(expected)
    assert div_round_half_up(-n, d) == -result
    assert abs(result * d - n) * 2 <= abs(d)
