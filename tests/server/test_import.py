"""`python -m server import customers FILE.csv`: a provider's customers, contracts and bank
details imported into real SQLite databases, then read back through the real API; every
validation rule refusing the whole file, reruns that change nothing, and the ways a file can
fail to be read."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import sys
import tempfile
import unicodedata
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.iban import iban_check_digits
from server import embedded
from server.__main__ import main as server_main
from server.db import create_schema, make_engine
from server.importer import COLUMNS, import_customers, store
from server.seed import french_iban

from .conftest import TODAY, seeded_engine

IBAN_1 = french_iban("30004", "00001", "12345678901")  # FR76 3000 4000 0112 3456 7890 173
IBAN_2 = french_iban("20041", "01005", "0500013M026")  # a letter in the account number
# Right ISO checksum, wrong RIB key (73 instead of the right 72): only the key check fails.
_BBAN = "30004000011234567890172"
BAD_RIB_KEY = f"FR{iban_check_digits('FR', _BBAN)}{_BBAN}"
DONE = re.compile(
    r"imported (\d+) customers, (\d+) contracts \((\d+) already present\) in [0-9.]+ s"
)


def _done(err: str) -> tuple[int, ...]:
    """(customers, contracts, already present) of a successful import's summary line."""
    match = DONE.fullmatch(err.strip())
    assert match is not None, err
    return tuple(int(n) for n in match.groups())


def _row(**changes: str) -> dict[str, str]:
    row = {
        "customer_id": "C1000001",
        "first_name": "Gwenaël",
        "last_name": "Le Bihan",
        "email": "gwenael.lebihan@example.org",
        "phone": "06 39 98 12 34",
        "address_line1": "12 rue de l'Église",
        "postcode": "29200",
        "city": "Brest",
        "terms_version": "2026-09",
        "iban": IBAN_1,
        "contract_id": "CT-1000001",
        "offer": "Internet THD Radio 30 Mb/s",
        "monthly_price": "29.99",
        "start_date": "2026-01-15",
        "commitment_months": "24",
    }
    row.update(changes)
    return row


# Three rows: a customer with two contracts (repeated identically), and another one.
ROWS = [
    _row(),
    _row(contract_id="CT-1000002", offer="Internet Satellite 100 Mb/s", monthly_price="44.99",
         start_date="2026-03-01", commitment_months="0"),
    _row(customer_id="C1000002", first_name="Zoë", last_name="王", email="zoe@example.net",
         iban=IBAN_2, contract_id="CT-1000003", monthly_price="34.99", commitment_months="",
         commitment_end="2027-01-14", first_connection="2026-01-20"),
]  # fmt: skip


def _csv(rows: list[dict[str, str]], delimiter: str = ",", columns: list[str] | None = None) -> str:
    names = columns or [c for c in COLUMNS if any(c in r for r in rows)]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([row.get(c, "") for c in names])
    return out.getvalue()


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "import.db"


def _run(
    capsys: pytest.CaptureFixture[str], db: Path, *args: str, stdin: Any = None
) -> tuple[int, str, str]:
    old = sys.stdin
    sys.stdin = stdin if stdin is not None else io.StringIO("")
    try:
        code = server_main(["import", "customers", *args, "--db", str(db)])
    finally:
        sys.stdin = old
    out, err = capsys.readouterr()
    return code, out, err


def _import(
    capsys: pytest.CaptureFixture[str], db: Path, text: str | bytes, *args: str
) -> tuple[int, str, str]:
    path = db.parent / "customers.csv"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return _run(capsys, db, str(path), *args)


def _count(db: Path, table: str) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as connection:
        found = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()[0]
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] if found else 0


def _counts(db: Path) -> tuple[int, int, int]:
    return _count(db, "customers"), _count(db, "contracts"), _count(db, "payment_methods")


@pytest.fixture()
def served_after(db: Path) -> Iterator[Any]:
    """Call it once the import is done: a server on `db` and a staff client on it."""
    running: list[Any] = []

    def start() -> httpx.Client:
        server = embedded.start_background(f"sqlite:///{db}", today=TODAY)
        running.append(server)
        token = embedded.mint_token(server.database_url, "agent")
        return httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    yield start
    for server in running:
        server.stop()


# --- a valid file ------------------------------------------------------------------------


