"""Hypothesis over the CLI's arguments and inputs: never a traceback, always a documented
exit code (0, 2–8, 130). Exit 1 means "unexpected error": any example that gets it is a bug.

Inputs: IDs (real ones of both customers, path tricks, random text), dates, amounts and
counts, IBANs (valid, near-valid, random), file names (odd characters, `~user`, missing
directories, a directory, /proc), free text with unicode and control characters, bytes
that are not UTF-8 (argv arrives as surrogate escapes), stdin with NULs, output formats and
the global options. Write targets stay inside the example's directory or in /proc: CI runs
as root, so a target is never a device or a system directory. The CLI runs in-process
against a sandbox of this module's own (the examples file claims, change IBANs, terminate
contracts), each example with a config directory of its own.

Examples per test: `MONCOMPTE_FUZZ_EXAMPLES` (default 25, like the API fuzzing).
"""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Sandbox
from tests.reliability.conftest import assert_documented, make_runner

MAX_EXAMPLES = int(os.environ.get("MONCOMPTE_FUZZ_EXAMPLES", "25"))

FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- strategies ----------------------------------------------------------------------------

# argv cannot hold NUL; bytes that are not UTF-8 arrive as lone surrogates (surrogateescape).
_argv_chars = st.one_of(
    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
    st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF),
    st.sampled_from(list("\t\n\r\x1b\x7f\u200b\u202e\ufeff -/.%?#&=:")),
)


def text(max_size: int = 40, min_size: int = 0) -> st.SearchStrategy[str]:
    return st.text(_argv_chars, min_size=min_size, max_size=max_size)


REAL_IDS = [
    "CT-0000001", "CT-0000002", "CT-0000003", "CT-0000004",  # the demo customer's
    "CT-0000005", "CT-0000006",  # the clean customer's
    "INV-000000001", "INV-000000009", "CL-0000001", "CL-0000002", "C0000001", "C0000002",
]  # fmt: skip
TRICKY_IDS = [
    "../customers/C0000002", "CT-0000001/../../customers/C0000002", "CT-0000001?limit=1",
    "CT-0000001#x", "%2e%2e%2fcustomers", "..", ".", " ", "", "CT-0000001\n", "ct-0000001",
    "CT-" + "9" * 70, "/v1/me", "https://example.org/x", "C0000002/invoices",
]  # fmt: skip
ids = st.one_of(
    st.sampled_from(REAL_IDS),
    st.sampled_from(TRICKY_IDS),
    st.from_regex(r"(CT|INV|CL|C)-?[0-9]{0,12}", fullmatch=True),
    text(30),
)
dates = st.one_of(
    st.dates().map(str),
    st.sampled_from(
        ["2026-02-30", "0000-01-01", "9999-12-31", "2026-13-01", "2026-1-1", "today",
         "2026-11-24T00:00", "２０２６-１１-２４", "-1", "2026-11-25", "2027-01-04"]
    ),
    text(12),
)  # fmt: skip
numbers = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["0", "-1", "1e3", "NaN", "inf", "-inf", "9" * 40, "٣", "0x10", "1_000"]),
    st.floats(allow_nan=True).map(str),
    text(8),
)
VALID_IBANS = [
    "FR76 3000 6000 0112 3456 7890 189",
    "DE89370400440532013000",
    "fr7630006000011234567890189",
]
ibans = st.one_of(
    st.sampled_from(VALID_IBANS),
    st.from_regex(r"[A-Z]{2}[0-9]{2}[A-Z0-9 ]{0,40}", fullmatch=True),
    st.sampled_from(
        ["", " ", "FR76", "BR1800360305000010009795493C1", "FR76-3000-6000", "X" * 200]
    ),
    text(50),
)
formats = st.one_of(
    st.sampled_from(["table", "json", "ndjson", "csv", "tsv", "markdown"]), text(10)
)
categories = st.one_of(
    st.sampled_from(
        ["billing", "technical", "delivery", "order_not_received", "not_as_ordered",
         "termination", "other"]
    ),
    text(15),
)  # fmt: skip
# A file name inside the example's own directory (never a path that escapes it), or a
# place that cannot be written.
file_names = st.one_of(
    text(60, min_size=1).filter(lambda s: "/" not in s and s not in (".", "..")),
    st.sampled_from(
        ["x.pdf", "-", "missing-dir/x.pdf", "é à.pdf", " ", "\u202ex.pdf", "~", "~0", "~0/x.pdf"]
    ),
)
# Places that cannot be written. Never a device or "/": CI runs as root, and an atomic
# rename onto /dev/full would replace the device (it did, before the CLI refused it).
SPECIAL_FILES = ["/proc/version", "/proc/no-such/x", "adir", "adir/"]
global_options = st.lists(
    st.one_of(
        st.tuples(st.just("-o"), formats),
        st.tuples(st.just("--timeout"), numbers),
        st.tuples(st.just("--columns"), text(20)),
        st.tuples(st.just("--profile"), text(15)),
        st.tuples(st.just("-q")),
        st.tuples(st.just("-v")),
        st.tuples(st.just("--no-color")),
    ),
    max_size=3,
).map(lambda groups: [part for group in groups for part in group])


