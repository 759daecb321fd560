"""Bulk benchmark: unpaid invoices of every customer of a 10,000-customer sandbox.

    .venv/bin/python bench/bulk.py                  # 10,000 customers, then 100,000 for memory
    .venv/bin/python bench/bulk.py --big 0          # skip the 100,000-customer run
    .venv/bin/python bench/bulk.py --runs 7

Starts `moncompte sandbox serve --customers N` (SQLite, one process) and times, in the same
run on the same machine, four ways of getting the unpaid invoices of every customer:

  (a) moncompte invoices list --status unpaid --customers-file ids.txt -o ndjson
  (b) a shell loop of curl on GET /v1/customers/{id}/invoices (500 sampled, extrapolated)
  (c) xargs -P 8 curl, the same requests (1,000 sampled, extrapolated)
  (d) a hand-written httpx.AsyncClient script on POST /v1/lookup, batches of 100, at the
      best of concurrency 2/4/8, writing the same JSON lines (`bulk.py direct ...`)

and reports seconds, the ratio of each to (a), the client's and the server's CPU seconds,
and the peak memory (max RSS) of (a) for 10,000 and for 100,000 customers. (a) and (d) are
the median of --runs runs, alternating.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

TARGET_SECONDS = 5.0
TARGET_VS_XARGS = 15.0
TARGET_VS_DIRECT = 1.2
TARGET_MEMORY_GROWTH = 1.5


@dataclass
class Sample:
    wall: float
    client_cpu: float
    server_cpu: float
    max_rss_kb: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_of(pid: int) -> float:
    """utime + stime of a process, in seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run(
    cmd: list[str] | str, env: dict[str, str], server_pid: int, *, stdin: Path | None = None
) -> Sample:
    """Run to completion, output to /dev/null; wall, CPU of the child (and its waited-for
    children: curl under bash), server CPU, max RSS."""
    server_before = _cpu_of(server_pid)
    started = time.perf_counter()
    with open(stdin or os.devnull, "rb") as inp, open(os.devnull, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=inp,
            stdout=out,
            stderr=subprocess.PIPE,
            shell=isinstance(cmd, str),
        )
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd!r} failed ({proc.returncode}): {err.decode()[-800:]}")
    # RUSAGE of a shell includes the children it waited for (every curl).
    return Sample(
        wall,
        usage.ru_utime + usage.ru_stime,
        _cpu_of(server_pid) - server_before,
        usage.ru_maxrss,
    )


def _median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.wall for s in samples),
        statistics.median(s.client_cpu for s in samples),
        statistics.median(s.server_cpu for s in samples),
        max(s.max_rss_kb for s in samples),
    )


