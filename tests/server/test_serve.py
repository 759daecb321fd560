"""`python -m server serve` as a deployment runs it: no demo data, logs on stdout (the
access log included), ready once migrated, stopped cleanly by SIGTERM, with workers."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from server.migrations import HEAD

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _serve(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "server", "serve", "--port", str(port),
            "--db", str(tmp_path / "prod.db"), *extra,
        ],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if _get(f"{url}/readyz")[0] == 200:
                return process, url
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _out, err = process.communicate(timeout=5)
            pytest.fail(f"server did not become ready: {err[-2000:]}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    """SIGTERM, as a container runtime stops it: a graceful shutdown, after which uvicorn
    re-raises the signal (one process: killed by SIGTERM, as the runtime expects)."""
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode in (0, -signal.SIGTERM), err
    return 0, out, err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_no_demo_logs_to_stdout_and_stops_on_sigterm(tmp_path: Path, workers: str) -> None:
    process, url = _serve(tmp_path, "--no-demo", "--access-log", "--workers", workers)
    try:
        assert _get(f"{url}/readyz") == (
            200,
            {"status": "ok", "database": "sqlite", "schema": HEAD},
        )
        assert _get(f"{url}/v1/status")[0] == 200
    finally:
        code, out, err = _stop(process)
    assert code == 0, err
    with sqlite3.connect(tmp_path / "prod.db") as db:
        assert db.execute("SELECT count(*) FROM customers").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM users").fetchone() == (0,)
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
    lines = out.splitlines()
    assert lines[0].startswith(f"serving {url}")
    access = [line for line in lines if "access:" in line]
    assert any('"GET /v1/status HTTP/1.1" 200' in line for line in access), out
    assert all(line[:4].isdigit() for line in access)  # each line starts with its time
    assert "Traceback" not in err


def test_the_demo_is_seeded_by_default(tmp_path: Path) -> None:
    process, url = _serve(tmp_path)
    try:
        assert _get(f"{url}/readyz")[0] == 200
    finally:
        code, out, _ = _stop(process)
    assert code == 0
    assert "access:" not in out  # the access log is off unless asked for
    with sqlite3.connect(tmp_path / "prod.db") as db:
        assert db.execute("SELECT count(*) FROM users").fetchone()[0] >= 3


def test_an_unknown_log_level_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--log-level", "loud"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--log-level" in result.stderr and "loud" in result.stderr


def _listeners(port: int) -> int:
    """Listening TCP sockets on `port` (IPv4), from /proc/net/tcp."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state == "0A" and int(local.split(":")[1], 16) == port:
            count += 1
    return count


def _children(pid: int) -> list[int]:
    """The worker processes of `pid` (not multiprocessing's resource tracker)."""
    found = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [c for c in found if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreading")
def test_workers_listen_each_and_a_dead_one_is_replaced(tmp_path: Path) -> None:
    process, url = _serve(tmp_path, "--no-demo", "--workers", "2")
    port = int(url.rsplit(":", 1)[1])
    try:
        # A socket each, so the kernel spreads connections over them (server/workers.py).
        assert _listeners(port) == 2
        workers = _children(process.pid)
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:
            now = _children(process.pid)
            if len(now) == 2 and workers[0] not in now and _listeners(port) == 2:
                break
            assert time.monotonic() < deadline, f"not replaced: {now}"
            time.sleep(0.2)
        for _ in range(10):  # whichever worker a connection lands on answers
            assert _get(f"{url}/readyz")[0] == 200
    finally:
        _code, out, err = _stop(process)
    assert f"worker {workers[0]} ended" in out
    assert not any(Path(f"/proc/{pid}").exists() for pid in (*workers, *now))
