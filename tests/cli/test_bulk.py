"""Bulk lookups (`--customer`, `--customers-file`): IDs, streaming, errors, retries, Ctrl-C.

The acceptance test runs 10,000 IDs (50 unknown, 20 failed by the sandbox's fault hook)
against a server seeded with 10,000 generated customers, then reruns the failures once the
fault is lifted. Transport-level behaviour (429 + Retry-After for the whole pool, --rate,
5xx retries, Ctrl-C) is tested against an `httpx.MockTransport`, where timing is ours.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from commands.bulk.ids import (
    IdSource,
    RawId,
    SeenIds,
    check_id,
    chunks,
    ids_from_lines,
    parse_line,
    unique_ids,
)
from tests.conftest import TODAY, Sandbox

Handler = Callable[[httpx.Request], httpx.Response]


# --- reading IDs ----------------------------------------------------------------------------


def test_parse_line_skips_blanks_and_comments() -> None:
    assert parse_line("  C0000001 \n") == "C0000001"
    assert parse_line("\n") is None and parse_line("   ") is None
    assert parse_line("# a comment") is None and parse_line("  # indented") is None
    assert parse_line('{"id": "C0000007", "status": 404, "reason": "x"}') == "C0000007"
    assert parse_line('{"customer_id": "C0000008"}') == "C0000008"
    assert parse_line("C0000009,INV-1,2026-01-02") == "C0000009"
    assert parse_line("C0000010\tfoo") == "C0000010"


def test_ids_from_lines_skip_a_header_and_keep_order() -> None:
    lines = ["id\n", "C2\n", "\n", "# x\n", "C1\n", "C2\n"]
    assert list(ids_from_lines(lines)) == ["C2", "C1", "C2"]
    assert list(ids_from_lines(["customer_id", "C1"])) == ["C1"]
    assert list(ids_from_lines(["C1", "id"])) == ["C1", "id"]  # only a first line


def test_unique_ids_are_checked_once() -> None:
    got = list(unique_ids(["C1", "C2", "C1", "bad id", "x" * 65]))
    assert [r.value for r in got] == ["C1", "C2", "bad id", "x" * 65]
    assert [r.problem is None for r in got] == [True, True, False, False]
    assert check_id("C0000001") is None and check_id("ab/cd") is not None


@given(
    st.lists(
        st.one_of(
            st.integers(0, 9_999_999).map(lambda n: f"C{n:07d}"),
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,10}", fullmatch=True),
        ),
        max_size=60,
    )
)
def test_unique_ids_drop_exactly_the_repeats(values: list[str]) -> None:
    # The bitmap for "C" + 7 digits and the set for the rest agree with plain dedup.
    assert [r.value for r in unique_ids(values)] == list(dict.fromkeys(values))


def test_a_million_numbered_ids_are_remembered_in_a_bitmap() -> None:
    import tracemalloc

    tracemalloc.start()
    try:
        seen = SeenIds()
        fresh = sum(seen.add(f"C{n:07d}") for n in range(0, 2_000_000, 2))
        again = sum(seen.add(f"C{n:07d}") for n in range(0, 2_000, 2))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (fresh, again) == (1_000_000, 0)
    assert seen.add("C0000001") and not seen.add("C0000001")  # odd ones were never met
    assert peak < 4 * 1024 * 1024  # a set of a million strings takes about 100 MiB


def test_id_source_reads_lazily_from_stdin_and_files(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("C3\nC1\n")
    source = IdSource(["C1", "C2"], str(path), io.StringIO())
    assert [r.value for r in source] == ["C1", "C2", "C3"]
    assert source.count() == 3
    piped = IdSource([], "-", io.StringIO("C5\n\nC5\nC6\n"))
    assert [r.value for r in piped] == ["C5", "C6"] and piped.count() is None
    assert [len(c) for c in chunks(iter([RawId(str(i)) for i in range(250)]), 100)] == [
        100,
        100,
        50,
    ]


def test_missing_file_is_a_usage_error(run_cli: Any, sandbox: Sandbox) -> None:
    r = run_cli(
        "invoices",
        "list",
        "--customers-file",
        "/nonexistent/ids.txt",
        env_vars={"MONCOMPTE_TOKEN": sandbox.staff_token},
    )
    assert r.exit_code == 2 and "no such file" in r.stderr


# --- against the demo sandbox ------------------------------------------------------------------


def staff(sandbox: Sandbox) -> dict[str, str]:
    return {"MONCOMPTE_TOKEN": sandbox.staff_token}


def rows(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_invoices_for_two_customers_stream_with_their_id(run_cli: Any, sandbox: Sandbox) -> None:
    r = run_cli(
        "invoices",
        "list",
        "--customer",
        "C0000001",
        "--customer",
        "C0000002",
        "--customer",
        "C0000001",
        "-o",
        "ndjson",
        env_vars=staff(sandbox),
    )
    assert r.exit_code == 0, r.stderr
    got = rows(r.stdout)
    assert {row["customer_id"] for row in got} == {"C0000001", "C0000002"}
    # In the order asked, each customer's rows together, as the single-customer list.
    order = [row["customer_id"] for row in got]
    assert order == sorted(order, key=["C0000001", "C0000002"].index)
    own = run_cli("invoices", "list", "-o", "ndjson")  # the demo customer's own token
    assert [{k: v for k, v in row.items() if k != "customer_id"} for row in got][
        : len(own.lines)
    ] == rows(own.stdout)
    assert "looked up 2 customers: 2 answered, 0 failed" in r.stderr


def test_bulk_formats(run_cli: Any, sandbox: Sandbox) -> None:
    args = ("contracts", "list", "--customer", "C0000001", "--customer", "C0000002")
    csv_out = run_cli(*args, "-o", "csv", env_vars=staff(sandbox))
    assert csv_out.exit_code == 0, csv_out.stderr
    assert csv_out.lines[0].startswith("customer_id,id,kind,")
    as_json = run_cli(*args, "-o", "json", env_vars=staff(sandbox))
    assert {c["customer_id"] for c in json.loads(as_json.stdout)} == {"C0000001", "C0000002"}
    table = run_cli(*args, "-o", "table", env_vars=staff(sandbox))
    assert table.exit_code == 0 and table.lines[0].split()[:2] == ["customer", "contract"]
    default = run_cli(*args, env_vars=staff(sandbox))  # no -o: ndjson, not a table
    assert all(line.startswith("{") for line in default.lines)
    picked = run_cli(*args, "--columns", "customer_id,id", "-o", "csv", env_vars=staff(sandbox))
    assert picked.lines[0] == "customer_id,id" and len(picked.lines) > 2


def test_a_table_is_only_for_small_runs(run_cli: Any, sandbox: Sandbox) -> None:
    ids = "".join(f"C{n:07d}\n" for n in range(1, 150))
    r = run_cli(
        "invoices", "--customers-file", "-", "-o", "table", stdin=ids, env_vars=staff(sandbox)
    )
    assert r.exit_code == 2 and "up to 100 customers" in r.stderr and r.stdout == ""


def test_schedule_and_customers_show_in_bulk(run_cli: Any, sandbox: Sandbox) -> None:
    sched = run_cli("schedule", "--customer", "C0000001", "-o", "ndjson", env_vars=staff(sandbox))
    assert sched.exit_code == 0, sched.stderr
    instalments = rows(sched.stdout)
    assert instalments and {r["customer_id"] for r in instalments} == {"C0000001"}
    assert {"contract_id", "number", "due_date", "next"} <= set(instalments[0])
    shown = run_cli(
        "customers", "show", "C0000001", "C0000002", "-o", "ndjson", env_vars=staff(sandbox)
    )
    assert [r["customer_id"] for r in rows(shown.stdout)] == ["C0000001", "C0000002"]


def test_errors_file_and_rerun(run_cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    errors = tmp_path / "errors.ndjson"
    ids = "# support ticket 42\nC0000001\n\nNOPE-1\nbad id!\nC0000002\nNOPE-1\n"
    r = run_cli(
        "invoices",
        "list",
        "--customers-file",
        "-",
        "--errors",
        str(errors),
        "-o",
        "ndjson",
        stdin=ids,
        env_vars=staff(sandbox),
    )
    assert r.exit_code == 7, r.stderr
    assert "failed: NOPE-1 (404): no such customer" in r.stderr
    assert "error: 2 of 4 customers failed" in r.stderr
    assert f"--customers-file {errors}" in r.stderr
    failed = [json.loads(line) for line in errors.read_text().splitlines()]
    assert sorted((f["id"], f["status"]) for f in failed) == [("NOPE-1", 404), ("bad id!", 400)]
    assert all(set(f) == {"id", "status", "reason"} and f["reason"] for f in failed)
    assert {row["customer_id"] for row in rows(r.stdout)} == {"C0000001", "C0000002"}
    again = run_cli(
        "invoices", "list", "--customers-file", str(errors), "-o", "csv", env_vars=staff(sandbox)
    )
    assert again.exit_code == 7 and "2 of 2 customers failed" in again.stderr


def test_a_customer_token_is_refused_once(run_cli: Any) -> None:
    r = run_cli("invoices", "list", "--customer", "C0000001", "--customer", "C0000002")
    assert r.exit_code == 3, r.stderr
    assert "need a staff login" in r.stderr and r.stderr.count("error:") == 1


def test_bulk_options_elsewhere_are_refused(run_cli: Any, sandbox: Sandbox) -> None:
    r = run_cli("schedule", "CT-0000002", "--customer", "C0000001", env_vars=staff(sandbox))
    assert r.exit_code == 2
    r = run_cli("invoices", "--customer", "C0000001", "show", "X", env_vars=staff(sandbox))
    assert r.exit_code == 2


def test_progress_only_on_a_terminal(run_cli: Any, sandbox: Sandbox) -> None:
    args = ("invoices", "list", "--customer", "C0000001", "-o", "ndjson")
    tty = run_cli(*args, env_vars=staff(sandbox), tty=True)
    assert tty.exit_code == 0 and "\r\x1b[K[" in tty.stderr and "/1 · done " in tty.stderr
    assert "\r\x1b[Klooked up 1 customer: 1 answered, 0 failed" in tty.stderr  # bar cleared
    piped = run_cli(*args, env_vars=staff(sandbox))
    assert "\r" not in piped.stderr and "\x1b" not in piped.stderr


# --- transport behaviour, on a mock server ------------------------------------------------------


def lookup_answer(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    results = [
        {"customer_id": i, "status": 200, "data": [{"id": f"INV-{i}"}], "error": None}
        for i in body["customer_ids"]
    ]
    return httpx.Response(200, json={"results": results})


@pytest.fixture()
def mock_api(monkeypatch: pytest.MonkeyPatch) -> Callable[[Handler], None]:
    """Route the CLI's API client to a handler (called in the worker threads)."""
    from cli.context import Env
    from cli.http import ApiClient

    def install(handler: Handler) -> None:
        def api(self: Env) -> ApiClient:
            if self._api is None:
                self._api = ApiClient(
                    "http://127.0.0.1:9",
                    store=self.credentials(),
                    profile=self.profile,
                    transport=httpx.MockTransport(handler),
                )
            return self._api

        monkeypatch.setattr(Env, "api", api)

    return install


