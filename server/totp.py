"""One-time codes for staff logins: RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30-second steps).

Standard library only, so the sandbox needs no extra dependency and the same secret works
with any authenticator app (secrets are base32, as in `otpauth://` URIs).
"""

from __future__ import annotations

import base64
import hmac
import struct
import time

__all__ = ["DIGITS", "STEP_SECONDS", "hotp", "totp_now", "verify_totp"]

DIGITS = 6
STEP_SECONDS = 30


def _decode_secret(secret_b32: str) -> bytes:
    # Authenticator apps show secrets in groups, lower case, without padding: accept all.
    cleaned = secret_b32.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, digest: str = "sha1") -> str:
    """RFC 4226 HOTP value of `counter` (dynamic truncation, zero-padded)."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    code = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def totp_now(secret_b32: str, at: float | None = None) -> str:
    """The code valid at instant `at` (Unix seconds; now when None)."""
    moment = time.time() if at is None else at
    return hotp(_decode_secret(secret_b32), int(moment // STEP_SECONDS))


def verify_totp(secret: str, code: str, at: float | None = None, window: int = 1) -> bool:
    """Whether `code` is valid at `at`, accepting `window` steps either side for clock drift."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return False
    try:
        key = _decode_secret(secret)
    except ValueError:  # binascii.Error (bad base32) is a ValueError
        return False
    moment = time.time() if at is None else at
    step = int(moment // STEP_SECONDS)
    # compare every candidate in constant time, and do not stop at the first match
    matched = False
    for delta in range(-window, window + 1):
        if hmac.compare_digest(hotp(key, step + delta), code):
            matched = True
    return matched
