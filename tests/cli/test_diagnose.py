"""`moncompte diagnose` in-process against the sandbox: the demo's planted anomalies, the
clean account, an API that is down or hangs, the options, the support file."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.diagnose import CHECK_IDS

NO_ACCOUNT: dict[str, Any] = {"MONCOMPTE_TOKEN": None}
# What the seed plants for the demo customer (server/seed/, DEMO_REFS), by check.
PLANTED = {
    "account.terms": [],
    "account.partwork_issues": ["CT-0000002"],
    "account.options": ["CT-0000002"],
    "account.payments": ["INV-000000009", "CT-0000003#2"],
    "account.debits": ["INV-000000006"],
    "account.outages": ["CT-0000001"],
    "account.equipment": ["CT-0000004"],
    "account.claims": ["CL-0000001"],
    "account.restrictions": ["CT-0000003"],
}


def by_id(result: Any) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in result.json["checks"]}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_customer_every_planted_anomaly_is_found(run_cli: Any) -> None:
    result = run_cli("diagnose", "-o", "json")
    assert result.exit_code == 8, result.stderr
    checks = by_id(result)
    assert list(checks) == list(CHECK_IDS)
    for check_id, refs in PLANTED.items():
        check = checks[check_id]
        assert check["status"] in ("warn", "fail"), check
        assert check["remedy"], check
        for ref in refs:
            assert ref in check["refs"], (check_id, check["refs"])
    assert "issue 12" in checks["account.partwork_issues"]["finding"]
    assert "Vitrine" in checks["account.options"]["finding"]
    assert "53.2 h" in checks["account.outages"]["finding"]
    assert "2025-" in checks["account.terms"]["finding"]
    assert "mediator" in checks["account.claims"]["finding"]
    assert "RM-" in checks["account.equipment"]["finding"]
    assert checks["account.deliveries"]["status"] == "warn"  # issue 15 delayed
    commitment = checks["account.commitment"]
    assert commitment["status"] == "ok" and "would cost" in commitment["finding"]
    assert commitment["details"]["CT-0000001"]["total_cents"] > 0
    summary = result.json["summary"]
    assert summary["exit_code"] == 8 and summary["fail"] >= 4
    assert summary["text"].startswith(f"{summary['ok']} ok")


def test_clean_customer_has_nothing_to_report(run_cli: Any, sandbox: Any) -> None:
    result = run_cli("diagnose", "-o", "json", env_vars={"MONCOMPTE_TOKEN": sandbox.clean_token})
    checks = by_id(result)
    account = {i: c for i, c in checks.items() if i.startswith("account.")}
    assert len(account) == 11
    assert all(c["status"] == "ok" for c in account.values()), account
    # the network path to the sandbox is healthy too
    for check_id in (
        "local.config",
        "local.credentials",
        "net.dns",
        "net.tcp",
        "net.clock",
    ):
        assert checks[check_id]["status"] == "ok", checks[check_id]
    # a loaded test machine may make the in-process server slow, never unreachable
    assert checks["net.latency"]["status"] in ("ok", "warn")
    assert checks["net.tls"]["status"] == "skip"
    assert result.exit_code == 0, result.stdout  # the maintenance in 3 days is only a warning


def test_clean_customer_account_only_passes_fail_on_warn(run_cli: Any, sandbox: Any) -> None:
    result = run_cli(
        "diagnose",
        "--account-only",
        "--fail-on",
        "warn",
        "-o",
        "json",
        env_vars={"MONCOMPTE_TOKEN": sandbox.clean_token},
    )
    assert result.exit_code == 0
    assert [c["id"] for c in result.json["checks"]] == [
        i for i in CHECK_IDS if i.startswith("account.")
    ]


def test_fail_on_warn_makes_warnings_count(run_cli: Any) -> None:
    assert run_cli("diagnose", "--check", "account.options").exit_code == 0
    assert run_cli("diagnose", "--check", "account.options", "--fail-on", "warn").exit_code == 8
    assert run_cli("diagnose", "--fail-on", "maybe").exit_code == 2


def test_api_down_local_checks_report_network_checks_fail_fast(run_cli: Any) -> None:
    port = closed_port()
    started = time.monotonic()
    result = run_cli(
        "diagnose",
        "-o",
        "json",
        "--check-timeout",
        "3",
        env_vars={"MONCOMPTE_API_URL": f"http://127.0.0.1:{port}"},
    )
    elapsed = time.monotonic() - started
    assert elapsed < 3.5
    assert result.exit_code == 8
    checks = by_id(result)
    for check_id in ("local.config", "local.credentials", "local.proxy", "local.cache", "net.dns"):
        assert checks[check_id]["status"] == "ok", checks[check_id]
    assert checks["net.tcp"]["status"] == "fail"
    assert "refused" in checks["net.tcp"]["finding"].lower()
    assert checks["net.latency"]["status"] == "fail"
    assert checks["net.clock"]["status"] == "fail"
    # one cause, one failure: what needs the API points at net.tcp instead of failing again
    for check_id in [i for i in CHECK_IDS if i.startswith("account.")] + ["service.maintenance"]:
        assert checks[check_id]["status"] == "skip", checks[check_id]
        assert "see net.tcp" in checks[check_id]["finding"]


def test_account_only_with_the_api_down_fails(run_cli: Any) -> None:
    result = run_cli(
        "diagnose",
        "--account-only",
        "-o",
        "json",
        env_vars={"MONCOMPTE_API_URL": f"http://127.0.0.1:{closed_port()}"},
    )
    assert result.exit_code == 8  # nothing else reported the cause: these must not pass
    assert {c["status"] for c in result.json["checks"]} == {"fail"}
    assert "cannot connect" in result.json["checks"][0]["finding"]


@pytest.fixture()
def hanging_server() -> Iterator[int]:
    """Accepts connections and never answers: only the deadline can end the checks."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    threading.Thread(target=serve, daemon=True).start()
    yield int(server.getsockname()[1])
    stop.set()
    for conn in held:
        conn.close()
    server.close()