def id_lines(n: int) -> str:
    return "".join(f"C{i:07d}\n" for i in range(1, n + 1))


def test_429_pauses_the_whole_pool(run_cli: Any, mock_api: Any) -> None:
    lock = threading.Lock()
    log: list[tuple[float, float, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        started = time.monotonic()
        with lock:
            first = not log
            log.append((started, 0.0, 0))
        time.sleep(0.01)
        response = (
            httpx.Response(429, headers={"Retry-After": "0.5"}, json={"detail": "slow down"})
            if first
            else lookup_answer(request)
        )
        with lock:
            log[log.index((started, 0.0, 0))] = (started, time.monotonic(), response.status_code)
        return response

    mock_api(handler)
    r = run_cli("invoices", "--customers-file", "-", "--concurrency", "4", stdin=id_lines(800))
    assert r.exit_code == 0, r.stderr
    assert len(r.lines) == 800
    throttled_end = next(end for _, end, status in log if status == 429)
    later = [start for start, _, _ in log if start > throttled_end]
    assert later and min(later) >= throttled_end + 0.45, (throttled_end, sorted(later)[:3])
    assert len(log) == 9  # 8 batches + the one retried


def test_rate_caps_requests_per_second(run_cli: Any, mock_api: Any) -> None:
    starts: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        starts.append(time.monotonic())
        return lookup_answer(request)

    mock_api(handler)
    args = ("invoices", "--customers-file", "-", "--rate", "20", "--concurrency", "8")
    r = run_cli(*args, stdin=id_lines(600))
    assert r.exit_code == 0, r.stderr
    starts.sort()
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert len(starts) == 6 and min(gaps) >= 0.04, gaps


def test_server_errors_are_retried_then_fail_their_customers(
    run_cli: Any, mock_api: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import commands.bulk.fetch

    monkeypatch.setattr(commands.bulk.fetch, "BACKOFF_BASE", 0.001)
    calls: dict[str, int] = {}
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        first = json.loads(request.content)["customer_ids"][0]
        with lock:
            calls[first] = calls.get(first, 0) + 1
            n = calls[first]
        if first == "C0000101":  # the second batch never works
            return httpx.Response(502, json={"detail": "bad gateway"})
        if first == "C0000201" and n == 1:  # the third works the second time
            raise httpx.ConnectError("connection refused")
        return lookup_answer(request)

    mock_api(handler)
    errors = tmp_path / "errors.ndjson"
    r = run_cli("invoices", "--customers-file", "-", "--errors", str(errors), stdin=id_lines(300))
    assert r.exit_code == 7, r.stderr
    assert calls == {"C0000001": 1, "C0000101": commands.bulk.fetch.MAX_ATTEMPTS, "C0000201": 2}
    failed = [json.loads(line) for line in errors.read_text().splitlines()]
    assert len(failed) == 100 and {f["status"] for f in failed} == {502}
    assert failed[0] == {"id": "C0000101", "status": 502, "reason": "bad gateway"}
    assert len(r.lines) == 200


def test_ctrl_c_stops_cleanly(run_cli: Any, mock_api: Any) -> None:
    count = {"n": 0}
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            count["n"] += 1
            n = count["n"]
        if n == 4:
            os.kill(os.getpid(), signal.SIGINT)  # delivered to the main thread's handler
        time.sleep(0.02)
        return lookup_answer(request)

    mock_api(handler)
    args = ("invoices", "--customers-file", "-", "--concurrency", "2", "-o", "json")
    r = run_cli(*args, stdin=id_lines(5000))
    assert r.exit_code == 130, r.stderr
    written = json.loads(r.stdout)  # still one valid JSON document
    assert 200 <= len(written) < 5000  # the batches answered before Ctrl-C, in order
    assert "interrupted after" in r.stderr and "output so far is complete" in r.stderr
    assert count["n"] < 20  # stopped soon, not after the 50 batches


# --- the acceptance test: 10,000 IDs --------------------------------------------------------------


@pytest.fixture(scope="module")
def ten_thousand(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from server.app import create_app
    from server.embedded import mint_token
    from tests.api.conftest import seeded_engine, serve

    path = Path(tmp_path_factory.mktemp("bulk")) / "bulk.db"
    engine = seeded_engine(str(path), customers=10_000)
    with sqlite3.connect(path) as db:
        known = [row[0] for row in db.execute("SELECT id FROM customers ORDER BY id")][:9950]
    failing = known[7::490][:20]
    assert len(failing) == 20
    app = create_app(engine=engine, today=TODAY, fail_customers=failing)
    with serve(app) as url:
        yield {
            "url": url,
            "db": path,
            "app": app,
            "known": known,
            "failing": failing,
            "token": mint_token(f"sqlite:///{path}", "agent"),
        }
    engine.dispose()


def test_ten_thousand_ids_with_failures_then_rerun(
    run_cli: Any, ten_thousand: dict[str, Any], tmp_path: Path
) -> None:
    known: list[str] = ten_thousand["known"]
    unknown = [f"C9{n:06d}" for n in range(50)]
    ids = known[:5000] + unknown[:25] + known[5000:] + unknown[25:]
    listing = tmp_path / "ids.txt"
    listing.write_text("# 10,000 customers\nid\n" + "\n".join(ids) + "\n\n" + ids[3] + "\n")
    env = {"MONCOMPTE_API_URL": ten_thousand["url"], "MONCOMPTE_TOKEN": ten_thousand["token"]}
    errors = tmp_path / "errors.ndjson"

    started = time.perf_counter()
    r = run_cli(
        "invoices",
        "list",
        "--status",
        "unpaid",
        "--customers-file",
        str(listing),
        "--errors",
        str(errors),
        "-o",
        "ndjson",
        env_vars=env,
    )
    elapsed = time.perf_counter() - started
    assert r.exit_code == 7, r.stderr[-2000:]
    assert "looked up 10,000 customers: 9,930 answered, 70 failed" in r.stderr
    failed = [json.loads(line) for line in errors.read_text().splitlines()]
    reported = [line for line in r.stderr.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 70 and len(reported) == 70
    by_status = {s: sorted(f["id"] for f in failed if f["status"] == s) for s in (404, 500)}
    assert by_status[404] == unknown and by_status[500] == sorted(ten_thousand["failing"])
    assert all(f["reason"] for f in failed)

    # Every unpaid invoice of the 9,930, each once, with its customer; nothing of the 70.
    got = rows(r.stdout)
    with sqlite3.connect(ten_thousand["db"]) as db:
        expected = {
            (cid, inv)
            for cid, inv in db.execute(
                "SELECT customer_id, id FROM invoices WHERE status IN ('unpaid', 'failed')"
            )
            if cid in set(known) - set(ten_thousand["failing"])
        }
    assert len(got) == len(expected) and {(x["customer_id"], x["id"]) for x in got} == expected
    print(f"10,000 customers in-process: {elapsed:.2f} s")

    # The fault is lifted: the 20 complete, the 50 unknown stay failed.
    ten_thousand["app"].state.fail_customers = frozenset()
    errors2 = tmp_path / "errors2.ndjson"
    again = run_cli(
        "invoices",
        "list",
        "--status",
        "unpaid",
        "--customers-file",
        str(errors),
        "--errors",
        str(errors2),
        "-o",
        "ndjson",
        env_vars=env,
    )
    assert again.exit_code == 7, again.stderr[-2000:]
    assert "looked up 70 customers: 20 answered, 50 failed" in again.stderr
    still = [json.loads(line) for line in errors2.read_text().splitlines()]
    assert sorted(f["id"] for f in still) == unknown and {f["status"] for f in still} == {404}
    answered = {x["customer_id"] for x in rows(again.stdout)}
    assert answered <= set(ten_thousand["failing"])


def test_an_expired_token_is_refreshed_once_for_the_pool() -> None:
    """Refresh tokens work once: eight workers hitting the expiry together refresh once."""
    from cli.credentials import Tokens
    from cli.http import ApiClient
    from commands.bulk import Gate, Lookup, Transport

    refreshes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/token":
            used = json.loads(request.content)["refresh_token"]
            with lock:
                refreshes.append(used)
                first = len(refreshes) == 1
            if used == "refresh-one-abc" and first:
                fresh = {"access_token": "access-new-456", "refresh_token": "refresh-two-def"}
                return httpx.Response(200, json={**fresh, "expires_in": 3600})
            return httpx.Response(401, json={"code": "invalid_grant", "detail": "used"})
        if request.headers["Authorization"] == "Bearer access-old-123":
            return httpx.Response(401, json={"code": "token_expired", "detail": "expired"})
        return lookup_answer(request)

    api = ApiClient("http://127.0.0.1:9", transport=httpx.MockTransport(handler))
    api.use_tokens(Tokens("access-old-123", "refresh-one-abc", "2999-01-01T00:00:00+00:00"))
    transport = Transport(api, Gate(threading.Event()))
    results: list[int] = []

    def worker(n: int) -> None:
        barrier.wait()
        outcomes = Lookup("invoices").fetch(transport, [f"C{n}"])
        with lock:
            results.extend(o.status for o in outcomes)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [200] * 8 and refreshes == ["refresh-one-abc"]


def test_per_customer_fetcher_for_what_the_batch_endpoint_does_not_serve(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """`PerCustomer` (for commands such as diagnose): one request per customer, same
    streaming and error reporting; a customer token is refused before any of them."""
    from cli.context import Env
    from cli.errors import AuthError, PartialFailure
    from cli.output import Column
    from commands.bulk import BulkSpec, PerCustomer, Transport, run_bulk, single_row

    def env_for(token: str) -> tuple[Env, io.StringIO, io.StringIO]:
        out, err = io.StringIO(), io.StringIO()
        environ = {
            "MONCOMPTE_API_URL": sandbox.url,
            "MONCOMPTE_TOKEN": token,
            "MONCOMPTE_CONFIG_DIR": str(tmp_path),
        }
        return Env(io.StringIO(), out, err, environ=environ), out, err

    def payment_method(client: Transport, customer_id: str) -> Any:
        return client.get_json(f"/v1/customers/{customer_id}/payment-method")

    spec = BulkSpec(customers=("C0000001", "C9999999", "C0000002"), concurrency=2)
    columns = [Column("iban_masked", "IBAN"), Column("mandate_reference", "mandate")]
    env, out, err = env_for(sandbox.staff_token)
    with pytest.raises(PartialFailure):
        run_bulk(env, spec, PerCustomer(payment_method), columns, single_row)
    env.close()
    got = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["customer_id"] for r in got] == ["C0000001", "C0000002"]
    assert all(r["iban_masked"] for r in got)
    assert "failed: C9999999 (404)" in err.getvalue()

    env, out, _ = env_for(sandbox.customer_token)
    with pytest.raises(AuthError):
        run_bulk(env, spec, PerCustomer(payment_method), columns, single_row)
    env.close()
    assert out.getvalue() == ""
