"""One renderer for every format: what commands hand rows to, and the only thing that prints.

- table: Rich on a terminal (colour if allowed); plain aligned text when piped (no box
  drawing, no colour, no wrapping), so `| awk` and `| grep` work;
- json / ndjson / csv / tsv: raw values (cents as ints, ISO dates), streamed row by row
  where the format allows, so a bulk run never holds all rows in memory;
- markdown: a pipe table with the human formatting of the table.
Data is never interpreted as Rich markup: cells are `rich.text.Text` objects.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, Literal

from cli.config import FORMATS
from cli.errors import UsageError
from domain.i18n import Text

Kind = Literal["text", "money", "date", "int", "bool"]
Align = Literal["left", "right", "center"]
NONE_CELL = "-"


@dataclass(frozen=True)
class Column:
    """A column of output. `key` may be dotted ("customer.last_name") to reach nested data."""

    key: str
    header: str
    kind: Kind = "text"
    align: Align | None = None

    @property
    def justify(self) -> Align:
        if self.align is not None:
            return self.align
        return "right" if self.kind in ("money", "int") else "left"


def lookup(row: Mapping[str, Any], key: str) -> Any:
    """`row["a"]["b"]` for key "a.b"; None when any step is missing."""
    if key in row:
        return row[key]
    value: Any = row
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def human(value: Any, kind: Kind, locale: str) -> str:
    """A value as a person reads it in `locale` (tables and markdown)."""
    if value is None or value == "":
        return NONE_CELL
    if isinstance(value, Text):  # a sentence of ours (a credential store, a finding)
        from cli.i18n import localized

        return localized(value)
    if kind == "money" and isinstance(value, int) and not isinstance(value, bool):
        from domain.money import format_money

        return format_money(value, locale)
    if kind == "date" and isinstance(value, str):
        return _human_date(value, locale)
    if kind == "bool" or isinstance(value, bool):
        yes, no = ("oui", "non") if locale == "fr" else ("yes", "no")
        return yes if value else no
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, float) and locale == "fr":
        return str(value).replace(".", ",")  # 53,25 h: the decimal comma, as amounts have
    return str(value)


def number(value: float, locale: str, decimals: int = 0) -> str:
    """A count or a rate for people: `12,345.6` in English, `12 345,6` in French (an ASCII
    space between thousands, as `format_money` does)."""
    text = f"{value:,.{decimals}f}"
    if locale != "fr":
        return text
    return text.replace(",", " ").replace(".", ",")


def _human_date(value: str, locale: str) -> str:

    if locale != "fr":
        return value
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
        stamp = dt.datetime.fromisoformat(value)
        return stamp.strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return value


def raw(value: Any) -> str:
    """A value for CSV/TSV: machine-readable, empty for missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