def test_a_valid_file_is_imported_and_served_by_the_api(
    db: Path, capsys: pytest.CaptureFixture[str], served_after: Any
) -> None:
    seeded_engine(db, TODAY).dispose()  # the demo data is there: the import adds to it
    before = _counts(db)
    code, out, err = _import(capsys, db, _csv(ROWS))
    assert code == 0, err
    assert out == ""
    assert _done(err) == (2, 3, 0)
    assert _counts(db) == (before[0] + 2, before[1] + 3, before[2] + 2)

    with served_after() as api:
        customer = api.get("/v1/customers/C1000002").json()
        assert customer["first_name"] == "Zoë" and customer["last_name"] == "王"
        assert customer["customer_number"] == "C1000002"  # defaults to the ID
        contracts = api.get("/v1/customers/C1000001/contracts").json()["items"]
        by_id = {c["id"]: c for c in contracts}
        assert set(by_id) == {"CT-1000001", "CT-1000002"}
        first = by_id["CT-1000001"]
        assert (first["kind"], first["status"], first["monthly_price_cents"]) == (
            "internet", "active", 2999,
        )  # fmt: skip
        assert first["commitment_months"] == 24
        assert first["commitment_start"] == "2026-01-15"
        assert first["commitment_end"] == "2028-01-14"
        assert by_id["CT-1000002"]["commitment_end"] is None
        # commitment_end given instead of months: a 12-month commitment
        third = api.get("/v1/customers/C1000002/contracts").json()["items"][0]
        assert (third["commitment_months"], third["commitment_end"]) == (12, "2027-01-14")
        assert third["first_connection_on"] == "2026-01-20"
        bank = api.get("/v1/customers/C1000001/payment-method").json()
        assert bank["iban_masked"] == "FR76 **** **** **** **** ***0 173"
        assert bank["mandate_reference"] == "RUM-C1000001"


