"""Server killed mid-bulk: the output so far is valid, the failed customers are listed, and
a rerun of the failed ones completes the rest, each customer exactly once.

Everything is a real process: the reference server (`python -m server serve`, SQLite with
10,000 generated customers) and the installed `moncompte` binary, run as a staff member:

    moncompte invoices list --status unpaid --customers-file ids.txt -o ndjson \\
        --errors err.ndjson

A clean run first gives the reference rows. The second run's server is killed (SIGKILL)
when about half of those rows are on stdout; it is restarted on the same database and
the failed customers are looked up again with `--customers-file err.ndjson`.

    python -m pytest tests/reliability/test_bulk_kill.py -q -s     # -s prints the figures
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TODAY

pytestmark = pytest.mark.slow

CUSTOMERS = 10_000
MONCOMPTE = Path(sys.executable).with_name("moncompte")
# Paced so that "half the output" is a moment the test can catch (the whole lookup takes
# well under a second on one worker otherwise), and the failing tail stays short.
BULK_OPTIONS = ("--concurrency", "16", "--rate", "100")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`python -m server serve` in a process of its own, on a free port."""

    def __init__(self, db: Path, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "serve",
                "--db",
                str(db),
                "--port",
                str(self.port),
                "--today",
                TODAY.isoformat(),
            ],  # fmt: skip
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/v1/status", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not start; see {log}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, connections dropped as they are."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """A database with the demo data and 10,000 generated customers, a staff token, and
    the file of the 10,000 generated customers' IDs."""
    if not MONCOMPTE.exists():
        pytest.skip(f"the installed binary is not at {MONCOMPTE}")
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from server import embedded
    from server.models import Customer
    from server.seed import DEMO_REFS

    folder = tmp_path_factory.mktemp("bulk-kill")
    db = folder / "bulk.db"
    url, engine = embedded.prepare_database(
        f"sqlite:///{db}", today=TODAY, seed=True, customers=CUSTOMERS
    )
    demo = {DEMO_REFS["customer"], DEMO_REFS["clean_customer"]}
    with Session(engine) as session:
        ids = [i for i in session.scalars(select(Customer.id).order_by(Customer.id))]
    engine.dispose()
    ids = [i for i in ids if i not in demo]
    assert len(ids) == CUSTOMERS
    ids_file = folder / "ids.txt"
    ids_file.write_text("\n".join(ids) + "\n", encoding="utf-8")
    return db, embedded.mint_token(url, "agent"), ids_file


def _cli_env(home: Path, url: str, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONCOMPTE_")}
    env.update(
        MONCOMPTE_API_URL=url,
        MONCOMPTE_TOKEN=token,
        MONCOMPTE_CONFIG_DIR=str(home / "config"),
        XDG_CONFIG_HOME=str(home / "xdg-config"),
        XDG_DATA_HOME=str(home / "xdg-data"),
        XDG_CACHE_HOME=str(home / "xdg-cache"),
        XDG_STATE_HOME=str(home / "xdg-state"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        NO_COLOR="1",
        LANG="C.UTF-8",
    )
    return env


def _lookup(
    home: Path, url: str, token: str, ids: Path, out: Path, errors: Path
) -> subprocess.Popen[bytes]:
    args = [str(MONCOMPTE), "invoices", "list", "--status", "unpaid",
            "--customers-file", str(ids), "-o", "ndjson", "--errors", str(errors),
            *BULK_OPTIONS]  # fmt: skip
    return subprocess.Popen(
        args,
        stdout=out.open("wb"),
        stderr=out.with_suffix(".stderr").open("wb"),
        env=_cli_env(home, url, token),
        cwd=home,
    )


def _lines(path: Path) -> list[str]:
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), f"{path} ends with half a line"
    return data.decode("utf-8").splitlines()


def _records(path: Path) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(_lines(path), 1):
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"{path} line {number} is not complete JSON: {line[:200]!r}")
    return records


