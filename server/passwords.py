"""Password hashing for the reference server: PBKDF2-HMAC-SHA256 from the standard library.

Stored form: `pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`, the iteration count kept
in the string so that it can be raised later without invalidating existing hashes.
100,000 iterations keep a login around 50 ms on this machine; the sandbox's demo users get
precomputed hashes (see `server.seed`) so seeding never pays that cost.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["ITERATIONS", "hash_password", "verify_password"]

ITERATIONS = 100_000
_ALGORITHM = "pbkdf2_sha256"


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """Hash a password with a fresh 16-byte salt (or the one given, for fixed seed data)."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{_ALGORITHM}${iterations}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`; False for any malformed stored value."""
    try:
        algorithm, iterations_text, salt_hex, digest_hex = stored.split("$")
        iterations = int(iterations_text)
        salt = bytes.fromhex(salt_hex)
        expected = bytes.fromhex(digest_hex)
    except ValueError:
        return False
    if algorithm != _ALGORITHM or iterations < 1:
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    # constant-time comparison: the time taken must not tell how many bytes matched
    return hmac.compare_digest(digest, expected)
