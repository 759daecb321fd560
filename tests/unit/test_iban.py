"""IBAN input and validation against a corpus, the RIB key, masking, new-IBAN debit date."""

from __future__ import annotations

import string
from datetime import date
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from schwifty import IBAN

from domain.calendar import debit_date, is_business_day
from domain.iban import (
    IBAN_CHECKS,
    RIB_COUNTRIES,
    IbanError,
    first_debit_on_new_iban,
    format_iban,
    iban_check_digits,
    mask_iban,
    normalize_iban,
    rib_key,
    validate_iban,
)


def with_check_digits(country: str, bban: str) -> str:
    """An IBAN whose ISO mod-97 check digits are right, whatever else is wrong in the BBAN.

    Computed here independently of the module under test (plain int arithmetic).
    """
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def rib_by_hand(bank: str, branch: str, account: str) -> int:
    table = {ch: str(i % 9 + 1) for i, ch in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}
    table.update({"S": "2", "T": "3", "U": "4", "V": "5", "W": "6", "X": "7", "Y": "8", "Z": "9"})
    digits = "".join(table.get(ch, ch) for ch in account)
    return 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(digits)) % 97


# Public example IBANs (ISO 13616 registry, national bank examples, schwifty/python-stdnum
# test suites), typed the way people type them: groups of 4, sometimes in lowercase.
VALID_SEPA = [
    "de89 3704 0044 0532 0130 00",
    "GB29 NWBK 6016 1331 9268 19",
    "FR14 2004 1010 0505 0001 3M02 606",
    "FR76 3000 6000 0112 3456 7890 189",
    "fr7630006000011234567890189",
    "NL91 ABNA 0417 1643 00",
    "BE68 5390 0754 7034",
    "ES91 2100 0418 4502 0005 1332",
    "IT60 X054 2811 1010 0000 0123 456",
    "CH93 0076 2011 6238 5295 7",
    "AT61 1904 3002 3457 3201",
    "LU28 0019 4006 4475 0000",
    "PT50 0002 0123 1234 5678 9015 4",
    "ie29 aibk 9311 5212 3456 78",
    "MC58 1122 2000 0101 2345 6789 030",
    "SM86 U032 2509 8000 0000 0270 100",
    "AD12 0001 2030 2003 5910 0100",
    "VA59 0011 2300 0012 3456 78",
    "NO93 8601 1117 947",
    "FI21 1234 5600 0007 85",
    "PL61 1090 1014 0000 0712 1981 2874",
    "SE45 5000 0000 0583 9825 7466",
    "DK50 0040 0440 1162 43",
    "GR16 0110 1250 0000 0001 2300 695",
    "LI21 0881 0000 2324 013A A",
    "IS14 0159 2600 7654 5510 7303 39",
    "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
    "CY17 0020 0128 0000 0012 0052 7600",
    "SK31 1200 0000 1987 4263 7541",
    "SI56 2633 0001 2039 086",
    "HU42 1177 3016 1111 1018 0000 0000",
    "RO49 AAAA 1B31 0075 9384 0000",
    "BG80 BNBG 9661 1020 3456 78",
    "HR12 1001 0051 8630 0016 0",
    "EE38 2200 2210 2014 5685",
    "LT12 1000 0111 0100 1000",
    "LV80 BANK 0000 4351 9500 1",
    "CZ65 0800 0000 1920 0014 5399",
    "GI75 NWBK 0000 0000 7099 453",
    "  DE89370400440532013000  ",
]

VALID_OUTSIDE_SEPA = [
    "BR18 0036 0305 0000 1000 9795 493C 1",
    "SA03 8000 0000 6080 1016 7519",
    "TR33 0006 1005 1978 6457 8413 26",
    "AE07 0331 2345 6789 0123 456",
    "KZ86 125K ZT50 0410 0100",
    "IL62 0108 0000 0009 9999 999",
    "TN59 1000 6035 1835 9847 8831",
]


def _check_digits_equal_to(country: str, prefix: str, wanted: str) -> str:
    """A BBAN (prefix + counter) whose correct check digits are `wanted`."""
    for counter in range(100_000):
        bban = f"{prefix}{counter:010d}"
        if with_check_digits(country, bban)[2:4] == wanted:
            return bban
    raise AssertionError("unreachable: one BBAN in 97 has any given check digits")


_BBAN_02 = _check_digits_equal_to("DE", "37040044", "02")
_BBAN_98 = _check_digits_equal_to("DE", "37040044", "98")