def test_a_hanging_api_ends_within_the_check_timeout(run_cli: Any, hanging_server: int) -> None:
    started = time.monotonic()
    result = run_cli(
        "diagnose",
        "-o",
        "json",
        "--check-timeout",
        "1",
        env_vars={"MONCOMPTE_API_URL": f"http://127.0.0.1:{hanging_server}"},
    )
    assert time.monotonic() - started < 2.5
    checks = by_id(result)
    assert checks["net.tcp"]["status"] == "ok"
    assert checks["local.config"]["status"] == "ok"
    # The probes' HTTP timeouts end a little before the deadline, so they fail with their
    # reason; what still hangs at the deadline fails as "timed out after 1 s".
    assert checks["net.latency"]["status"] == "fail"
    assert "timed out" in checks["net.latency"]["finding"]
    for check_id in [i for i in CHECK_IDS if i.startswith("account.")] + ["net.clock"]:
        assert checks[check_id]["status"] in ("skip", "fail"), checks[check_id]
        assert "timed out" in checks[check_id]["finding"], checks[check_id]


def test_offline_without_an_account_runs_the_local_checks(run_cli: Any) -> None:
    started = time.monotonic()
    result = run_cli(
        "diagnose",
        "--offline",
        "-o",
        "json",
        env_vars={"MONCOMPTE_TOKEN": None, "MONCOMPTE_API_URL": None},
    )
    assert time.monotonic() - started < 2
    checks = by_id(result)
    for check_id, check in checks.items():
        if check_id.startswith("local."):
            assert check["status"] == "ok", check
        else:
            assert check["status"] == "skip" and "offline" in check["finding"]
    assert "sandbox" in checks["local.credentials"]["finding"]
    assert "sandbox: demo data" not in result.stderr  # offline: the sandbox is not started
    assert result.exit_code == 0


