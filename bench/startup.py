"""Start-up benchmark: whole-process wall time of moncompte commands, as ratios.

Every figure is the median of N runs divided by the median of `python -c pass` measured in
the same run of this script, so that a noisy machine moves both alike.

    .venv/bin/python bench/startup.py            # N=15
    .venv/bin/python bench/startup.py --runs 30

`whoami -o json` runs against a sandbox server started by this script in another process
(`python -m server serve`), with the token in MONCOMPTE_TOKEN, like a CI smoke test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TARGETS = {"--version": 3.0, "--help": 8.0, "whoami -o json": 20.0}


def _time(cmd: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        samples.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-500:]}")
    return statistics.median(samples)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    exe = shutil.which("moncompte", path=str(Path(sys.executable).parent)) or "moncompte"
    tmp = Path(tempfile.mkdtemp(prefix="mc-bench-"))
    env = {**os.environ, "MONCOMPTE_CONFIG_DIR": str(tmp / "config"), "NO_COLOR": "1"}
    port = _free_port()
    db = tmp / "bench.db"
    server = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port), "--db", str(db)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/v1/status", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        token = subprocess.run(
            [exe, "sandbox", "token", "--db", str(db)], env=env, capture_output=True, text=True,
            check=True,
        ).stdout.strip()
        call_env = {**env, "MONCOMPTE_API_URL": url, "MONCOMPTE_TOKEN": token}
        base = _time([sys.executable, "-c", "pass"], env, args.runs)
        print(f"python -c pass: {base * 1000:.0f} ms (baseline)")
        failed = False
        for label, target in TARGETS.items():
            cmd = [exe, *label.split()]
            median = _time(cmd, call_env, args.runs)
            ratio = median / base
            ok = ratio <= target
            failed |= not ok
            print(f"moncompte {label}: {median * 1000:.0f} ms, {ratio:.1f}x (target <= {target:g}x)"
                  f" {'ok' if ok else 'MISSED'}")
        return 1 if failed else 0
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
