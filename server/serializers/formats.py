"""How dates and times appear in the JSON: aware UTC with a `Z`, and the `json.dumps`
default of the bulk lookup path that gives the same forms as pydantic.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any


def utc(dt: datetime | None) -> datetime | None:
    """Naive UTC from the database → aware UTC, serialised with a `Z`."""
    return None if dt is None else dt.replace(tzinfo=UTC)


def json_default(value: Any) -> Any:
    """`json.dumps` default for the lean bulk path: the same forms pydantic would give."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
