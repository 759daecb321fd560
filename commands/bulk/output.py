"""Where a bulk run's results go: rows streamed to stdout in the order of the input, from
the main thread only, and a progress line on a terminal's stderr."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from cli.i18n import _
from cli.output import Column, lookup, number, raw

if TYPE_CHECKING:
    from cli.context import Env

HUMAN_FORMATS = ("table", "markdown")
PROGRESS_EVERY = 0.1  # seconds between progress redraws

RowsOf = Callable[[str, Any], Iterable[Mapping[str, Any]]]


def single_row(_customer_id: str, data: Any) -> Iterable[Mapping[str, Any]]:
    """The rows of a resource that is one object per customer (the customer itself)."""
    return [data] if isinstance(data, Mapping) else []


def list_rows(_customer_id: str, data: Any) -> Iterable[Mapping[str, Any]]:
    """The rows of a resource that is a list per customer (invoices, contracts)."""
    return [r for r in data if isinstance(r, Mapping)] if isinstance(data, list) else []


class Writer:
    """Streams rows to stdout, a batch at a time, from the main thread only."""

    def __init__(self, stream: IO[str], fmt: str, columns: Sequence[Column]) -> None:
        self.stream = stream
        self.fmt = fmt
        self.columns = list(columns)
        self.keys = [c.key for c in self.columns]
        self.rows = 0
        self._started = False
        self._table: list[dict[str, Any]] = []
        self._csv: Any = None
        self._buffer: Any = None

    def start(self) -> None:
        self._started = True
        if self.fmt in ("csv", "tsv"):
            import csv
            import io

            self._buffer = io.StringIO()
            self._csv = csv.writer(
                self._buffer, delimiter="," if self.fmt == "csv" else "\t", lineterminator="\n"
            )
            self._csv.writerow(self.keys)
            self._flush_csv()
        elif self.fmt == "json":
            self.stream.write("[")
            self.stream.flush()

    def _pick(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {k: lookup(row, k) for k in self.keys}

    def write(self, rows: Iterable[Mapping[str, Any]]) -> None:
        fmt = self.fmt
        if fmt == "ndjson":
            lines = [json.dumps(self._pick(r), ensure_ascii=False) for r in rows]
            if lines:
                self.stream.write("\n".join(lines) + "\n")
                self.stream.flush()
                self.rows += len(lines)
        elif fmt in ("csv", "tsv"):
            n = 0
            for r in rows:
                self._csv.writerow([raw(lookup(r, k)) for k in self.keys])
                n += 1
            if n:
                self._flush_csv()
                self.rows += n
        elif fmt == "json":
            parts = []
            for r in rows:
                item = json.dumps(self._pick(r), ensure_ascii=False)
                parts.append(("," if self.rows else "") + "\n" + item)
                self.rows += 1
            if parts:
                self.stream.write("".join(parts))
                self.stream.flush()
        else:  # table / markdown: small runs only, rendered at the end
            for r in rows:
                self._table.append(dict(r))
                self.rows += 1

    def _flush_csv(self) -> None:
        self.stream.write(self._buffer.getvalue())
        self.stream.flush()
        self._buffer.seek(0)
        self._buffer.truncate()

    def finish(self, env: Env) -> None:
        if not self._started:
            return
        if self.fmt == "json":
            self.stream.write(("\n" if self.rows else "") + "]\n")
            self.stream.flush()
        elif self.fmt in HUMAN_FORMATS:
            env.out.render(self._table, self.columns, fmt=self.fmt)


# --- progress --------------------------------------------------------------------------------


class Progress:
    """`done 4,300/10,000 · failed 12 · 2,150/s · ETA 3 s` on a terminal's stderr."""

    def __init__(
        self, stream: IO[str], enabled: bool, total: int | None, locale: str = "en"
    ) -> None:
        self.stream = stream
        self.enabled = enabled
        self.total = total
        self.locale = locale
        self.started = time.monotonic()
        self._drawn = 0.0
        self._shown = False

    def clear(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False

    def draw(self, done: int, failed: int, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn < PROGRESS_EVERY:
            return
        self._drawn = now
        elapsed = max(now - self.started, 1e-6)
        processed = done + failed
        rate = processed / elapsed
        parts = []
        n = self._number
        if self.total:
            share = min(processed / self.total, 1.0)
            filled = int(share * 20)
            bar = "#" * filled + "." * (20 - filled)
            parts.append(f"[{bar}] {n(processed)}/{n(self.total)}")
        else:
            parts.append(n(processed))
        parts.append(_("done {n}").format(n=n(done)))
        parts.append(_("failed {n}").format(n=n(failed)))
        parts.append(_("{n}/s").format(n=n(rate)))
        if self.total and rate > 0 and processed < self.total:
            parts.append(
                _("ETA {duration}").format(duration=_duration((self.total - processed) / rate))
            )

        self.stream.write("\r\x1b[K" + " · ".join(parts))
        self.stream.flush()
        self._shown = True

    def _number(self, value: float) -> str:
        return number(value, self.locale)


def _duration(seconds: float) -> str:
    seconds = max(0, math.ceil(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