def test_not_logged_in_fails_credentials_and_skips_account_checks(run_cli: Any) -> None:
    result = run_cli("diagnose", "-o", "json", env_vars=NO_ACCOUNT)
    checks = by_id(result)
    assert checks["local.credentials"]["status"] == "fail"
    assert checks["local.credentials"]["remedy"]
    assert checks["net.tcp"]["status"] == "ok"
    assert checks["service.maintenance"]["status"] == "warn"  # /v1/status needs no login
    assert checks["account.claims"]["status"] == "skip"
    assert "see local.credentials" in checks["account.claims"]["finding"]
    assert result.exit_code == 8


def test_staff_token_has_no_customer_account(run_cli: Any, sandbox: Any) -> None:
    result = run_cli(
        "diagnose",
        "--account-only",
        "-o",
        "json",
        env_vars={"MONCOMPTE_TOKEN": sandbox.staff_token},
    )
    assert {c["status"] for c in result.json["checks"]} == {"skip"}
    assert "customer account" in result.json["checks"][0]["finding"]


def test_check_selection_list_and_unknown_ids(run_cli: Any) -> None:
    result = run_cli("diagnose", "--check", "net.dns", "--check", "account.debits", "-o", "json")
    assert [c["id"] for c in result.json["checks"]] == ["net.dns", "account.debits"]
    bad = run_cli("diagnose", "--check", "net.dsn")
    assert bad.exit_code == 2
    assert "unknown check 'net.dsn'" in bad.stderr and "net.dns" in bad.stderr
    listed = run_cli("diagnose", "--list-checks", "-o", "json")
    assert [c["id"] for c in listed.json] == list(CHECK_IDS)
    assert all(c["title"] and c["needs"] for c in listed.json)


def test_ndjson_is_one_check_per_line(run_cli: Any) -> None:
    result = run_cli("diagnose", "--account-only", "-o", "ndjson")
    rows = [json.loads(line) for line in result.lines]
    assert [r["id"] for r in rows] == [i for i in CHECK_IDS if i.startswith("account.")]
    assert {"status", "finding", "remedy", "refs", "checked_at"} <= set(rows[0])
    assert "ok," in result.stderr  # the summary line, on stderr


def test_table_plain_words_when_piped_symbols_on_a_terminal(run_cli: Any) -> None:
    piped = run_cli("diagnose", "--account-only")
    assert piped.exit_code == 8
    first = piped.lines[1].split()
    assert first[0] == "warn" and first[1] == "account.terms"
    assert "✓" not in piped.stdout and "✗" not in piped.stdout
    assert "failures" in piped.stderr and "warnings" in piped.stderr
    assert "\x1b" not in piped.stderr  # no spinner when stderr is not a terminal
    tty = run_cli("diagnose", "--account-only", "-o", "table", tty=True)
    assert "✗" in tty.stdout and "⚠" in tty.stdout and "✓" in tty.stdout


def test_clock_skew_against_a_skewed_server(run_cli: Any) -> None:
    import email.utils
    import http.server

    class Skewed(http.server.BaseHTTPRequestHandler):
        def date_time_string(self, timestamp: float | None = None) -> str:
            return email.utils.formatdate(time.time() - 400, usegmt=True)

        def do_GET(self) -> None:  # noqa: N802
            body = b'{"status": "ok", "maintenance": []}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Skewed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = run_cli(
            "diagnose",
            "--check",
            "net.clock",
            "-o",
            "json",
            env_vars={"MONCOMPTE_API_URL": f"http://127.0.0.1:{server.server_address[1]}"},
        )
    finally:
        server.shutdown()
        server.server_close()
    check = result.json["checks"][0]
    assert check["status"] == "fail" and "ahead of the server" in check["finding"]
    assert result.exit_code == 8


def test_proxy_without_no_proxy_for_loopback_warns(run_cli: Any, sandbox: Any) -> None:
    proxied = run_cli(
        "diagnose",
        "--check",
        "local.proxy",
        "-o",
        "json",
        env_vars={"HTTP_PROXY": "http://user:pw@127.0.0.1:9", "NO_PROXY": None, "no_proxy": None},
    )
    check = proxied.json["checks"][0]
    assert check["status"] == "warn" and "NO_PROXY" in check["remedy"]
    assert "pw" not in proxied.stdout.replace("proxy", "")
    bypassed = run_cli(
        "diagnose",
        "--check",
        "local.proxy",
        "-o",
        "json",
        env_vars={"HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1"},
    )
    assert bypassed.json["checks"][0]["status"] == "ok"