# (input, expected check) — each one wrong in exactly the way named.
INVALID = [
    ("", "empty"),
    ("    ", "empty"),
    ("DE89\t3704 0044 0532 0130 00", "characters"),
    ("DE89-3704-0044-0532-0130-00", "characters"),
    ("DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000", "characters"),
    ("DE89 ３７０４ 0044 0532 0130 00", "characters"),  # full-width digits
    ("DE89 ٣٧٠٤ 0044 0532 0130 00", "characters"),  # Arabic-Indic digits
    ("DE89\u200b3704 0044 0532 0130 00", "characters"),  # zero-width space
    ("DE89 3704 0044 0532 0130 00 \U0001f600", "characters"),  # emoji
    ("DЕ89 3704 0044 0532 0130 00", "characters"),  # Cyrillic Е
    ("DE89 3704 0044 0532 0130 00\n", "characters"),
    ("DE89.3704.0044.0532.0130.00", "characters"),
    ("IBAN: DE89 3704 0044 0532 0130 00", "characters"),
    ("XX82 WEST 1234 5698 7654 32", "country"),
    ("US64 SVBK US6S 3300 9588 79", "country"),
    ("1289 3704 0044 0532 0130 00", "country"),
    ("D", "country"),
    ("DE89 3704 0044 0532 0130 0", "length"),
    ("DE89 3704 0044 0532 0130 000", "length"),
    ("FR14 2004 1010 0505 0001 3M02 6061", "length"),
    ("GB29", "length"),
    ("NO93 8601 1117 94", "length"),
    ("DE88 3704 0044 0532 0130 00", "checksum"),
    ("DE89 3704 0044 0532 0103 00", "checksum"),  # two digits swapped
    ("GB29 NWBK 6016 1331 9268 18", "checksum"),
    ("FR76 3000 6000 0112 3456 7890 185", "checksum"),  # domain.md's illustrative example
    ("DEAB 3704 0044 0532 0130 00", "checksum"),
    (f"DE99{_BBAN_02}", "checksum"),  # 99 ≡ 02 mod 97: mod 97 passes, range does not
    (f"DE01{_BBAN_98}", "checksum"),  # 01 ≡ 98 mod 97
    (with_check_digits("DE", "37040044053201300A"), "format"),  # DE account is digits
    (with_check_digits("GB", "123460161331926819"), "format"),  # bank code must be letters
    (with_check_digits("FR", "2004A010050500013M02606"), "format"),  # bank code is digits
    (with_check_digits("FR", "20041010050500013M0260A"), "format"),  # key must be digits
    (with_check_digits("NL", "1BNA0417164300"), "format"),
    (with_check_digits("FR", "30006000011234567890188"), "rib_key"),
    (with_check_digits("FR", "20041010050500013M02605"), "rib_key"),
    (with_check_digits("FR", "20041010050500013M02600"), "rib_key"),
    (with_check_digits("MC", "11222000010123456789031"), "rib_key"),
    (with_check_digits("GP", "30006000011234567890188"), "rib_key"),
    (with_check_digits("RE", "30006000011234567890188"), "rib_key"),
    (with_check_digits("NC", "30006000011234567890190"), "rib_key"),
    (with_check_digits("YT", "30006000011234567890188"), "rib_key"),
    *[(text, "sepa") for text in VALID_OUTSIDE_SEPA],
    ("FR76" + "1" * 10_000, "length"),  # a 10 kB string
    ("\u200b" * 10_000, "characters"),
    ("A" * 10_000 + "-", "characters"),
]


def test_corpus_is_large_and_covers_every_check() -> None:
    assert len(VALID_SEPA) + len(VALID_OUTSIDE_SEPA) + len(INVALID) >= 40
    assert {check for _, check in INVALID} == set(IBAN_CHECKS)


@pytest.mark.parametrize("text", VALID_SEPA)
def test_valid_sepa_ibans(text: str) -> None:
    iban = validate_iban(text)
    assert iban == "".join(text.split()).upper()
    assert IBAN(iban).is_valid  # schwifty agrees


@pytest.mark.parametrize("text", VALID_OUTSIDE_SEPA)
def test_valid_ibans_outside_sepa(text: str) -> None:
    with pytest.raises(IbanError) as caught:
        validate_iban(text)
    assert caught.value.check == "sepa"
    assert "SEPA" in str(caught.value)
    assert validate_iban(text, require_sepa=False) == "".join(text.split())


@pytest.mark.parametrize(("text", "check"), INVALID, ids=lambda v: repr(v)[:40])
def test_invalid_ibans(text: str, check: str) -> None:
    with pytest.raises(IbanError) as caught:
        validate_iban(text)
    error = caught.value
    assert error.check == check
    assert isinstance(error, ValueError)
    message = str(error)
    assert "\n" not in message
    assert len(message) < 300
    compact = "".join(text.split()).upper()
    if len(compact) >= 12:
        assert compact not in message.upper()  # never the whole IBAN


