"""The installed `moncompte` binary, in a subprocess, against a real sandbox server:
contracts, invoices, schedule, change-iban, reschedule; and Ctrl-C during a download.

No terminal: stdin is /dev/null and stdout a pipe, as in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.iban import mask_iban
from server.seed import DEMO_REFS
from tests.conftest import TODAY

BINARY = shutil.which("moncompte", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(BINARY is None, reason="moncompte is not installed in this venv")

NEW_IBAN = "FR76 3000 6000 0112 3456 7890 189"


def environ(url: str, token: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONCOMPTE_", "LC_", "LANG"))}
    env.update(
        MONCOMPTE_API_URL=url,
        MONCOMPTE_TOKEN=token,
        MONCOMPTE_TODAY=TODAY.isoformat(),
        MONCOMPTE_CONFIG_DIR=str(tmp_path / "config"),
        LANG="C.UTF-8",
    )
    return env  # XDG_* and the keyring backend come from the autouse fixture


def run(
    args: list[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    assert BINARY is not None
    return subprocess.run(
        [BINARY, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


def ok(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def api_get(box: Any, path: str) -> Any:
    response = httpx.get(
        box.url + path, headers={"Authorization": f"Bearer {box.customer_token}"}, timeout=10
    )
    response.raise_for_status()
    return response.json()


@pytest.fixture()
def env(sandbox: Any, tmp_path: Path) -> dict[str, str]:
    return environ(sandbox.url, sandbox.customer_token, tmp_path)


def test_contracts(sandbox: Any, env: dict[str, str]) -> None:
    table = ok(run(["contracts"], env))
    for contract in api_get(sandbox, "/v1/contracts")["items"]:
        assert contract["id"] in table and contract["offer"] in table
    assert "\x1b[" not in table  # piped: no colour
    listed = json.loads(ok(run(["contracts", "-o", "json"], env)))
    assert [c["id"] for c in listed] == [
        c["id"] for c in api_get(sandbox, "/v1/contracts")["items"]
    ]
    partwork = DEMO_REFS["partwork_contract"]
    detail = ok(run(["contracts", "show", partwork], env))
    assert "Partwork progress" in detail and "not received (expected" in detail
    shown = json.loads(ok(run(["contracts", "show", partwork, "-o", "json"], env)))
    assert shown == api_get(sandbox, f"/v1/contracts/{partwork}")


def test_invoices(sandbox: Any, env: dict[str, str]) -> None:
    table = ok(run(["invoices"], env))  # the README's quick start, exactly
    assert DEMO_REFS["first_invoice"] in table and table.splitlines()[-1].startswith("Total")
    listed = json.loads(ok(run(["invoices", "--status", "unpaid", "-o", "json"], env)))
    expected = api_get(sandbox, "/v1/invoices?status=unpaid")["items"]
    assert [i["id"] for i in listed] == [i["id"] for i in expected]
    assert DEMO_REFS["unpaid_invoice"] in {i["id"] for i in listed}
    first = DEMO_REFS["first_invoice"]
    explained = ok(run(["invoices", "show", first, "--explain"], env))
    assert "first connection" in explained and "Activation fee" in explained
    shown = json.loads(ok(run(["invoices", "show", first, "-o", "json"], env)))
    assert shown == api_get(sandbox, f"/v1/invoices/{first}")
    bad = run(["invoices", "--since", "yesterday"], env)
    assert bad.returncode == 2 and b"YYYY-MM-DD" in bad.stderr


def test_invoice_download(env: dict[str, str], tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    invoice = DEMO_REFS["latest_invoice"]
    ok(run(["invoices", "download", invoice], env, cwd=work))
    assert (work / f"{invoice}.pdf").read_bytes().startswith(b"%PDF-")
    again = run(["invoices", "download", invoice], env, cwd=work)
    assert again.returncode == 2 and b"--force" in again.stderr
    piped = run(["invoices", "download", invoice, "--to", "-"], env)
    assert piped.returncode == 0 and piped.stdout.startswith(b"%PDF-")
    assert sorted(os.listdir(work)) == [f"{invoice}.pdf"]


def test_schedule(sandbox: Any, env: dict[str, str]) -> None:
    plan_id = DEMO_REFS["instalment_contract"]
    table = ok(run(["schedule", plan_id], env))
    assert "Paid: €149.90 · Remaining: €449.70" in table
    assert "Next debit: instalment 3 on 2026-12-21" in table
    every = json.loads(ok(run(["schedule", "-o", "json"], env)))
    assert plan_id in {s["contract_id"] for s in every}
    single = json.loads(ok(run(["schedule", plan_id, "-o", "json"], env)))
    assert single == api_get(sandbox, f"/v1/contracts/{plan_id}/schedule")


def test_change_iban_dry_run_and_refusals(sandbox: Any, env: dict[str, str]) -> None:
    before = api_get(sandbox, "/v1/payment-method")
    table = ok(run(["change-iban", NEW_IBAN, "--dry-run"], env))
    assert mask_iban(NEW_IBAN) in table and before["mandate_reference"] in table
    preview = json.loads(ok(run(["change-iban", NEW_IBAN.lower(), "--dry-run", "-o", "json"], env)))
    assert preview["iban_masked"] == mask_iban(NEW_IBAN) and preview["dry_run"] is True
    invalid = run(["change-iban", "FR76 3000 6000 0112 3456 7890 185", "--dry-run"], env)
    assert invalid.returncode == 2 and b"(checksum check)" in invalid.stderr
    assert b"7890 185" not in invalid.stderr + invalid.stdout
    no_yes = run(["change-iban", NEW_IBAN], env)  # stdin is /dev/null: no terminal
    assert no_yes.returncode == 2 and b"--yes" in no_yes.stderr
    assert api_get(sandbox, "/v1/payment-method") == before


def test_reschedule_dry_run_and_refusal(sandbox: Any, env: dict[str, str]) -> None:
    contract, number = DEMO_REFS["reschedulable_instalment"]
    before = api_get(sandbox, f"/v1/contracts/{contract}/schedule")
    table = ok(run(["reschedule", contract, str(number), "--by", "5", "--dry-run"], env))
    assert "earliest new date" in table and "2026-12-24" in table
    preview = json.loads(
        ok(
            run(
                [
                    "reschedule",
                    contract,
                    str(number),
                    "--to",
                    "2027-01-04",
                    "--dry-run",
                    "-o",
                    "json",
                ],
                env,
            )
        )
    )
    assert preview["to"] == "2027-01-04" and preview["dry_run"] is True
    contract, failed = DEMO_REFS["failed_instalment"]
    refused = run(["reschedule", contract, str(failed), "--by", "3", "--yes"], env)
    assert refused.returncode == 5 and b"reschedule.not_failed" in refused.stderr
    assert api_get(sandbox, f"/v1/contracts/{contract}/schedule") == before


def test_changes_on_a_fresh_server(fresh_sandbox: Any, tmp_path: Path) -> None:
    env = environ(fresh_sandbox.url, fresh_sandbox.customer_token, tmp_path)
    before = api_get(fresh_sandbox, "/v1/payment-method")
    changed = json.loads(ok(run(["change-iban", NEW_IBAN, "--yes", "-o", "json"], env)))
    assert changed["iban_masked"] == mask_iban(NEW_IBAN)
    assert changed["mandate_reference"] == before["mandate_reference"]
    assert api_get(fresh_sandbox, "/v1/payment-method")["iban_masked"] == mask_iban(NEW_IBAN)
    contract, number = DEMO_REFS["reschedulable_instalment"]
    moved = json.loads(
        ok(
            run(
                ["reschedule", contract, str(number), "--to", "2026-12-28", "--yes", "-o", "json"],
                env,
            )
        )
    )
    assert moved["to"] == "2026-12-28"
    plan = api_get(fresh_sandbox, f"/v1/contracts/{contract}/schedule")
    assert next(i for i in plan["instalments"] if i["number"] == number)["due_date"] == "2026-12-28"


# --- Ctrl-C -------------------------------------------------------------------------------------


@pytest.fixture()
def stalling_server() -> Iterator[tuple[str, threading.Event]]:
    """A faulty network: answers 200 with the start of a PDF, then never sends the rest.

    The event is set once the client's request has arrived and the partial body is out,
    so the test knows the binary is inside the download when it sends SIGINT.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    started = threading.Event()
    done = threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        conns.append(conn)
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                return
            request += chunk
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n"
            b"Content-Length: 1000000\r\n\r\n%PDF-1.4\n" + b"0" * 4096
        )
        started.set()
        done.wait(30)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    host, port = listener.getsockname()
    yield f"http://{host}:{port}", started
    done.set()
    listener.close()
    for conn in conns:
        conn.close()
    thread.join(5)


def test_sigint_during_download_exits_130_and_leaves_no_file(
    stalling_server: tuple[str, threading.Event], tmp_path: Path
) -> None:
    url, started = stalling_server
    work = tmp_path / "work"
    work.mkdir()
    assert BINARY is not None
    proc = subprocess.Popen(
        [BINARY, "invoices", "download", "INV-000000001", "--to", str(work / "invoice.pdf")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environ(url, "mc_at_not_checked_by_this_server", tmp_path),
    )
    try:
        assert started.wait(30), "the download never reached the server"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err.decode()
    assert b"interrupted" in err and b"Traceback" not in err
    assert os.listdir(work) == []  # neither the PDF nor a temporary part of it