@pytest.fixture()
def home(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "config").mkdir()
    yield tmp_path


def test_server_killed_mid_bulk(seeded_db: tuple[Path, str, Path], home: Path) -> None:
    db, token, ids_file = seeded_db
    all_ids = ids_file.read_text(encoding="utf-8").split()
    figures: dict[str, Any] = {"customers": len(all_ids)}

    # 1. The reference: a clean run.
    server = Server(db, home / "server.log")
    try:
        ref_out, ref_err = home / "reference.ndjson", home / "reference-errors.ndjson"
        started = time.monotonic()
        ref = _lookup(home, server.url, token, ids_file, ref_out, ref_err)
        assert ref.wait(120) == 0, ref_out.with_suffix(".stderr").read_text()
        figures["reference_s"] = round(time.monotonic() - started, 1)
        reference = _lines(ref_out)
        assert reference and _lines(ref_err) == []
        figures["reference_rows"] = len(reference)

        # 2. The same run, its server killed when half the rows are out.
        out, errors = home / "killed.ndjson", home / "killed-errors.ndjson"
        started = time.monotonic()
        run = _lookup(home, server.url, token, ids_file, out, errors)
        half = len(reference) // 2
        while out.read_bytes().count(b"\n") < half:
            assert run.poll() is None, "the run ended before the server was killed"
            assert time.monotonic() - started < 60, "no progress"
            time.sleep(0.002)
        server.kill()
        figures["killed_at_rows"] = out.read_bytes().count(b"\n")
        figures["killed_after_s"] = round(time.monotonic() - started, 2)
        code = run.wait(180)
        figures["killed_run_s"] = round(time.monotonic() - started, 1)
    finally:
        server.stop()
    stderr = out.with_suffix(".stderr").read_text(encoding="utf-8")

    # The output written so far is valid: whole JSON lines, each a row of a customer.
    rows = _records(out)
    assert 0 < len(rows) < len(reference), "the server was not killed mid-run"
    assert all(r.get("customer_id") in set(all_ids) for r in rows)
    # The failed customers are listed: exit 7, on stderr and in --errors, rerunnable.
    assert code == 7, stderr[-2000:]
    failed = _records(errors)
    failed_ids = [f["id"] for f in failed]
    assert failed_ids and len(set(failed_ids)) == len(failed_ids)
    assert set(failed_ids) <= set(all_ids)
    assert all(f.get("reason") for f in failed)
    for customer in failed_ids:
        assert f"failed: {customer}: " in stderr
    assert f"{len(failed_ids):,} of {len(all_ids):,} customers failed" in stderr
    assert f"--customers-file {errors}" in stderr
    # No customer is both answered and failed.
    assert not {r["customer_id"] for r in rows} & set(failed_ids)
    figures["rows_before_kill_output"] = len(rows)
    figures["failed_customers"] = len(failed_ids)

    # 3. Restart, rerun the failed ones.
    server = Server(db, home / "server.log")
    try:
        again, again_err = home / "rerun.ndjson", home / "rerun-errors.ndjson"
        started = time.monotonic()
        rerun = _lookup(home, server.url, token, errors, again, again_err)
        assert rerun.wait(120) == 0, again.with_suffix(".stderr").read_text()
        figures["rerun_s"] = round(time.monotonic() - started, 1)
    finally:
        server.stop()
    rerun_rows = _records(again)
    assert _lines(again_err) == []
    assert {r["customer_id"] for r in rerun_rows} <= set(failed_ids)
    assert f"looked up {len(failed_ids):,} customers" in again.with_suffix(".stderr").read_text()
    # The union covers every customer exactly once: the two runs' rows are the reference's,
    # none missing, none twice.
    union = Counter(_lines(out) + _lines(again))
    assert union == Counter(reference)
    assert max(union.values()) == 1
    figures["rows_after_rerun"] = sum(union.values())
    print("\nserver killed mid-bulk:", json.dumps(figures))
