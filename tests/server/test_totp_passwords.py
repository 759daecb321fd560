"""RFC 6238 one-time codes and the password hash format."""

from __future__ import annotations

import base64

import pytest

from server.passwords import hash_password, verify_password
from server.seed import DEMO_PASSWORD_HASHES, DEMO_PASSWORDS
from server.totp import hotp, totp_now, verify_totp

# RFC 6238 appendix B, SHA1 rows: the seed is the ASCII string "12345678901234567890".
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("at", "expected"), RFC_VECTORS)
def test_rfc6238_vectors(at: int, expected: str) -> None:
    key = b"12345678901234567890"
    assert hotp(key, at // 30, digits=8) == expected
    assert totp_now(RFC_SECRET, at=at) == expected[-6:]  # 6 digits: the last six


def test_verify_accepts_one_step_of_drift_only() -> None:
    code = totp_now(RFC_SECRET, at=1234567890)
    assert verify_totp(RFC_SECRET, code, at=1234567890)
    assert verify_totp(RFC_SECRET, code, at=1234567890 + 30)
    assert verify_totp(RFC_SECRET, code, at=1234567890 - 30)
    assert not verify_totp(RFC_SECRET, code, at=1234567890 + 90)
    assert not verify_totp(RFC_SECRET, code, at=1234567890 + 30, window=0)


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦"])
def test_verify_refuses_malformed_codes(bad: str) -> None:
    assert not verify_totp(RFC_SECRET, bad, at=59)


def test_secret_spacing_and_case_do_not_matter() -> None:
    spaced = " ".join(RFC_SECRET[i : i + 4] for i in range(0, len(RFC_SECRET), 4)).lower()
    assert totp_now(spaced.rstrip("="), at=59) == "287082"
    assert not verify_totp("not base32!", "287082", at=59)


def test_password_round_trip() -> None:
    stored = hash_password("correct horse", iterations=1000)
    assert stored.startswith("pbkdf2_sha256$1000$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsf", stored)
    assert hash_password("same") != hash_password("same")  # a fresh salt each time


@pytest.mark.parametrize("stored", ["", "plain", "md5$1$00$00", "pbkdf2_sha256$x$00$00"])
def test_malformed_stored_hashes_never_verify(stored: str) -> None:
    assert not verify_password("anything", stored)


def test_precomputed_demo_hashes_match_the_documented_passwords() -> None:
    for user, password in DEMO_PASSWORDS.items():
        assert verify_password(password, DEMO_PASSWORD_HASHES[user])
