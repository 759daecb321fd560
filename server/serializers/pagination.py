"""Pagination of list responses: the default and maximum page sizes, the opaque cursors,
and the `Page` shape every paginated list extends.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from domain.i18n import N_, Text
from server.problems import Problem

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor: base64url of the last item's sort key."""
    raw = json.dumps(list(values), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != arity:
        raise Problem(
            422,
            "validation_error",
            Text(N_("{field}: not a cursor returned by this API"), field="query.cursor"),
        )
    return values


class Page(BaseModel):
    items: list[Any]
    next_cursor: str | None