def test_clear_cache_empties_the_xdg_cache(run_cli: Any, tmp_path: Path) -> None:
    cache = tmp_path / "xdg-cache" / "moncompte"  # conftest points XDG_CACHE_HOME there
    cache.mkdir(parents=True)
    (cache / "old.json").write_text("{}" * 500)
    before = run_cli("diagnose", "--check", "local.cache", "-o", "json")
    assert before.json["checks"][0]["details"]["files"] == 1
    after = run_cli("diagnose", "--check", "local.cache", "--clear-cache", "-o", "json")
    check = after.json["checks"][0]
    assert check["status"] == "ok" and "cleared" in check["finding"]
    assert check["details"]["removed_files"] == 1
    assert list(cache.iterdir()) == []


def test_corrupt_config_is_a_failure_and_the_rest_still_runs(run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "config" / "config.toml").write_text("[profiles.default\n")
    result = run_cli(
        "diagnose", "--check", "local.config", "--check", "account.debits", "-o", "json"
    )
    checks = by_id(result)
    assert (
        checks["local.config"]["status"] == "fail" and "TOML" in checks["local.config"]["finding"]
    )
    assert checks["account.debits"]["status"] == "fail"  # still checked, on the defaults
    assert result.exit_code == 8


def _full_iban(sandbox: Any) -> str:
    from sqlalchemy import create_engine, select

    from server.models import PaymentMethod
    from server.seed import DEMO_CUSTOMER_ID

    engine = create_engine(sandbox.database_url)
    try:
        with engine.connect() as conn:
            iban = conn.execute(
                select(PaymentMethod.iban).where(PaymentMethod.customer_id == DEMO_CUSTOMER_ID)
            ).scalar_one()
    finally:
        engine.dispose()
    return str(iban)


@pytest.mark.parametrize("suffix", [".md", ".json"])
def test_support_file_has_the_references_and_no_secret(
    run_cli: Any, sandbox: Any, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"support{suffix}"
    result = run_cli("diagnose", "--report", str(path), "-o", "json")
    assert result.exit_code == 8
    assert str(path) in result.stderr
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_mode & 0o777 == 0o600
    for expected in (
        "10000001",  # the demo customer number
        "CT-0000001",
        "CT-0000002",
        "CT-0000003",
        "CT-0000004",
        "INV-000000009",
        "INV-000000006",
        "CL-0000001",
        "09 70 247 247",
        "service.client@moncompte.example",
        "TSA 40217",
        "account.payments",
        "RUM-C0000001",
    ):
        assert expected in text, expected
    iban = _full_iban(sandbox)
    for secret in (sandbox.customer_token, sandbox.staff_token, sandbox.clean_token, iban):
        assert secret not in text
    assert iban[:4] in text and "****" in text  # the masked form only
    if suffix == ".json":
        report = json.loads(text)
        assert report["customer"]["customer_number"] == "10000001"
        assert "INV-000000009" in report["references"]["invoices"]
        assert "CL-0000001" in report["references"]["claims"]
        assert report["system"]["python"] and report["tool"]["version"]
        assert all(p["checked_at"] for p in report["problems"])
    else:
        assert text.startswith("# Support file")
        assert "## What failed" in text and "## Support channels" in text


def test_support_file_names_the_customer_even_for_one_local_check(
    run_cli: Any, tmp_path: Path
) -> None:
    path = tmp_path / "support.json"
    result = run_cli("diagnose", "--check", "local.config", "--report", str(path))
    assert result.exit_code == 0
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["customer"]["customer_number"] == "10000001"
    assert report["support"]["phone"] == "09 70 247 247"
    assert [c["id"] for c in report["checks"]] == ["local.config"]


def test_report_needs_a_known_suffix(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("diagnose", "--report", str(tmp_path / "support.txt"))
    assert result.exit_code == 2 and ".md or .json" in result.stderr
    assert not (tmp_path / "support.txt").exists()