def test_character_error_names_the_character_and_its_position() -> None:
    cases = {
        "DE89\t3704": ("'\\t'", "U+0009", "position 5"),
        "DE89 3704-0044": ("'-'", "U+002D", "position 10"),
        "DE89\u00a03704": ("'\\xa0'", "U+00A0", "position 5"),
        "DE89 ３７": ("'３'", "U+FF13", "position 6"),
        "DE\u200b89": ("'\\u200b'", "U+200B", "position 3"),
        "DE89 0000 \U0001f600": ("U+1F600", "position 11"),
        "٣DE": ("U+0663", "position 1"),
    }
    for text, fragments in cases.items():
        with pytest.raises(IbanError) as caught:
            normalize_iban(text)
        assert caught.value.check == "characters"
        for fragment in fragments:
            assert fragment in str(caught.value), (text, str(caught.value))


def test_length_error_gives_expected_and_actual() -> None:
    with pytest.raises(IbanError) as caught:
        validate_iban("FR76 3000 6000 0112 3456 7890 18")
    assert "27" in str(caught.value) and "26" in str(caught.value)


def test_check_order_characters_before_length_and_checksum() -> None:
    with pytest.raises(IbanError) as caught:
        validate_iban("DE00-1")
    assert caught.value.check == "characters"
    with pytest.raises(IbanError) as caught:
        validate_iban("DE00 1")  # wrong length and wrong checksum: length first
    assert caught.value.check == "length"
    with pytest.raises(IbanError) as caught:  # wrong checksum and bad format: checksum first
        validate_iban("DE00 3704 0044 0532 0130 0A")
    assert caught.value.check == "checksum"


def test_normalize_iban() -> None:
    assert normalize_iban(" fr76 3000 6000 0112 3456 7890 189 ") == "FR7630006000011234567890189"
    assert normalize_iban("") == ""
    assert normalize_iban("   ") == ""


def test_rib_key_examples() -> None:
    assert rib_key("30006", "00001", "12345678901") == 89
    assert rib_key("20041", "01005", "0500013M026") == 6
    assert rib_key("11222", "00001", "01234567890") == 30
    # Letters count as their RIB digit: M is 4.
    assert rib_key("20041", "01005", "0500013M026") == rib_key("20041", "01005", "05000134026")
    assert rib_key("20041", "01005", "0500013m026") == 6


@pytest.mark.parametrize(
    ("bank", "branch", "account"),
    [("3000", "00001", "12345678901"), ("30006", "0001", "12345678901"),
     ("30006", "00001", "1234567890"), ("3000A", "00001", "12345678901"),
     ("30006", "00001", "1234567890-"), ("30006", "00001", "１2345678901")],
)  # fmt: skip
def test_rib_key_refuses_malformed_parts(bank: str, branch: str, account: str) -> None:
    with pytest.raises(ValueError):
        rib_key(bank, branch, account)


@pytest.mark.parametrize("country", sorted(RIB_COUNTRIES))
def test_rib_countries_are_checked(country: str) -> None:
    good = with_check_digits(country, "30006000011234567890189")
    assert validate_iban(good) == good
    bad = with_check_digits(country, "30006000011234567890188")
    with pytest.raises(IbanError) as caught:
        validate_iban(bad)
    assert caught.value.check == "rib_key"


def test_iban_check_digits_matches_the_test_helper() -> None:
    assert iban_check_digits("DE", "370400440532013000") == "89"
    assert iban_check_digits("fr", "30006000011234567890189") == "76"


ribs = st.tuples(
    st.text(string.digits, min_size=5, max_size=5),
    st.text(string.digits, min_size=5, max_size=5),
    st.text(string.digits + string.ascii_uppercase, min_size=11, max_size=11),
)


@given(ribs, st.sampled_from(sorted(RIB_COUNTRIES)))
def test_generated_rib_verifies(rib: tuple[str, str, str], country: str) -> None:
    bank, branch, account = rib
    key = rib_key(bank, branch, account)
    assert 1 <= key <= 97
    assert key == rib_by_hand(bank, branch, account)
    iban = with_check_digits(country, f"{bank}{branch}{account}{key:02d}")
    assert validate_iban(iban) == iban
    if country in {"FR", "MC"}:  # the countries schwifty checks the RIB key for
        assert IBAN(iban, validate_bban=True).is_valid


@given(ribs, st.integers(min_value=0, max_value=99))
def test_any_other_key_is_refused(rib: tuple[str, str, str], wrong: int) -> None:
    bank, branch, account = rib
    if wrong == rib_key(bank, branch, account):
        return
    iban = with_check_digits("FR", f"{bank}{branch}{account}{wrong:02d}")
    with pytest.raises(IbanError) as caught:
        validate_iban(iban)
    assert caught.value.check == "rib_key"