class Sandbox:
    """`moncompte sandbox serve --customers N` in a child process."""

    def __init__(self, exe: str, tmp: Path, customers: int, env: dict[str, str]) -> None:
        self.db = tmp / f"bulk-{customers}.db"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [exe, "sandbox", "serve", "--customers", str(customers), "--db", str(self.db)]
            + ["--port", str(self.port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"sandbox serve exited ({self.proc.returncode})")
            try:
                urllib.request.urlopen(self.url + "/v1/status", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("sandbox serve did not answer within 600 s")
        self.ready_in = time.perf_counter() - started
        self.token = subprocess.run(
            [exe, "sandbox", "token", "--staff", "--db", str(self.db)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _ids_file(exe: str, box: Sandbox, env: dict[str, str], path: Path) -> tuple[int, float]:
    """Every customer ID, made by the CLI itself: `customers list --all --columns id -o csv`."""
    started = time.perf_counter()
    with path.open("w") as out:
        subprocess.run(
            [exe, "customers", "list", "--all", "--columns", "id", "-o", "csv"],
            env={**env, "MONCOMPTE_API_URL": box.url, "MONCOMPTE_TOKEN": box.token},
            stdout=out,
            stderr=subprocess.DEVNULL,
            check=True,
        )
    elapsed = time.perf_counter() - started
    count = sum(1 for line in path.open() if line.strip()) - 1  # the header line
    return count, elapsed


def _sample(ids: Path, n: int, dest: Path) -> Path:
    lines = [line for line in ids.read_text().splitlines()[1:] if line.strip()]
    step = max(1, len(lines) // n)
    dest.write_text("\n".join(lines[::step][:n]) + "\n")
    return dest


def _fmt(seconds: float) -> str:
    return f"{seconds:.2f}"


def bench(args: argparse.Namespace) -> int:
    exe = shutil.which("moncompte", path=str(Path(sys.executable).parent))
    curl = shutil.which("curl") or "/usr/bin/curl"
    if exe is None:
        raise SystemExit(f"moncompte is not installed beside {sys.executable}")
    tmp = Path(tempfile.mkdtemp(prefix="mc-bulk-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MONCOMPTE_")},
        "MONCOMPTE_CONFIG_DIR": str(tmp / "config"),
        "XDG_DATA_HOME": str(tmp / "data"),
        "NO_COLOR": "1",
    }
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.machine()}, load {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    box = Sandbox(exe, tmp, args.customers, env)
    results: dict[str, Sample] = {}
    try:
        ids = tmp / "ids.txt"
        count, listing = _ids_file(exe, box, env, ids)
        print(
            f"sandbox of {count:,} customers ready in {box.ready_in:.1f} s; "
            f"customers list --all -o csv: {listing:.2f} s"
        )
        run_env = {**env, "MONCOMPTE_API_URL": box.url, "MONCOMPTE_TOKEN": box.token}
        a_cmd = [exe, "invoices", "list", "--status", "unpaid", "--customers-file", str(ids)]
        a_cmd += ["-o", "ndjson"]
        d_cmds = {
            c: [sys.executable, __file__, "direct", box.url, box.token, str(ids), str(c)]
            for c in (2, 4, 8)
        }
        lean_cmd = [sys.executable, __file__, "direct-lean", box.url, box.token, str(ids)]
        # Warm-up: page cache, byte-code, the server's statement cache.
        _run(a_cmd, run_env, box.proc.pid)
        for cmd in d_cmds.values():
            _run(cmd, run_env, box.proc.pid)

        a_runs: list[Sample] = []
        d_runs: dict[int, list[Sample]] = {c: [] for c in d_cmds}
        for i in range(args.runs):
            order = list(d_cmds) if i % 2 else list(reversed(d_cmds))
            if i % 2:
                a_runs.append(_run(a_cmd, run_env, box.proc.pid))
            for c in order:
                d_runs[c].append(_run(d_cmds[c], run_env, box.proc.pid))
            if not i % 2:
                a_runs.append(_run(a_cmd, run_env, box.proc.pid))
        results["a"] = _median(a_runs)
        best_c = min(d_runs, key=lambda c: statistics.median(s.wall for s in d_runs[c]))
        results["d"] = _median(d_runs[best_c])
        results["d lean"] = _median(
            [_run([*lean_cmd, str(best_c)], run_env, box.proc.pid) for _ in range(args.runs)]
        )
        for c in (2, 4, 16):
            cmd = [*a_cmd, "--concurrency", str(c)]
            results[f"a --concurrency {c}"] = _median(
                [_run(cmd, run_env, box.proc.pid) for _ in range(max(3, args.runs // 2))]
            )

        header = f'-H "Authorization: Bearer {box.token}"'
        path = f"{box.url}/v1/customers/$id/invoices?status=unpaid&limit=500"
        sample_b = _sample(ids, args.loop_sample, tmp / "sample-b.txt")
        loop = f'while read -r id; do {curl} -s {header} "{path}"; echo; done'
        b = _run(["bash", "-c", loop], run_env, box.proc.pid, stdin=sample_b)
        scale_b = count / args.loop_sample
        results["b"] = Sample(b.wall * scale_b, b.client_cpu * scale_b, b.server_cpu * scale_b, 0)
        sample_c = _sample(ids, args.xargs_sample, tmp / "sample-c.txt")
        xargs = (
            f"xargs -P 8 -I{{}} {curl} -s {header} "
            f'"{box.url}/v1/customers/{{}}/invoices?status=unpaid&limit=500"'
        )
        c_sample = _run(["bash", "-c", xargs], run_env, box.proc.pid, stdin=sample_c)
        scale_c = count / args.xargs_sample
        results["c"] = Sample(
            c_sample.wall * scale_c, c_sample.client_cpu * scale_c, c_sample.server_cpu * scale_c, 0
        )
    finally:
        box.stop()

    big: Sample | None = None
    if args.big:
        big_box = Sandbox(exe, tmp, args.big, env)
        try:
            big_ids = tmp / "ids-big.txt"
            big_count, _ = _ids_file(exe, big_box, env, big_ids)
            big_env = {**env, "MONCOMPTE_API_URL": big_box.url, "MONCOMPTE_TOKEN": big_box.token}
            big_cmd = [exe, "invoices", "list", "--status", "unpaid", "--customers-file"]
            big_cmd += [str(big_ids), "-o", "ndjson"]
            big = _median([_run(big_cmd, big_env, big_box.proc.pid) for _ in range(3)])
            print(f"sandbox of {big_count:,} customers ready in {big_box.ready_in:.1f} s")
        finally:
            big_box.stop()

    a = results["a"]
    print()
    print(
        f"| unpaid invoices of {count:,} customers | seconds | vs (a) | client CPU s "
        "| server CPU s | max RSS |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    labels = {
        "a": "(a) `moncompte invoices list --customers-file` (default concurrency 8)",
        "b": f"(b) shell loop of curl ({args.loop_sample} sampled, extrapolated)",
        "c": f"(c) `xargs -P 8 curl` ({args.xargs_sample} sampled, extrapolated)",
        "d": f"(d) httpx.AsyncClient + /v1/lookup (best: concurrency {best_c})",
        "d lean": "(d) without importing httpx's CLI (moncompte's httpx_lite trick)",
    }
    keys = ("a", "b", "c", "d", "d lean", "a --concurrency 2", "a --concurrency 4")
    for key in (*keys, "a --concurrency 16"):
        s = results[key]
        label = labels.get(key, f"(a) with `{key[2:]}`")
        rss = f"{s.max_rss_kb / 1024:.0f} MiB" if s.max_rss_kb else "-"
        print(
            f"| {label} | {_fmt(s.wall)} | {s.wall / a.wall:.2f}x | {s.client_cpu:.2f} "
            f"| {s.server_cpu:.2f} | {rss} |"
        )
    if big is not None:
        print(
            f"| (a) for {args.big:,} customers | {_fmt(big.wall)} | - | {big.client_cpu:.2f} "
            f"| {big.server_cpu:.2f} | {big.max_rss_kb / 1024:.0f} MiB |"
        )
    print()
    checks = [
        (f"(a) <= {TARGET_SECONDS:g} s", a.wall <= TARGET_SECONDS, f"{a.wall:.2f} s"),
        (
            f"(a) >= {TARGET_VS_XARGS:g}x faster than (c)",
            results["c"].wall / a.wall >= TARGET_VS_XARGS,
            f"{results['c'].wall / a.wall:.0f}x",
        ),
        (
            f"(a) within {TARGET_VS_DIRECT:g}x of (d)",
            a.wall <= TARGET_VS_DIRECT * results["d"].wall,
            f"{a.wall / results['d'].wall:.2f}x",
        ),
    ]
    if big is not None:
        growth = big.max_rss_kb / a.max_rss_kb
        checks.append(
            (
                f"peak memory at {args.big:,} within {TARGET_MEMORY_GROWTH:g}x of {count:,}",
                growth <= TARGET_MEMORY_GROWTH,
                f"{growth:.2f}x",
            )
        )
    failed = False
    for name, ok, value in checks:
        failed |= not ok
        print(f"{name}: {value} {'ok' if ok else 'MISSED'}")
    return 1 if failed else 0


# --- (d): the hand-written client ----------------------------------------------------------------


def direct(url: str, token: str, ids_path: str, concurrency: int, lean: bool = False) -> int:
    """Unpaid invoices over POST /v1/lookup with httpx.AsyncClient, as well as it can:
    batches of 100 (the maximum), `concurrency` requests in flight on one keep-alive pool,
    results written as JSON lines with the customer id, no retries, no checks.

    `lean` also skips the import of httpx's own command-line client (click, rich: ~40 ms),
    a trick moncompte uses (cli/httpx_lite.py) that a hand-written script would not."""
    import asyncio
    import json

    if lean:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    import httpx

    with open(ids_path) as fh:
        ids = [line.strip() for line in fh if line.strip() and line.strip() != "id"]
    batches = [ids[i : i + 100] for i in range(0, len(ids), 100)]
    out = sys.stdout

    async def main() -> None:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            base_url=url, headers=headers, limits=limits, timeout=60
        ) as client:
            gate = asyncio.Semaphore(concurrency)

            async def one(batch: list[str]) -> None:
                async with gate:
                    body = {
                        "customer_ids": batch,
                        "resource": "invoices",
                        "filters": {"status": "unpaid"},
                    }
                    r = await client.post(
                        "/lookup" if url.endswith("/v1") else "/v1/lookup", json=body
                    )
                lines = [
                    json.dumps({"customer_id": res["customer_id"], **inv}, ensure_ascii=False)
                    for res in r.json()["results"]
                    for inv in res["data"] or []
                ]
                if lines:
                    out.write("\n".join(lines) + "\n")

            await asyncio.gather(*(one(b) for b in batches))

    asyncio.run(main())
    out.flush()
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] in ("direct", "direct-lean"):
        url, token, ids, concurrency = sys.argv[2:6]
        return direct(url, token, ids, int(concurrency), lean=sys.argv[1] == "direct-lean")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=100_000, help="0 to skip")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loop-sample", type=int, default=500)
    parser.add_argument("--xargs-sample", type=int, default=1000)
    return bench(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
