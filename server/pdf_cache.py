"""Rendered PDFs kept in memory, keyed by everything they show.

fpdf2 takes about 130 ms of CPU for one invoice (most of it parsing and subsetting the
DejaVu font), against 2 to 6 ms for any other request: under the load test's mix (2 %
PDFs) the PDFs alone wanted more than one of the machine's two CPUs. A document depends
only on its database rows, so the key is a digest of every column of every row it is
drawn from: a row that changes (an invoice paid, a customer who moved) makes a new key,
never a stale PDF. Per process, bounded (`MAX_ENTRIES`, least recently used out first).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["MAX_ENTRIES", "cached", "clear", "row_digest"]

MAX_ENTRIES = 256  # about 25 KiB each: a few MiB per process

_entries: OrderedDict[bytes, bytes] = OrderedDict()
_lock = threading.Lock()


def _columns(row: Any) -> tuple[Any, ...]:
    mapper = type(row).__mapper__
    return (mapper.class_.__name__, *(getattr(row, c.key) for c in mapper.column_attrs))


def row_digest(kind: str, rows: Iterable[Any]) -> bytes:
    """A digest of `kind` and every column value of `rows` (ORM objects), in order."""
    digest = hashlib.sha256(kind.encode())
    for row in rows:
        digest.update(repr(_columns(row)).encode())
    return digest.digest()


def cached(key: bytes, render: Callable[[], bytes]) -> bytes:
    """The PDF stored under `key`, rendered (outside the lock) when missing."""
    with _lock:
        found = _entries.get(key)
        if found is not None:
            _entries.move_to_end(key)
            return found
    made = render()
    with _lock:
        _entries[key] = made
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return made


def clear() -> None:
    with _lock:
        _entries.clear()
