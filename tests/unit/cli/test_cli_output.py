"""The renderer: every format round-trips, streams, and never interprets data as markup."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from cli.context import GlobalOptions
from cli.errors import UsageError
from cli.output import Column, Renderer

from .helpers import FakeStream, make_env

ANSI = re.compile(r"\x1b\[")
COLUMNS = [
    Column("id", "ID"),
    Column("customer", "Customer"),
    Column("total_cents", "Total", "money"),
    Column("issue_date", "Issued", "date"),
    Column("paid", "Paid", "bool"),
    Column("lines", "Lines", "int"),
]
ROWS: list[dict[str, Any]] = [
    {
        "id": "INV-1",
        "customer": "[bold]x[/]",
        "total_cents": 123456,
        "issue_date": "2026-11-24",
        "paid": True,
        "lines": 3,
        "extra": "not a column",
    },
    {
        "id": "INV-2",
        "customer": 'Dupont, "Jean"\nline2',
        "total_cents": -5,
        "issue_date": None,
        "paid": False,
        "lines": 0,
    },
]


def render(
    fmt: str,
    *,
    tty: bool = False,
    environ: dict[str, str] | None = None,
    columns: list[str] | None = None,
    **kw: Any,
) -> str:
    env = make_env(
        environ or {"TERM": "xterm"}, tty=tty, options=GlobalOptions(output=fmt, columns=columns)
    )
    env.out.render(ROWS, COLUMNS, **kw)
    return env.stdout.getvalue()  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize("tty", [False, True])
def test_json_is_a_list_of_raw_values(tty: bool) -> None:
    data = json.loads(render("json", tty=tty))
    assert data[0] == {
        "id": "INV-1",
        "customer": "[bold]x[/]",
        "total_cents": 123456,
        "issue_date": "2026-11-24",
        "paid": True,
        "lines": 3,
    }
    assert data[1]["issue_date"] is None and data[1]["total_cents"] == -5


def test_json_empty_list() -> None:
    env = make_env({}, options=GlobalOptions(output="json"))
    env.out.render([], COLUMNS)
    assert json.loads(env.stdout.getvalue()) == []  # type: ignore[attr-defined]


def test_ndjson_one_object_a_line() -> None:
    lines = render("ndjson").splitlines()
    assert len(lines) == 2
    assert [json.loads(line)["id"] for line in lines] == ["INV-1", "INV-2"]


@pytest.mark.parametrize(("fmt", "sep"), [("csv", ","), ("tsv", "\t")])
def test_csv_and_tsv_read_back(fmt: str, sep: str) -> None:
    text = render(fmt)
    rows = list(csv.DictReader(io.StringIO(text), delimiter=sep))
    assert list(rows[0]) == [c.key for c in COLUMNS]
    assert rows[0]["total_cents"] == "123456" and rows[0]["paid"] == "true"
    assert rows[1]["customer"] == 'Dupont, "Jean"\nline2'
    assert rows[1]["issue_date"] == ""


def test_streaming_formats_write_each_row_before_the_next_is_made() -> None:
    """ndjson/csv never materialise the iterable: rows are out before a later row fails."""
    for fmt in ("ndjson", "csv", "json"):
        env = make_env({}, options=GlobalOptions(output=fmt))

        def rows() -> Iterator[dict[str, Any]]:
            yield ROWS[0]
            yield ROWS[1]
            raise RuntimeError("network died")

        with pytest.raises(RuntimeError):
            env.out.render(rows(), COLUMNS)
        assert env.stdout.getvalue().count("INV-2") == 1, fmt  # type: ignore[attr-defined]


def test_plain_table_when_piped_has_no_ansi_no_box_and_literal_markup() -> None:
    text = render(
        "table", environ={"TERM": "xterm", "LANG": "fr_FR.UTF-8"}, totals={"total_cents": 123451}
    )
    assert not ANSI.search(text)
    assert not set("─│┃━┏┗") & set(text)
    assert "[bold]x[/]" in text
    lines = text.splitlines()
    assert lines[0].split() == ["ID", "Customer", "Total", "Issued", "Paid", "Lines"]
    assert "1 234,56 €" in lines[1] and "24/11/2026" in lines[1] and "oui" in lines[1]
    assert lines[-1].startswith("Total") and "1 234,51 €" in lines[-1]


def test_english_locale_keeps_iso_dates() -> None:
    text = render("table", environ={"LANG": "C.UTF-8"})
    assert "€1,234.56" in text and "2026-11-24" in text and "yes" in text


def test_rich_table_on_a_terminal_colour_and_literal_markup() -> None:
    text = render("table", tty=True, title="[red]Invoices[/red]")
    assert ANSI.search(text)  # colour on a terminal
    assert "[bold]x[/]" in text and "[red]Invoices[/red]" in text


@pytest.mark.parametrize("environ", [{"NO_COLOR": "1", "TERM": "xterm"}, {"TERM": "dumb"}])
def test_no_color_env_switches_colour_off(environ: dict[str, str]) -> None:
    text = render("table", tty=True, environ=environ)
    assert not ANSI.search(text)
    assert "[bold]x[/]" in text


def test_no_color_flag() -> None:
    env = make_env({"TERM": "xterm"}, tty=True, options=GlobalOptions(no_color=True))
    env.out.render(ROWS, COLUMNS)
    assert not ANSI.search(env.stdout.getvalue())  # type: ignore[attr-defined]


def test_markdown_pipe_table() -> None:
    text = render("markdown", environ={"LANG": "fr_FR"}, totals={"total_cents": 1})
    lines = text.splitlines()
    assert lines[0].startswith("| ID") and set(lines[1]) <= set("|:- ")
    assert "1 234,56 €" in lines[2]
    assert "**Total**" in lines[-1]


def test_totals_only_in_tables() -> None:
    assert "Total" not in render("csv", totals={"total_cents": 1}).split("\n", 1)[1]
    assert len(json.loads(render("json", totals={"total_cents": 1}))) == 2


def test_columns_select_and_order() -> None:
    data = json.loads(render("json", columns=["total_cents", "id"]))
    assert data[0] == {"total_cents": 123456, "id": "INV-1"}
    header = render("csv", columns=["paid", "id"]).splitlines()[0]
    assert header == "paid,id"


def test_unknown_column_is_a_usage_error_listing_valid_ones() -> None:
    with pytest.raises(UsageError) as info:
        render("table", columns=["id", "nope"])
    assert info.value.exit_code == 2
    assert "nope" in info.value.message
    assert info.value.hint and "customer" in info.value.hint


def test_render_one_views() -> None:
    obj = {"username": "demo", "scope": "customer", "customer": {"number": "C-1"}}
    fields = [Column("username", "username"), Column("customer.number", "customer")]
    env = make_env({}, options=GlobalOptions(output="json"))
    env.out.render_one(obj, fields)
    assert json.loads(env.stdout.getvalue()) == {  # type: ignore[attr-defined]
        "username": "demo",
        "customer.number": "C-1",
    }
    env = make_env({})
    env.out.render_one(obj, fields)
    assert env.stdout.getvalue() == "username: demo\ncustomer: C-1\n"  # type: ignore[attr-defined]


def test_notices_go_to_stderr_and_quiet_hides_them() -> None:
    env = make_env({})
    env.out.notice("hello")
    env.out.warn("careful")
    assert env.stderr.getvalue() == "hello\nwarning: careful\n"  # type: ignore[attr-defined]
    assert env.stdout.getvalue() == ""  # type: ignore[attr-defined]
    env = make_env({}, options=GlobalOptions(quiet=True))
    env.out.notice("hello")
    env.out.warn("careful")
    assert env.stderr.getvalue() == "warning: careful\n"  # type: ignore[attr-defined]


def test_renderer_can_be_built_directly() -> None:
    out, err = FakeStream(), FakeStream()
    Renderer(out, err, fmt="tsv").render([{"a": 1}], [Column("a", "A")])
    assert out.getvalue() == "a\n1\n"