# --- the runner ----------------------------------------------------------------------------


@pytest.fixture()
def fuzz_cli(box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run one example: a config and data directory of its own, files under `work`."""
    base = make_runner(box, tmp_path, monkeypatch)

    def run(args: list[str], *, stdin: str | None = None, staff: bool = False) -> Any:
        example = tmp_path / uuid.uuid4().hex[:8]
        (example / "work" / "adir").mkdir(parents=True)
        env: dict[str, str | None] = {
            "MONCOMPTE_CONFIG_DIR": str(example / "config"),
            "XDG_DATA_HOME": str(example / "data"),
            "XDG_CACHE_HOME": str(example / "cache"),
            "HOME": str(example / "work"),  # `--to ~` stays in the example's directory
        }
        if staff:
            env["MONCOMPTE_TOKEN"] = box.staff_token
        monkeypatch.chdir(example / "work")
        result = base(*args, env_vars=env, stdin=stdin)
        assert_documented(result, args)
        return result

    return run


def _place(name: str, special: str | None) -> str:
    return special if special is not None else name


# --- the tests -------------------------------------------------------------------------------


@FUZZ
@given(
    command=st.sampled_from(
        [["contracts", "show"], ["invoices", "show"], ["invoices", "show", "--explain"],
         ["schedule"], ["claim", "show"], ["claim", "escalate"], ["claim", "send"],
         ["terminate", "--quote"]]
    ),
    ident=ids,
    options=global_options,
    after=st.booleans(),
)  # fmt: skip
def test_commands_taking_an_id(
    fuzz_cli: Any, command: list[str], ident: str, options: list[str], after: bool
) -> None:
    args = [*command, ident, *options] if after else [*options, *command, ident]
    fuzz_cli(args)


@FUZZ
@given(
    since=st.none() | dates,
    until=st.none() | dates,
    status=st.none() | st.one_of(st.sampled_from(["unpaid", "paid", "failed", "all"]), text(8)),
    contract=st.none() | ids,
    limit=st.none() | numbers,
    options=global_options,
)
def test_invoice_list_filters(
    fuzz_cli: Any,
    since: str | None,
    until: str | None,
    status: str | None,
    contract: str | None,
    limit: str | None,
    options: list[str],
) -> None:
    args = ["invoices", "list", *options]
    for flag, value in (
        ("--since", since), ("--until", until), ("--status", status), ("--contract", contract),
        ("--limit", limit),
    ):  # fmt: skip
        if value is not None:
            args += [flag, value]
    fuzz_cli(args)


@FUZZ
@given(
    ident=ids,
    name=file_names,
    special=st.none() | st.sampled_from(SPECIAL_FILES),
    force=st.booleans(),
    letter=st.booleans(),
    fmt=st.one_of(st.sampled_from(["text", "pdf"]), text(6)),
)
def test_downloads_to_odd_places(
    fuzz_cli: Any, ident: str, name: str, special: str | None, force: bool, letter: bool, fmt: str
) -> None:
    target = _place(name, special)
    if letter:
        args = ["claim", "letter", ident, "-f", fmt, "--to", target]
    else:
        args = ["invoices", "download", ident, "--to", target]
    fuzz_cli(args + (["--force"] if force and not letter else []))


@FUZZ
@given(
    iban=ibans,
    from_stdin=st.booleans(),
    stdin_extra=st.sampled_from(["", "\n", "\x00", "\r\n\r\n"]),
)
def test_change_iban_inputs(fuzz_cli: Any, iban: str, from_stdin: bool, stdin_extra: str) -> None:
    """Dry runs only: a valid IBAN would otherwise change the account for the next example."""
    if from_stdin:
        fuzz_cli(["change-iban", "-", "--dry-run"], stdin=iban + stdin_extra)
    else:
        fuzz_cli(["change-iban", iban, "--dry-run"])


@FUZZ
@given(
    contract=ids,
    number=numbers,
    to=st.none() | dates,
    by=st.none() | numbers,
    dry_run=st.booleans(),
)
def test_reschedule_inputs(
    fuzz_cli: Any, contract: str, number: str, to: str | None, by: str | None, dry_run: bool
) -> None:
    args = ["reschedule", contract, number]
    if to is not None:
        args += ["--to", to]
    if by is not None:
        args += ["--by", by]
    # Without --dry-run and without a terminal: no prompt, so exit 2 (or a refusal first).
    fuzz_cli(args + (["--dry-run"] if dry_run else []))


@FUZZ
@given(
    contract=ids,
    on=st.none() | dates,
    mode=st.sampled_from([["--quote"], ["--dry-run"], ["--withdraw", "--dry-run"], []]),
)
def test_terminate_inputs(fuzz_cli: Any, contract: str, on: str | None, mode: list[str]) -> None:
    fuzz_cli(["terminate", contract, *mode, *(["--on", on] if on is not None else [])])


@FUZZ
@given(
    category=categories,
    subject=text(80),
    message=st.one_of(text(200), st.text(max_size=200)),  # stdin may carry NUL and surrogates
    contract=st.none() | ids,
    via_stdin=st.booleans(),
    offline=st.booleans(),
    attach=st.none() | file_names,
)
def test_claim_new_inputs(
    fuzz_cli: Any,
    category: str,
    subject: str,
    message: str,
    contract: str | None,
    via_stdin: bool,
    offline: bool,
    attach: str | None,
) -> None:
    args = ["claim", "new", "-c", category, "-s", subject]
    stdin = None
    if via_stdin:
        args += ["--message-file", "-"]
        stdin = message
    else:
        args += ["-m", message.replace("\x00", "")]
    if contract is not None:
        args += ["--contract", contract]
    if offline:
        args.append("--offline")
    if attach is not None:
        args += ["-a", attach]
    fuzz_cli(args, stdin=stdin)


@FUZZ
@given(claim=ids, message=text(200), offline=st.booleans())
def test_claim_reply_inputs(fuzz_cli: Any, claim: str, message: str, offline: bool) -> None:
    fuzz_cli(["claim", "reply", claim, "-m", message, *(["--offline"] if offline else [])])


@FUZZ
@given(
    command=st.sampled_from([["customers", "show"], ["customers", "search"]]),
    words=st.lists(st.one_of(ids, text(20)), min_size=1, max_size=3),
    options=global_options,
)
def test_staff_commands(
    fuzz_cli: Any, command: list[str], words: list[str], options: list[str]
) -> None:
    fuzz_cli([*command, *words, *options], staff=True)


@FUZZ
@given(
    method=st.one_of(
        st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "get"]), text(8)
    ),
    path=st.one_of(
        st.sampled_from(
            ["/v1/me", "/v1/contracts", "v1/invoices", "/v1/customers/C0000002", "/nothing",
             "//evil.example/x", "http://127.0.0.1:1/v1/me", "/v1/claims?limit=0"]
        ),
        st.sampled_from(REAL_IDS).map(lambda i: f"/v1/contracts/{i}"),
        text(40),
    ),
    fields=st.lists(st.tuples(st.sampled_from(["-f", "-F"]), text(30)), max_size=3),
)  # fmt: skip
def test_api_command_inputs(
    fuzz_cli: Any, method: str, path: str, fields: list[tuple[str, str]]
) -> None:
    args = ["api", method, path]
    for flag, value in fields:
        args += [flag, value]
    fuzz_cli(args)


@FUZZ
@given(
    action=st.sampled_from(["get", "set", "unset"]),
    key=st.one_of(
        st.sampled_from(["api_url", "output", "timeout", "locale", "color", "profile"]), text(15)
    ),
    value=st.one_of(numbers, formats, text(40), st.just("http://127.0.0.1:1")),
    profile=st.none() | text(15),
)
def test_config_inputs(
    fuzz_cli: Any, action: str, key: str, value: str, profile: str | None
) -> None:
    args = ["config", action, key] + ([value] if action == "set" else [])
    if profile is not None:
        args += ["--profile", profile]
    fuzz_cli(args)
    fuzz_cli(["config", "list"])  # whatever was stored, reading it back is clean


@FUZZ
@given(
    checks=st.lists(
        st.one_of(text(15), st.sampled_from(["config", "network", "account"])), max_size=2
    ),
    fail_on=st.none() | st.one_of(st.sampled_from(["warn", "fail"]), text(6)),
    timeout=st.none() | numbers,
    report=st.none() | file_names,
)
def test_diagnose_options(
    fuzz_cli: Any, checks: list[str], fail_on: str | None, timeout: str | None, report: str | None
) -> None:
    args = ["diagnose", "--offline"]
    for check in checks:
        args += ["--check", check]
    if fail_on is not None:
        args += ["--fail-on", fail_on]
    if timeout is not None:
        args += ["--check-timeout", timeout]
    if report is not None:
        args += ["--report", report]
    fuzz_cli(args)


@FUZZ
@given(
    username=text(30),
    secret=st.text(max_size=80),  # stdin: anything, NUL and lone surrogates included
    mode=st.sampled_from(
        [["--password-stdin"], ["--with-token"], ["--with-token", "--insecure-storage"]]
    ),
)
def test_login_inputs(
    fuzz_cli: Any, box: Sandbox, username: str, secret: str, mode: list[str]
) -> None:
    """Wrong passwords and garbage tokens: 3 (refused), 6 (rate limited), 2 (bad input)."""
    args = ["login", "--api-url", box.url, *mode]
    if "--password-stdin" in mode:
        args += ["-u", username]
    fuzz_cli(args, stdin=secret)


@FUZZ
@given(
    args=st.lists(
        st.one_of(text(20), st.sampled_from(["-o", "--", "-", "-v", "--help", "-h", "--version"])),
        max_size=6,
    )
)
def test_arbitrary_argv(fuzz_cli: Any, args: list[str]) -> None:
    """Anything at all on the command line, after a real command or instead of one."""
    fuzz_cli(args)


# --- what the fuzzing found (each was exit 1, "unexpected error"), kept as plain tests ----------

FOUND: list[tuple[list[str], str | None, int]] = [
    # an empty ID: GET /v1/contracts/ was redirected (307) and the empty answer crashed
    (["contracts", "show", ""], None, 2),
    # "." and ".." in an ID: httpx resolved them into another route (a list, not a contract)
    (["claim", "show", "."], None, 2),
    (["terminate", "..", "--quote"], None, 2),
    # a control character in an ID: httpx.InvalidURL
    (["invoices", "download", "\x1f", "--to", "x.pdf"], None, 2),
    # bytes that are not UTF-8 in an ID (surrogate escapes): UnicodeEncodeError
    (["contracts", "show", "CT-\udcff"], None, 2),
    # '?' in an ID turned the rest of the path into a query: 405, then "unexpected answer"
    (["claim", "reply", "CT-0000001?limit=1", "-m", "0"], None, 2),
    # a timeout over what a socket takes: OverflowError
    (["--timeout", "9223372037", "contracts"], None, 2),
    # a token that cannot go into a header (not ASCII): UnicodeEncodeError
    (["login", "--with-token", "--insecure-storage"], "jeton-\u00e9t\u00e9", 3),
    # --limit beyond sys.maxsize: ValueError from islice
    (["invoices", "list", "--limit", "9" * 40], None, 0),
    # ~user that does not exist: RuntimeError from Path.expanduser (now kept as typed)
    (["invoices", "download", "INV-000000001", "--to", "~0"], None, 0),
    (["claim", "letter", "CL-0000001", "--to", "~nosuchuser/x.txt"], None, 2),
    # a target that cannot be written: FileNotFoundError / OSError
    (["claim", "letter", "CL-0000001", "--to", "/proc/version"], None, 2),
    (["invoices", "download", "INV-000000001", "--to", "/proc/no-such/x.pdf"], None, 2),
]


@pytest.mark.parametrize(("args", "stdin", "code"), FOUND, ids=[repr(a) for a, _s, _c in FOUND])
def test_fuzzing_findings_stay_fixed(
    box: Sandbox, fuzz_cli: Any, args: list[str], stdin: str | None, code: int
) -> None:
    if args[0] == "login":
        args = [*args, "--api-url", box.url]
    result = fuzz_cli(args, stdin=stdin)
    assert result.exit_code == code, (args, result.stderr)
    assert result.stderr.startswith("error: ") or code == 0, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["invoices", "download", "INV-000000001", "--force", "--to", "fifo"],
        ["claim", "letter", "CL-0000001", "--to", "fifo"],
    ],
)
def test_a_special_file_is_never_replaced(fuzz_cli: Any, tmp_path: Path, args: list[str]) -> None:
    """`--to /dev/full` replaced the device with a regular file (an atomic rename, as root):
    a target that exists and is not a regular file is refused, and left as it was."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = fuzz_cli([*args[:-1], str(fifo)])
    assert result.exit_code == 2, result.stderr
    assert "not a regular file" in result.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
