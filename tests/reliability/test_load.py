"""The sandbox server under 32 concurrent clients on loopback: no error, latency recorded.

The server runs as it does for users (`python -m server serve`, one process, SQLite; on
PostgreSQL when MONCOMPTE_TEST_DATABASE_URL is set), seeded with the demo data plus
generated customers. 32 client threads, each with its own keep-alive connection, send a
mix of what the CLI sends (the customer's reads, the staff's reads, a PDF now and then,
and about 5 % writes: claims filed with an Idempotency-Key) for MONCOMPTE_LOAD_SECONDS
(default 10; .ci/run sets 60). Every answer must be 2xx; p50/p95/p99/max latency and the
throughput are printed and, with MONCOMPTE_LOAD_REPORT=FILE, written as JSON.

    MONCOMPTE_LOAD_SECONDS=60 .venv/bin/python -m pytest tests/reliability/test_load.py -s
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TODAY
from tests.reliability.mix import CLAIM, MIX

CLIENTS = int(os.environ.get("MONCOMPTE_LOAD_CLIENTS", "32"))
SECONDS = float(os.environ.get("MONCOMPTE_LOAD_SECONDS", "10"))
EXTRA_CUSTOMERS = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    tokens: dict[str, str]
    backend: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from server import embedded
    from server.db import make_engine
    from server.seed import seed_all

    admin = os.environ.get("MONCOMPTE_TEST_DATABASE_URL")
    drop = None
    if admin:
        from tests.conftest import _fresh_postgres_database

        url, drop = _fresh_postgres_database(admin)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('load') / 'load.db'}"
    engine = make_engine(url)
    seed_all(engine, TODAY, customers=EXTRA_CUSTOMERS)
    engine.dispose()
    tokens = {who: embedded.mint_token(url, user) for who, user in
              (("demo", "demo"), ("clean", "clean"), ("staff", "agent"))}  # fmt: skip
    port = _free_port()
    log = tmp_path_factory.mktemp("load-log") / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--database-url", url, "--today", TODAY.isoformat()],
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/v1/status", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield Server(base, tokens, url.split(":", 1)[0])
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if drop is not None:
            drop()


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def test_32_clients_no_error_and_latency_recorded(
    server: Server, capsys: pytest.CaptureFixture[str], record_property: Any
) -> None:
    weights = [w for w, *_ in MIX]
    latencies: list[float] = []
    errors: list[str] = []
    per_route: dict[str, list[float]] = {}
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)
    stop_at: list[float] = []

    def client(n: int) -> None:
        rng = random.Random(n)
        mine: list[tuple[str, float]] = []
        failed: list[str] = []
        with httpx.Client(base_url=server.url, timeout=30) as c:
            start.wait()
            if not stop_at:
                stop_at.append(time.monotonic() + SECONDS)
            i = 0
            while time.monotonic() < stop_at[0]:
                _w, who, method, path = rng.choices(MIX, weights)[0]
                headers = {}
                if who != "anyone":
                    headers["Authorization"] = f"Bearer {server.tokens[who]}"
                body: Any = None
                if path == "/v1/claims":
                    headers["Idempotency-Key"] = f"load-{n}-{i}"
                    body = CLAIM
                elif path == "/v1/lookup":
                    ids = [f"C{k:07d}" for k in rng.sample(range(1, EXTRA_CUSTOMERS + 3), 20)]
                    body = {"customer_ids": ids, "resource": "invoices"}
                began = time.perf_counter()
                try:
                    r = c.request(method, path, headers=headers, json=body)
                    status = r.status_code
                except httpx.HTTPError as exc:
                    status = 0
                    failed.append(f"{method} {path}: {type(exc).__name__}: {exc}")
                elapsed = time.perf_counter() - began
                if status and not 200 <= status < 300:
                    failed.append(f"{method} {path}: {status} {r.text[:200]}")
                mine.append((f"{method} {path.split('?')[0]}", elapsed))
                i += 1
        with lock:
            for route, elapsed in mine:
                latencies.append(elapsed)
                per_route.setdefault(route, []).append(elapsed)
            errors.extend(failed)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(SECONDS + 120)
    wall = time.monotonic() - began
    latencies.sort()
    report = {
        "backend": server.backend,
        "clients": CLIENTS,
        "seconds": SECONDS,
        "requests": len(latencies),
        "errors": len(errors),
        "throughput_rps": round(len(latencies) / wall, 1),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "p99_ms_by_route": {
            route: round(_percentile(sorted(v), 0.99) * 1000, 1)
            for route, v in sorted(per_route.items())
        },
    }
    for key in ("requests", "errors", "throughput_rps", "p50_ms", "p95_ms", "p99_ms", "max_ms"):
        record_property(key, report[key])
    if os.environ.get("MONCOMPTE_LOAD_REPORT"):
        Path(os.environ["MONCOMPTE_LOAD_REPORT"]).write_text(json.dumps(report, indent=2) + "\n")
    with capsys.disabled():
        print(
            f"\nload: {CLIENTS} clients x {SECONDS:g} s on {server.backend}: "
            f"{report['requests']} requests, {report['errors']} errors, "
            f"{report['throughput_rps']} req/s, p50 {report['p50_ms']} ms, "
            f"p95 {report['p95_ms']} ms, p99 {report['p99_ms']} ms, max {report['max_ms']} ms"
        )
    assert not any(t.is_alive() for t in threads), "a client did not finish"
    assert not errors, errors[:20]
    assert len(latencies) > CLIENTS * SECONDS  # at least one answer a second per client
