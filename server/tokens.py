"""Access and refresh tokens: minted here, checked by `server.auth`.

A token is `mc_at_…` (access) or `mc_rt_…` (refresh) followed by 32 URL-safe random
characters; only its SHA-256 hex digest is stored, so a copy of the database cannot be used
to log in. The prefixes let secret scanners and humans recognise a leaked token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from server.models import Token, User

__all__ = [
    "ACCESS_PREFIX",
    "ACCESS_TTL",
    "REFRESH_PREFIX",
    "REFRESH_TTL",
    "hash_token",
    "new_token_pair",
]

ACCESS_PREFIX = "mc_at_"
REFRESH_PREFIX = "mc_rt_"
ACCESS_TTL = timedelta(hours=12)
REFRESH_TTL = timedelta(days=30)


def hash_token(token: str) -> str:
    """The stored form of a token (compare with `Token.access_hash` / `refresh_hash`)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _random_part() -> str:
    # token_urlsafe(24) gives exactly 32 characters from the URL-safe base64 alphabet
    return secrets.token_urlsafe(24)


def new_token_pair(session: Session, user: User, now: datetime) -> tuple[str, str, Token]:
    """Add a Token row for `user` (not committed) and return (access, refresh, row).

    `now` is a naive UTC datetime, like every instant in the schema. The caller commits,
    so a login can be part of a larger transaction (clearing failed attempts, say).
    """
    access = ACCESS_PREFIX + _random_part()
    refresh = REFRESH_PREFIX + _random_part()
    row = Token(
        user_id=user.id,
        access_hash=hash_token(access),
        refresh_hash=hash_token(refresh),
        access_expires_at=now + ACCESS_TTL,
        refresh_expires_at=now + REFRESH_TTL,
        revoked=False,
        created_at=now,
    )
    session.add(row)
    return access, refresh, row