def test_mask_and_format() -> None:
    iban = "FR7630006000011234567890189"
    assert mask_iban(iban) == "FR76 **** **** **** **** ***0 189"
    assert mask_iban("fr76 3000 6000 0112 3456 7890 189") == "FR76 **** **** **** **** ***0 189"
    assert mask_iban("DE89370400440532013000") == "DE89 **** **** **** **30 00"
    assert mask_iban("NO9386011117947") == "NO93 **** ***7 947"
    assert format_iban(iban) == "FR76 3000 6000 0112 3456 7890 189"
    assert format_iban("de89 3704 0044 0532 0130 00") == "DE89 3704 0044 0532 0130 00"
    assert mask_iban("DE89") == "DE**"
    assert mask_iban("") == ""


def _revealed(masked: str) -> int:
    return sum(1 for ch in masked if ch not in "* ")


@given(st.text(string.ascii_letters + string.digits + " ", max_size=60))
def test_mask_never_reveals_more_than_8_characters(text: str) -> None:
    masked = mask_iban(text)
    compact = "".join(text.split())
    assert _revealed(masked) <= 8
    assert len(masked.replace(" ", "")) == len(compact)
    if len(compact) >= 12:
        assert _revealed(masked) <= len(compact) // 2 + 2
    assert masked == format_iban(masked)  # grouped by 4


@given(ribs)
def test_mask_of_a_valid_iban_keeps_country_check_digits_and_last_4(
    rib: tuple[str, str, str],
) -> None:
    bank, branch, account = rib
    iban = with_check_digits("FR", f"{bank}{branch}{account}{rib_key(bank, branch, account):02d}")
    masked = mask_iban(iban).replace(" ", "")
    assert masked[:4] == iban[:4] and masked[-4:] == iban[-4:]
    assert set(masked[4:-4]) == {"*"}


@pytest.mark.parametrize(
    ("received", "first_debit"),
    [
        (date(2026, 3, 1), date(2026, 4, 7)),
        (date(2026, 3, 24), date(2026, 4, 7)),
        (date(2026, 3, 25), date(2026, 5, 5)),
        (date(2026, 3, 31), date(2026, 5, 5)),
        (date(2026, 11, 24), date(2026, 12, 7)),
        (date(2026, 11, 25), date(2027, 1, 5)),
        (date(2026, 12, 24), date(2027, 1, 5)),
        (date(2026, 12, 25), date(2027, 2, 5)),
    ],
)
def test_first_debit_on_new_iban(received: date, first_debit: date) -> None:
    assert first_debit_on_new_iban(received) == first_debit


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2080, 12, 31)))
def test_first_debit_on_new_iban_is_a_later_debit_date(received: date) -> None:
    first = first_debit_on_new_iban(received)
    assert first > received
    assert is_business_day(first)
    assert first == debit_date(first.year, first.month)
    months_ahead = (first.year - received.year) * 12 + first.month - received.month
    assert months_ahead == (1 if received.day < 25 else 2)


def test_format_error_points_at_the_wrong_part() -> None:
    with pytest.raises(IbanError) as caught:
        validate_iban(with_check_digits("GB", "123460161331926819"))
    assert caught.value.check == "format"
    assert "characters 5 to 8 should be capital letters" in str(caught.value)
    with pytest.raises(IbanError) as caught:
        validate_iban(with_check_digits("FR", "20041010050500013M0260A"))
    assert "characters 26 to 27 should be digits" in str(caught.value)


_SCHWIFTY_COUNTRIES = sorted(
    {"AT", "BE", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "IE", "IT", "LU", "MC", "NL", "NO"}
    | {"PL", "PT", "SE", "BR", "SA", "TR"}
)


@given(st.sampled_from(_SCHWIFTY_COUNTRIES), st.randoms(use_true_random=False))
def test_agrees_with_schwifty_on_generated_ibans(country: str, rng: Random) -> None:
    iban = str(IBAN.random(country, random=rng, use_registry=False))
    assert validate_iban(iban, require_sepa=False) == iban


@given(
    st.sampled_from([validate_iban(text) for text in VALID_SEPA]),
    st.data(),
)
def test_any_single_character_change_is_refused(iban: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(min_value=0, max_value=len(iban) - 1))
    # ISO 7064 mod 97-10 detects every substitution of a digit by a digit and of a letter
    # by a letter; a digit replaced by a letter changes the length of the numeric string
    # and can collide (LI21088100002324013AA with a V at 11 still passes mod 97).
    alphabet = string.digits if iban[position].isdigit() else string.ascii_uppercase
    replacement = data.draw(st.sampled_from(alphabet))
    if replacement == iban[position]:
        return
    changed = iban[:position] + replacement + iban[position + 1 :]
    with pytest.raises(IbanError) as caught:
        validate_iban(changed)
    assert caught.value.check in {"country", "length", "checksum", "format", "rib_key", "sepa"}
