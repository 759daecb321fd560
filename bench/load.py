"""Throughput and latency of the reference server under 32 clients, with `wrk`.

    python bench/load.py [--database-url URL] [--workers 1 2] [--seconds 20] [--connections 32]

The server runs as a deployment runs it (`python -m server serve --workers N`, its own
processes) on a database seeded with the demo data and 200 generated customers; `wrk`
(Debian's package `wrk`: C, so the load generator costs little of the CPUs the server
shares) sends the request mix of tests/reliability/test_load.py: the customer's and the
staff's reads, a 20-customer lookup, the status, a PDF (2 %) and claims filed with an
`Idempotency-Key` (5 %). Every answer must be 2xx: the script exits 1 on any error, and
when a target of the issue is missed (`--check`).

Without `--database-url`, SQLite in a temporary directory; with a PostgreSQL URL whose
role may CREATE DATABASE, a throwaway database on that server.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import _fresh_postgres_database  # noqa: E402
from tests.reliability.mix import CLAIM as MIX_CLAIM  # noqa: E402
from tests.reliability.mix import MIX  # noqa: E402

TODAY = date(2026, 11, 24)
EXTRA_CUSTOMERS = 200

CLAIM = json.dumps(MIX_CLAIM, ensure_ascii=False, separators=(",", ":"))

# Lua for wrk: a weighted pick per request; `response` counts what was not 2xx.
LUA = r"""
local mix = {%(mix)s}
local tokens = {%(tokens)s}
local total = 0
for _, m in ipairs(mix) do total = total + m[1] end
-- globals, not locals: wrk's thread:get/set see only a thread's globals
counter, thread_id, errors = 0, 0, 0
local threads = {}
function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(thread_id * 7919)
end
function request()
  local pick = math.random(total)
  local m
  for _, candidate in ipairs(mix) do
    pick = pick - candidate[1]
    if pick <= 0 then m = candidate break end
  end
  local headers = {}
  if m[2] ~= "anyone" then headers["Authorization"] = "Bearer " .. tokens[m[2]] end
  local body = nil
  if m[4] == "/v1/claims" then
    counter = counter + 1
    headers["Content-Type"] = "application/json"
    headers["Idempotency-Key"] = "bench-" .. thread_id .. "-" .. counter .. "-%(run)s"
    body = '%(claim)s'
  elseif m[4] == "/v1/lookup" then
    local ids = {}
    for i = 1, 20 do ids[i] = string.format('"C%%07d"', math.random(%(customers)d)) end
    headers["Content-Type"] = "application/json"
    body = '{"resource":"invoices","customer_ids":[' .. table.concat(ids, ",") .. ']}'
  end
  return wrk.format(m[3], m[4], headers, body)
end
function response(status, headers, body)
  if status < 200 or status >= 300 then errors = errors + 1 end
end
function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("errors") end
  io.write(string.format("BENCH %%d %%d %%d %%d %%.1f %%.1f %%.1f %%.1f %%.1f\n",
    summary.requests, failed, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, requests.mean))
end
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _database(url: str | None, scratch: Path) -> tuple[str, Any]:
    """SQLite in `scratch`, or a new database on the PostgreSQL server of `url`."""
    if url is None:
        return f"sqlite:///{scratch / 'load.db'}", None
    return _fresh_postgres_database(url)


def _lua(tokens: dict[str, str]) -> str:
    mix = ", ".join(f'{{{w}, "{who}", "{m}", "{p}"}}' for w, who, m, p in MIX)
    known = ", ".join(f'{who} = "{token}"' for who, token in tokens.items())
    return LUA % {
        "mix": mix,
        "tokens": known,
        "claim": CLAIM,
        "customers": EXTRA_CUSTOMERS + 2,
        "run": uuid.uuid4().hex[:8],
    }


def serve(
    url: str, workers: int, log: Path, *, ready_within: float = 120
) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m server serve --workers N` on `url`, once /readyz answers; its URL."""
    port = _free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(port), "--database-url",
             url, "--today", TODAY.isoformat(), "--workers", str(workers)],
            cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_within
    while True:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2):
                return process, base
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                raise SystemExit(f"the server did not start: {log}") from None
            time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 30 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_one(
    url: str, workers: int, seconds: float, connections: int, scratch: Path
) -> dict[str, Any]:
    """Serve `url` with `workers` processes, load it with wrk, stop it; the figures."""
    from server import embedded

    logins = (("demo", "demo"), ("clean", "clean"), ("staff", "agent"))
    tokens = {who: embedded.mint_token(url, user) for who, user in logins}
    script = scratch / "mix.lua"
    script.write_text(_lua(tokens), encoding="utf-8")
    server, base = serve(url, workers, scratch / f"server-{workers}.log", ready_within=60)
    try:
        # Warm every worker (first-request work: imports, caches, pool connections).
        subprocess.run(
            ["wrk", "-t2", f"-c{connections}", "-d2s", "-s", str(script), base],
            capture_output=True, check=True, timeout=60,
        )  # fmt: skip
        result = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
             "-s", str(script), base],
            capture_output=True, text=True, check=True, timeout=seconds + 60,
        )  # fmt: skip
    finally:
        stop(server)
    found = re.search(r"^BENCH (.*)$", result.stdout, re.MULTILINE)
    if not found:
        raise SystemExit(f"wrk said: {result.stdout}{result.stderr}")
    requests, failed, socket_errors, duration_us, p50, p95, p99, top, _ = found.group(1).split()
    elapsed = float(duration_us) / 1e6
    return {
        "workers": workers,
        "requests": int(requests),
        "errors": int(failed) + int(socket_errors),
        "req_s": round(int(requests) / elapsed, 1),
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "p99_ms": float(p99),
        "max_ms": float(top),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (its role: CREATEDB)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/load.py needs wrk: apt-get install wrk")

    from server.db import make_engine
    from server.seed import seed_all

    rows = []
    with tempfile.TemporaryDirectory(prefix="moncompte-load-") as tmp:
        scratch = Path(tmp)
        for workers in args.workers:
            url, drop = _database(args.database_url, scratch)
            try:
                engine = make_engine(url)
                seed_all(engine, TODAY, customers=EXTRA_CUSTOMERS)
                engine.dispose()
                row = run_one(url, workers, args.seconds, args.connections, scratch)
            finally:
                if drop is not None:
                    drop()
                elif (scratch / "load.db").exists():
                    for leftover in scratch.glob("load.db*"):
                        leftover.unlink()
            backend = "postgresql" if args.database_url else "sqlite"
            row["backend"] = backend
            rows.append(row)
            print(
                f"{backend}, {workers} worker(s), {args.connections} clients, "
                f"{args.seconds:g} s: {row['requests']} requests, {row['errors']} errors, "
                f"{row['req_s']} req/s, p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, "
                f"p99 {row['p99_ms']} ms, max {row['max_ms']} ms",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    failed = any(row["errors"] for row in rows)
    if args.check:
        for row in rows:
            if row["backend"] == "postgresql" and row["workers"] > 1:
                failed |= row["req_s"] < 500 or row["p99_ms"] > 250
            if row["backend"] == "sqlite":
                failed |= row["p99_ms"] > 1000
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
