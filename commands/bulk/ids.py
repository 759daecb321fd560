"""Customer IDs for bulk runs: `--customer ID` (repeatable) and `--customers-file FILE|-`.

Read lazily, one line at a time, so a list of a million IDs costs no more memory than
what remembers which were seen (duplicates are looked up once; `SeenIds`). A line is one ID;
blank lines and `# comments` are skipped; a CSV/TSV line gives its first field, and a
first line `id` or `customer_id` is taken for a header. A JSON line (what `--errors FILE`
writes) gives its `id`, so the failures of a run can be fed back as they are:
`--customers-file errors.ndjson`.

Nothing here imports typer, httpx or rich.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO

from cli.errors import UsageError
from cli.files import cannot_read
from cli.i18n import _
from domain.i18n import N_, Text

MAX_ID_LENGTH = 64  # the API refuses longer ones, which would fail a whole batch
_VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
_HEADERS = frozenset({"id", "customer_id", "customer"})


@dataclass(frozen=True)
class RawId:
    """One ID as read, with the reason it is unusable (None when it is fine)."""

    value: str
    problem: str | None = None


def parse_line(line: str) -> str | None:
    """The ID on a line, or None for a blank line or a comment."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            return text
        if isinstance(obj, dict):
            for key in ("id", "customer_id"):
                value = obj.get(key)
                if isinstance(value, str) and value.strip():
                    return value.strip()
        return text
    for sep in (",", "\t", ";"):
        if sep in text:
            text = text.split(sep, 1)[0].strip().strip('"')
            break
    return text or None


def check_id(value: str) -> str | None:
    """Why `value` cannot be a customer ID, or None."""
    if len(value) > MAX_ID_LENGTH:
        return Text(N_("not a customer id (over {max} characters)"), max=MAX_ID_LENGTH)
    if not _VALID.fullmatch(value):
        return Text(N_("not a customer id (unexpected characters)"))
    return None


def ids_from_lines(lines: Iterable[str]) -> Iterator[str]:
    """The IDs of a file's lines, in order (duplicates kept; see `unique_ids`)."""
    first = True
    for line in lines:
        value = parse_line(line)
        if value is None:
            continue
        if first:
            first = False
            if value.lower() in _HEADERS:
                continue
        yield value


# The provider's own IDs, "C" and 7 digits: remembered as one bit each (1.25 MiB for all
# ten million) instead of a string in a set (about 100 bytes each: 100 MiB for a million).
_NUMBERED = re.compile(r"C([0-9]{7})")
_NUMBERED_SPACE = 10_000_000


class SeenIds:
    """Which IDs a run met already: a bitmap for `C` + 7 digits, a set for the rest."""

    def __init__(self) -> None:
        self._bits: bytearray | None = None  # made on the first numbered ID
        self._others: set[str] = set()

    def add(self, value: str) -> bool:
        """Remember `value`; False when it was met before."""
        numbered = _NUMBERED.fullmatch(value)
        if numbered is None:
            if value in self._others:
                return False
            self._others.add(value)
            return True
        if self._bits is None:
            self._bits = bytearray(_NUMBERED_SPACE // 8)
        number = int(numbered.group(1))
        byte, bit = divmod(number, 8)
        if self._bits[byte] >> bit & 1:
            return False
        self._bits[byte] |= 1 << bit
        return True


def unique_ids(values: Iterable[str]) -> Iterator[RawId]:
    """Each distinct ID once, checked, in the order first seen."""
    seen = SeenIds()
    for value in values:
        if seen.add(value):
            yield RawId(value, check_id(value))


@dataclass
class IdSource:
    """Where a bulk run's IDs come from: the `--customer` values, then the file."""

    customers: Sequence[str]
    file: str | None
    stdin: IO[str]

    @property
    def given(self) -> bool:
        return bool(self.customers) or self.file is not None

    def _file_lines(self) -> Iterator[str]:
        if self.file is None:
            return
        if self.file == "-":
            yield from self.stdin
            return
        path = Path(os.path.expanduser(self.file))
        try:
            handle = path.open(encoding="utf-8-sig", errors="replace", newline="")
        except FileNotFoundError:
            raise _no_such_file(self.file) from None
        except IsADirectoryError:
            raise _a_directory(self.file) from None
        except OSError as exc:
            raise cannot_read(self.file, exc) from None
        with handle:
            yield from handle

    def check_readable(self) -> None:
        """Fail before any request when the file cannot be opened."""
        if self.file is None or self.file == "-":
            return
        path = Path(os.path.expanduser(self.file))
        if not path.exists():
            raise _no_such_file(self.file)
        if path.is_dir():
            raise _a_directory(self.file)

    def __iter__(self) -> Iterator[RawId]:
        explicit = (v.strip() for v in self.customers if v.strip())
        return unique_ids(_chain(explicit, ids_from_lines(self._file_lines())))

    def count(self) -> int | None:
        """How many distinct IDs (for the progress bar's ETA): a first pass over a file,
        None for stdin. Costs the set of IDs once, then it is freed."""
        if self.file == "-":
            return None
        return sum(1 for _ in self)


def _chain(*parts: Iterable[str]) -> Iterator[str]:
    for part in parts:
        yield from part


def chunks(values: Iterable[RawId], size: int) -> Iterator[list[RawId]]:
    """Lists of at most `size` items, pulled lazily."""
    iterator = iter(values)
    while True:
        chunk = list(islice(iterator, size))
        if not chunk:
            return
        yield chunk


def _no_such_file(file: str) -> UsageError:
    return UsageError(_("no such file: {file}").format(file=file))


def _a_directory(file: str) -> UsageError:
    return UsageError(_("{file} is a directory, not a file of IDs").format(file=file))