class Renderer:
    """Writes data to stdout in the chosen format; notices and warnings go to stderr."""

    def __init__(
        self,
        stdout: IO[str],
        stderr: IO[str],
        *,
        fmt: str = "table",
        isatty: bool = False,
        color: bool = False,
        locale: str = "en",
        quiet: bool = False,
        columns: Sequence[str] | None = None,
    ) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.fmt = fmt
        self.isatty = isatty
        self.color = color
        self.locale = locale
        self.quiet = quiet
        self.selected = list(columns) if columns else None

    # -- stderr -------------------------------------------------------------------------

    def notice(self, message: str) -> None:
        """Information for people (suppressed by -q)."""
        if not self.quiet:
            self._err(message)

    def warn(self, message: str) -> None:
        """Something the user must know even with -q."""
        from cli.i18n import _

        self._err(_("warning: {message}").format(message=message))

    def _err(self, message: str) -> None:
        self.stderr.write(message + "\n")
        self.stderr.flush()

    # -- stdout -------------------------------------------------------------------------

    def text(self, line: str) -> None:
        """One line of data as is (a config value, a token, a completion script)."""
        self.stdout.write(line if line.endswith("\n") else line + "\n")
        self.stdout.flush()

    def json(self, obj: Any) -> None:
        """A JSON document (the `api` command): indented, keys in the server's order."""
        self.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")
        self.stdout.flush()

    def bytes(self, data: bytes) -> None:
        """Binary data (a PDF) to stdout."""
        self.stdout.flush()
        buffer = getattr(self.stdout, "buffer", None)
        if buffer is None:
            from cli.i18n import _

            raise UsageError(_("this output stream cannot take binary data; use --output FILE"))
        buffer.write(data)
        buffer.flush()

    def render(
        self,
        rows: Iterable[Mapping[str, Any]],
        columns: Sequence[Column],
        *,
        fmt: str | None = None,
        title: str | None = None,
        totals: Mapping[str, Any] | None = None,
    ) -> int:
        """Write rows; return how many were written."""
        fmt = fmt or self.fmt
        cols = self.choose(columns)
        if fmt == "json":
            return self._json_list(rows, cols)
        if fmt == "ndjson":
            return self._ndjson(rows, cols)
        if fmt in ("csv", "tsv"):
            return self._csv(rows, cols, "," if fmt == "csv" else "\t")
        if fmt == "markdown":
            return self._markdown(rows, cols, totals)
        if fmt == "table":
            if self.isatty:
                return self._rich_table(rows, cols, title, totals)
            return self._plain_table(rows, cols, totals)
        from cli.i18n import _

        raise UsageError(
            _("unknown output format {format}").format(format=repr(fmt)),
            hint=_("choose {choices}").format(choices=", ".join(FORMATS)),
        )

    def render_one(
        self,
        obj: Mapping[str, Any],
        fields: Sequence[Column],
        *,
        fmt: str | None = None,
        title: str | None = None,
    ) -> None:
        """One object: a key/value view in tables, an object in JSON."""
        fmt = fmt or self.fmt
        cols = self.choose(fields)
        if fmt == "json":
            self.stdout.write(
                json.dumps(self._pick(obj, cols), indent=2, ensure_ascii=False) + "\n"
            )
            self.stdout.flush()
        elif fmt in ("ndjson", "csv", "tsv"):
            self.render([obj], cols, fmt=fmt)
        else:
            pairs = [
                {"field": c.header, "value": human(lookup(obj, c.key), c.kind, self.locale)}
                for c in cols
            ]
            from cli.i18n import _

            kv = [Column("field", _("field")), Column("value", _("value"))]
            if fmt == "markdown":
                self._markdown(pairs, kv, None)
            elif self.isatty:
                self._rich_table(pairs, kv, title, None, key_value=True)
            else:
                labels = [_("{label}:").format(label=p["field"]) for p in pairs]
                width = max((len(label) for label in labels), default=0)
                for label, p in zip(labels, pairs, strict=True):
                    self.stdout.write(f"{label:<{width}} {p['value']}\n")

                self.stdout.flush()

    def choose(self, columns: Sequence[Column]) -> list[Column]:
        """Apply `--columns a,b`: select and order; an unknown name is a usage error."""
        if not self.selected:
            return list(columns)
        by_key = {c.key: c for c in columns}
        unknown = [name for name in self.selected if name not in by_key]
        if unknown:
            from cli.i18n import _

            raise UsageError(
                _("unknown column {columns}").format(columns=", ".join(unknown)),
                hint=_("valid columns: {columns}").format(columns=", ".join(by_key)),
            )
        return [by_key[name] for name in self.selected]

    # -- machine formats (stream) -------------------------------------------------------

    def _pick(self, row: Mapping[str, Any], cols: Sequence[Column]) -> dict[str, Any]:
        return {c.key: lookup(row, c.key) for c in cols}

    def _json_list(self, rows: Iterable[Mapping[str, Any]], cols: Sequence[Column]) -> int:
        out = self.stdout
        if self.isatty:  # a person reads it: indent; small results only on a terminal
            items = [self._pick(r, cols) for r in rows]
            out.write(json.dumps(items, indent=2, ensure_ascii=False) + "\n")
            out.flush()
            return len(items)
        # Piped: stream one element per line, still one valid JSON array.
        count = 0
        out.write("[")
        for row in rows:
            out.write(("," if count else "") + "\n")
            out.write(json.dumps(self._pick(row, cols), ensure_ascii=False))
            out.flush()
            count += 1
        out.write(("\n" if count else "") + "]\n")
        out.flush()
        return count

    def _ndjson(self, rows: Iterable[Mapping[str, Any]], cols: Sequence[Column]) -> int:
        count = 0
        for row in rows:
            self.stdout.write(json.dumps(self._pick(row, cols), ensure_ascii=False) + "\n")
            self.stdout.flush()
            count += 1
        return count

    def _csv(self, rows: Iterable[Mapping[str, Any]], cols: Sequence[Column], sep: str) -> int:
        writer = csv.writer(self.stdout, delimiter=sep, lineterminator="\n")
        writer.writerow([c.key for c in cols])
        count = 0
        for row in rows:
            writer.writerow([raw(lookup(row, c.key)) for c in cols])
            self.stdout.flush()
            count += 1
        return count

    # -- human formats --------------------------------------------------------------------

    def _cells(
        self, rows: Iterable[Mapping[str, Any]], cols: Sequence[Column]
    ) -> Iterator[list[str]]:
        for row in rows:
            yield [human(lookup(row, c.key), c.kind, self.locale) for c in cols]

    def _totals_cells(self, totals: Mapping[str, Any], cols: Sequence[Column]) -> list[str]:
        cells = [human(totals[c.key], c.kind, self.locale) if c.key in totals else "" for c in cols]
        if cols and cols[0].key not in totals:
            from cli.i18n import _

            cells[0] = _("Total")

        return cells

    def _plain_table(
        self,
        rows: Iterable[Mapping[str, Any]],
        cols: Sequence[Column],
        totals: Mapping[str, Any] | None,
    ) -> int:
        from tabulate import tabulate

        # One row per line, always: a line break inside a value would split the row.
        body = [[" ".join(cell.splitlines()) for cell in r] for r in self._cells(rows, cols)]
        count = len(body)
        if totals and body:
            body.append(self._totals_cells(totals, cols))
        text = tabulate(
            body,
            headers=[c.header for c in cols],
            tablefmt="plain",
            disable_numparse=True,
            colalign=[c.justify for c in cols],
        )
        self.stdout.write(text + "\n")
        self.stdout.flush()
        return count

    def _markdown(
        self,
        rows: Iterable[Mapping[str, Any]],
        cols: Sequence[Column],
        totals: Mapping[str, Any] | None,
    ) -> int:
        from tabulate import tabulate

        def esc(cell: str) -> str:
            return cell.replace("|", "\\|").replace("\n", " ")

        body = [[esc(cell) for cell in r] for r in self._cells(rows, cols)]
        count = len(body)
        if totals and body:
            body.append([f"**{esc(c)}**" if c else "" for c in self._totals_cells(totals, cols)])
        text = tabulate(
            body,
            headers=[esc(c.header) for c in cols],
            tablefmt="pipe",
            disable_numparse=True,
            colalign=[c.justify for c in cols],
        )
        self.stdout.write(text + "\n")
        self.stdout.flush()
        return count

    def _rich_table(
        self,
        rows: Iterable[Mapping[str, Any]],
        cols: Sequence[Column],
        title: str | None,
        totals: Mapping[str, Any] | None,
        *,
        key_value: bool = False,
    ) -> int:
        # Imported here: rich costs start-up time and is only needed on a terminal.
        from rich import box
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        console = Console(
            file=self.stdout,
            force_terminal=True,
            color_system="auto" if self.color else None,
            no_color=not self.color,
            markup=False,
            emoji=False,
            highlight=False,
        )
        table = Table(
            title=Text(title) if title else None,
            box=box.SIMPLE_HEAD,
            show_header=not key_value,
            header_style="bold" if self.color else "",
        )
        for c in cols:
            table.add_column(
                Text(c.header),
                justify=c.justify,
                style="bold" if key_value and c.key == "field" and self.color else "",
            )
        count = 0
        for cells in self._cells(rows, cols):
            table.add_row(*(Text(cell) for cell in cells))
            count += 1
        if totals and count:
            table.add_section()
            table.add_row(
                *(Text(cell) for cell in self._totals_cells(totals, cols)),
                style="bold" if self.color else "",
            )
        console.print(table)
        return count