def test_a_rerun_changes_nothing(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _import(capsys, db, _csv(ROWS))[0] == 0
    after_first = _counts(db)
    # the same rows in another order, the IBAN typed with spaces in lower case, the price
    # with a decimal comma and a euro sign, the date as a French spreadsheet writes it
    again = [
        ROWS[2],
        ROWS[1],
        _row(iban=" ".join(IBAN_1.lower()[i : i + 4] for i in range(0, 27, 4)),
             monthly_price="29,99 €", start_date="15/01/2026"),
    ]  # fmt: skip
    code, _, err = _import(capsys, db, _csv(again))
    assert code == 0, err
    assert _done(err) == (0, 0, 3)
    assert _counts(db) == after_first


def test_a_new_contract_for_a_known_customer_is_added(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import(capsys, db, _csv(ROWS))[0] == 0
    more = [*ROWS, _row(contract_id="CT-1000009", start_date="2026-06-01")]
    code, _, err = _import(capsys, db, _csv(more))
    assert code == 0, err
    assert _done(err) == (0, 1, 3)
    assert _counts(db) == (2, 4, 2)


def test_a_changed_row_is_rejected_saying_what_differs(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import(capsys, db, _csv(ROWS))[0] == 0
    changed = [
        _row(email="new@example.org"),
        ROWS[1],
        {**ROWS[2], "monthly_price": "36.99", "iban": IBAN_1},
    ]
    code, out, err = _import(capsys, db, _csv(changed))
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == (
        "line 2: email: 'new@example.org' here, but 'gwenael.lebihan@example.org' in the "
        "database for customer C1000001"
    )
    assert lines[1].startswith(
        "line 4: iban: FR76 **** **** **** **** ***0 173 here, but FR14 **** **** **** **** "
        "***2 606 in the database for customer C1000002"
    )
    assert lines[2].startswith(
        "line 4: monthly_price: 36,99 here, but 34,99 in the database for contract CT-1000003"
    )
    assert lines[3:] == ["rejected: 2 of 3 rows, 3 problems; nothing written"]
    assert IBAN_1 not in err and IBAN_2 not in err  # an IBAN is never shown whole
    with sqlite3.connect(db) as connection:
        email = connection.execute("SELECT email FROM customers WHERE id = 'C1000001'").fetchone()
    assert email == ("gwenael.lebihan@example.org",)


def test_rows_are_compared_with_seeded_data_too(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded_engine(db, TODAY, customers=1).dispose()  # generated customer C0000101
    before = _counts(db)
    rows = [
        _row(customer_id="C0000101", contract_id="CT-1000001"),
        _row(customer_id="C1000002", contract_id="CT-1000002", customer_number="10000101"),
    ]
    code, _, err = _import(capsys, db, _csv(rows))
    assert code == 1
    lines = err.splitlines()
    assert lines[0].startswith("line 2: customer_number: 'C0000101' here, but '10000101' in the "
                               "database for customer C0000101")  # fmt: skip
    assert "line 3: customer_number: '10000101' is customer C0000101's" in lines
    assert _counts(db) == before


# --- every rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"iban": BAD_RIB_KEY}, "iban: the RIB key 72 (the last 2 digits) does not match"),
        ({"iban": IBAN_1[:-1] + "4"}, "iban: the IBAN check digits do not match the rest"),
        ({"iban": "FR76-3000"}, "iban: invalid character '-' (U+002D HYPHEN-MINUS) at position 5"),
        ({"iban": "US" + IBAN_1[2:]}, "iban: an IBAN starts with the 2-letter code of a country"),
        ({"start_date": "2026-02-30"}, "start_date: '2026-02-30' is not a date: day is out"),
        ({"start_date": "next monday"}, "start_date: 'next monday' is not a date: use YYYY-MM-DD"),
        ({"start_date": "0026-01-15"}, "start_date: '0026-01-15': the year must be between 1950"),
        ({"commitment_months": "", "commitment_end": "2025-12-31"},
         "commitment_end: 2025-12-31 is before start_date 2026-01-15"),
        ({"commitment_months": "", "commitment_end": "2027-01-15"},
         "commitment_end: 2027-01-15 is not the last day of a commitment from 2026-01-15: "
         "2027-01-14 (12 months) or 2028-01-14 (24 months)"),
        ({"commitment_months": "12", "commitment_end": "2028-01-14"},
         "commitment_end: 2028-01-14 does not match commitment_months 12: 2027-01-14"),
        ({"commitment_months": "36"}, "commitment_months: '36' is not a commitment offered"),
        ({"first_connection": "2026-01-01"},
         "first_connection: 2026-01-01 is before start_date 2026-01-15"),
        ({"status": "pending_activation", "first_connection": "2026-01-20"},
         "status: pending_activation, but first_connection is set"),
        ({"status": "terminated"}, "status: unknown status 'terminated'"),
        ({"email": ""}, "email: required, but empty"),
        ({"offer": "  "}, "offer: required, but empty"),
        ({"email": "gwen at example.org"}, "email: 'gwen at example.org' is not an email address"),
        ({"last_name": "L" * 101}, "last_name: at most 100 characters, this one has 101"),
        ({"first_name": "Anne\x07"}, "first_name: control character U+0007 at position 5"),
        ({"monthly_price": "-29.99"}, "monthly_price: '-29.99' is negative"),
        ({"monthly_price": "1,234"}, "monthly_price: too many decimals in '1,234'"),
        ({"monthly_price": "gratuit"}, "monthly_price: not an amount of money: 'gratuit'"),
        ({"kind": "partwork"}, "kind: only internet contracts can be imported yet, not 'partwork'"),
        ({"kind": "mobile"}, "kind: unknown kind 'mobile': internet, installments or partwork"),
        ({"customer_id": "1000001"}, "customer_id: '1000001' is not an ID like C1234567"),
        ({"customer_id": "C10000011"}, "customer_id: 'C10000011' is not an ID like C1234567"),
        ({"contract_id": "CT-12"}, "contract_id: 'CT-12' is not an ID like CT-1234567 (CT-"),
        ({"postcode": "2920"}, "postcode: '2920' is not a French postcode"),
        ({"country": "fra"}, "country: 'FRA' is not a 2-letter country code (FR)"),
        ({"mandate_reference": "RUM_1"}, "mandate_reference: 'RUM_1' is not a SEPA mandate"),
    ],
)  # fmt: skip
def test_each_rule_rejects_the_whole_file(
    db: Path, capsys: pytest.CaptureFixture[str], changes: dict[str, str], expected: str
) -> None:
    rows = [ROWS[1], {**ROWS[0], **changes}, ROWS[2]]
    code, out, err = _import(capsys, db, _csv(rows, columns=list(COLUMNS)))
    assert code == 1
    lines = err.splitlines()
    assert lines[0].startswith(f"line 3: {expected}"), lines
    assert lines[-1].startswith("rejected: 1 of 3 rows")
    assert lines[-1].endswith("; nothing written")
    assert _counts(db) == (0, 0, 0)  # the two good rows were not written either
    assert out == ""


def test_every_problem_of_a_row_is_listed(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _row(email="", iban=BAD_RIB_KEY, start_date="2026-13-01", monthly_price="-1")
    code, _, err = _import(capsys, db, _csv([bad]))
    assert code == 1
    assert [line.split(":")[1].strip() for line in err.splitlines()[:-1]] == [
        "email", "iban", "monthly_price", "start_date",
    ]  # fmt: skip


def test_duplicates_within_the_file(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        *ROWS,
        _row(start_date="2026-02-01"),  # CT-1000001 again
        _row(contract_id="CT-1000005", email="other@example.org"),  # C1000001, other data
        _row(customer_id="C1000003", customer_number="C1000002", contract_id="CT-1000006"),
    ]
    code, _, err = _import(capsys, db, _csv(rows))
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == "line 5: contract_id: CT-1000001 is on line 2 too"
    assert lines[1].startswith(
        "line 6: email: 'other@example.org' here, but 'gwenael.lebihan@example.org' on line 2 "
        "for customer C1000001"
    )
    assert lines[2] == "line 7: customer_number: 'C1000002' is customer C1000002's"
    assert lines[3] == "rejected: 3 of 6 rows, 3 problems; nothing written"
    assert _counts(db) == (0, 0, 0)


def test_all_or_nothing_across_chunks(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Good chunks already went into the transaction when the bad row comes: rolled back."""
    monkeypatch.setattr(store, "CHUNK", 7)
    rows = [
        _row(customer_id=f"C{2000000 + i}", contract_id=f"CT-{3000000 + i}",
             email=f"c{i}@example.org", customer_number=str(90000000 + i))
        for i in range(40)
    ]  # fmt: skip
    rows[33]["iban"] = BAD_RIB_KEY
    code, _, err = _import(capsys, db, _csv(rows))
    assert code == 1
    assert err.splitlines()[0].startswith("line 35: iban: the RIB key")
    assert _counts(db) == (0, 0, 0)
    del rows[33]
    code, _, err = _import(capsys, db, _csv(rows))
    assert code == 0, err
    assert _counts(db) == (39, 39, 39)


def test_dry_run_checks_and_writes_nothing(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _import(capsys, db, _csv(ROWS), "--dry-run", "--json")
    assert code == 0, err
    assert err.startswith("dry run: would import 2 customers, 3 contracts (0 already present);")
    report = json.loads(out)
    assert report["written"] is False and report["customers"] == 2
    assert _counts(db) == (0, 0, 0)


def test_json_report_of_a_rejected_file(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [ROWS[0], _row(contract_id="CT-1000002", email="")]
    code, out, _ = _import(capsys, db, _csv(rows), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False and report["written"] is False
    assert report["rows"] == 2 and report["rejected_rows"] == 1
    assert report["problems"] == [{"line": 3, "column": "email", "problem": "required, but empty"}]


# --- formats and encodings ------------------------------------------------------------------


def test_semicolons_decimal_commas_and_french_dates(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [_row(monthly_price="29,99", activation_fee="1 049,00", start_date="15/01/2026")]
    text = _csv(rows, delimiter=";")
    assert ";29,99;" in text  # unquoted: ';' separates, ',' is the decimal mark
    code, _, err = _import(capsys, db, text)
    assert code == 0, err
    with sqlite3.connect(db) as connection:
        found = connection.execute(
            "SELECT monthly_price_cents, activation_fee_cents, signed_on FROM contracts"
        ).fetchall()
    assert found == [(2999, 104900, "2026-01-15")]


def test_tab_delimiter_given_on_the_command_line(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _import(capsys, db, _csv(ROWS, delimiter="\t"), "--delimiter", "tab")
    assert code == 0, err
    assert _counts(db) == (2, 3, 2)
    # the wrong one said explicitly: the header is then one unknown column
    code, _, err = _import(capsys, db, _csv(ROWS, delimiter=";"), "--delimiter", ",")
    assert code == 1
    assert err.startswith("line 1: header: unknown column(s) 'customer_id;first_name;")


def test_a_byte_order_mark_is_accepted(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _import(capsys, db, b"\xef\xbb\xbf" + _csv(ROWS, delimiter=";").encode())
    assert code == 0, err
    assert _counts(db) == (2, 3, 2)


def test_unicode_names_are_kept_composed(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    decomposed = unicodedata.normalize("NFD", "Maël Lefèvre-Ñúñez")
    rows = [_row(first_name=decomposed.split()[0], last_name=decomposed.split()[1],
                 city="Saint-Dié-des-Vosges")]  # fmt: skip
    assert _import(capsys, db, _csv(rows))[0] == 0
    with sqlite3.connect(db) as connection:
        names = connection.execute("SELECT first_name, last_name, city FROM customers").fetchone()
    assert names == ("Maël", "Lefèvre-Ñúñez", "Saint-Dié-des-Vosges")
    assert len(names[0]) == 4  # NFC: one code point per letter
    code, _, err = _import(capsys, db, _csv(rows))  # the decomposed form again: the same row
    assert code == 0 and "(1 already present)" in err


def test_not_utf8_names_the_line(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [_row(first_name="Anne", address_line1="", city="Brest"),
            _row(contract_id="CT-1000002", first_name="Anne", city="Guéret")]  # fmt: skip
    raw = _csv(rows, delimiter=";").encode("cp1252")  # Excel's "CSV (point-virgule)"
    position = raw.split(b"\r\n")[2].index(b"\xc9") + 1  # the É of "Église"
    code, _, err = _import(capsys, db, raw)
    assert code == 1
    assert err.splitlines()[0] == (
        f"line 3: file: byte 0xC9 at position {position} is not UTF-8: save the file as UTF-8 "
        "(in Excel: 'CSV UTF-8'), or convert it with iconv -f WINDOWS-1252 -t UTF-8"
    )
    assert err.splitlines()[1] == "rejected: 1 of 2 rows, 1 problem; nothing written"
    assert _counts(db) == (0, 0, 0)


def test_blank_rows_are_skipped_and_short_rows_refused(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _csv(ROWS, delimiter=";")
    header_fields = text.splitlines()[0].count(";")
    code, _, err = _import(capsys, db, text + ";" * header_fields + "\r\n\r\n")
    assert code == 0, err
    code, _, err = _import(capsys, db, text + "C1000009;Anne\r\n")
    assert code == 1
    assert err.splitlines()[0] == (
        f"line 5: row: 2 fields where the header has {header_fields + 1}: check the delimiter "
        "(';') and the quotes"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "line 1: header: empty: the first line must name the columns"),
        ("customer_id,bic\r\n", "line 1: header: unknown column(s) 'bic'; the columns are"),
        ("customer_id,email,email\r\n", "line 1: header: column(s) given twice: email"),
        ("customer_id,email\r\n", "line 1: header: missing required column(s): last_name, "
         "terms_version, iban, contract_id, offer, monthly_price, start_date"),
    ],
)  # fmt: skip
def test_header_problems(
    db: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    code, _, err = _import(capsys, db, text)
    assert code == 1
    assert err.splitlines()[0].startswith(expected)
    assert not db.exists()  # read before the database is touched


def test_a_huge_field(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _import(capsys, db, _csv([ROWS[0], _row(last_name="x" * 200_000)]))
    assert code == 1
    assert err.splitlines()[0] == (
        "line 3: file: unreadable CSV: field larger than field limit (131072)"
    )
    assert _counts(db) == (0, 0, 0)
    code, _, err = _import(capsys, db, _csv([_row(offer="x" * 5_000)]))
    assert code == 1 and "line 2: offer: at most 100 characters, this one has 5000" in err


# --- stdin, missing files, usage -------------------------------------------------------------


def test_stdin_as_bytes_and_as_text(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = b"\xef\xbb\xbf" + _csv(ROWS).encode()
    code, _, err = _run(capsys, db, "-", stdin=io.TextIOWrapper(io.BytesIO(data)))
    assert code == 0, err
    assert _counts(db) == (2, 3, 2)
    code, _, err = _run(capsys, db, "-", stdin=io.StringIO("\ufeff" + _csv(ROWS)))
    assert code == 0 and "(3 already present)" in err


def test_missing_and_unreadable_files(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = db.parent / "nope.csv"
    assert _run(capsys, db, str(missing)) == (
        1, "", f"error: cannot read {missing}: No such file or directory\n",
    )  # fmt: skip
    assert _run(capsys, db, str(db.parent)) == (
        1, "", f"error: cannot read {db.parent}: Is a directory\n",
    )  # fmt: skip
    if os.geteuid() != 0:  # root reads anything
        locked = db.parent / "locked.csv"
        locked.write_text(_csv(ROWS))
        locked.chmod(0)
        assert _run(capsys, db, str(locked)) == (
            1, "", f"error: cannot read {locked}: Permission denied\n",
        )  # fmt: skip
    assert not db.exists()


@pytest.mark.parametrize(
    "args",
    [
        [],  # no file
        ["x.csv", "--delimiter", "|"],
        ["x.csv", "--database-url", "sqlite://"],  # with --db from _run: one or the other
        ["x.csv", "--overwrite"],
    ],
)
def test_usage_errors_exit_2(db: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _run(capsys, db, *args)
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("usage: python -m server")


# --- properties ------------------------------------------------------------------------------

_names = (
    st.text(
        st.characters(blacklist_categories=("Cc", "Cs")),
        min_size=1,
        max_size=30,
    )
    .map(lambda s: unicodedata.normalize("NFC", s).strip(" \t"))
    .filter(lambda s: 0 < len(s) <= 30)
)
_accounts = st.from_regex(r"[0-9]{11}", fullmatch=True)
_starts = st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(_names, _names, _accounts, st.integers(0, 99_999), _starts,
                       st.sampled_from(["0", "12", "24"]), st.sampled_from([",", "."])),
             min_size=1, max_size=8)
)  # fmt: skip
def test_valid_rows_round_trip(rows: list[tuple[str, str, str, int, date, str, str]]) -> None:
    records = [
        _row(customer_id=f"C{4000000 + i}", contract_id=f"CT-{5000000 + i}",
             first_name=first, last_name=last, email=f"p{i}@example.org",
             iban=french_iban("30003", "01234", account),
             monthly_price=f"{cents // 100}{comma}{cents % 100:02d}",
             start_date=start.isoformat(), commitment_months=months)
        for i, (first, last, account, cents, start, months, comma) in enumerate(rows)
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/p.db")
        try:
            text = _csv(records, delimiter=";").splitlines(keepends=True)
            report = import_customers(engine, text, prepare=create_schema)
            assert report.ok and (report.customers, report.contracts) == (len(rows), len(rows))
            with engine.connect() as connection:
                stored = connection.exec_driver_sql(
                    "SELECT c.first_name, c.last_name, p.iban, k.monthly_price_cents, "
                    "k.signed_on, k.commitment_months FROM customers c "
                    "JOIN payment_methods p ON p.customer_id = c.id "
                    "JOIN contracts k ON k.customer_id = c.id ORDER BY c.id"
                ).fetchall()
            assert [tuple(r) for r in stored] == [
                (first, last, french_iban("30003", "01234", account), cents,
                 start.isoformat(), int(months))
                for first, last, account, cents, start, months, _ in rows
            ]  # fmt: skip
            again = import_customers(engine, text, prepare=create_schema)
            assert again.ok and (again.customers, again.contracts, again.present) == (
                0, 0, len(rows),
            )  # fmt: skip
        finally:
            engine.dispose()


# --- PostgreSQL, when the CI gives one (.ci/postgres.sh) ------------------------------------


@pytest.mark.skipif(
    not os.environ.get("MONCOMPTE_TEST_DATABASE_URL"),
    reason="needs MONCOMPTE_TEST_DATABASE_URL (a PostgreSQL server, .ci/postgres.sh)",
)
def test_postgresql(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import _fresh_postgres_database

    url, drop = _fresh_postgres_database(os.environ["MONCOMPTE_TEST_DATABASE_URL"])
    try:
        path = tmp_path / "customers.csv"
        path.write_text(_csv(ROWS), encoding="utf-8")
        argv = ["import", "customers", str(path), "--database-url", url]
        assert server_main(argv) == 0
        assert _done(capsys.readouterr().err) == (2, 3, 0)
        assert server_main(argv) == 0
        assert "(3 already present)" in capsys.readouterr().err
        path.write_text(_csv([_row(monthly_price="30")]), encoding="utf-8")
        assert server_main(argv) == 1
        assert "line 2: monthly_price: 30,00 here, but 29,99" in capsys.readouterr().err
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                found = connection.exec_driver_sql(
                    "SELECT id, signed_on, monthly_price_cents FROM contracts ORDER BY id"
                ).fetchall()
        finally:
            engine.dispose()
        assert [tuple(r) for r in found] == [
            ("CT-1000001", date(2026, 1, 15), 2999),
            ("CT-1000002", date(2026, 3, 1), 4499),
            ("CT-1000003", date(2026, 1, 15), 3499),
        ]
    finally:
        drop()
