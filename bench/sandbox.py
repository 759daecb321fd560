"""The default path (no API configured): commands against the built-in sandbox, as ratios.

Every figure is a median divided by the median of `python -c pass` (the same interpreter)
measured in the same run of this script, runs interleaved (bench/startup.py's method).

- warm: `invoices` and `invoices -o json` with the background sandbox already running,
  as every command after the first;
- first run: `invoices` on a fresh machine (no database, no server: seeding included),
  each sample in new XDG directories; and a cold start (the database exists, the server
  stopped, as after its idle stop);
- the same `invoices` against `sandbox serve` in another process (API URL and token in
  the environment), the speed of a real API on this machine;
- `MONCOMPTE_SANDBOX=inprocess invoices`, the old default (the server booted inside each
  command), fewer runs.

    python3 -m venv /tmp/mc-bench && /tmp/mc-bench/bin/pip install -q '.[sandbox]'
    /tmp/mc-bench/bin/python bench/sandbox.py --runs 21

Exits 1 when a target is missed. Measure a regular install (see bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from startup import BASELINE, _editable, _measure, _once, serve_with_token

WARM_TARGET = 10.0  # x python -c pass
# What any command that talks HTTP pays before our own code: Typer and an httpx client.
FLOOR = "floor: import typer.main + an httpx client"
FLOOR_CODE = (
    "import typer.main; from cli.httpx_lite import httpx; "
    "httpx.Client(transport=httpx.HTTPTransport(verify=False))"
)
FIRST_RUN_TARGET_S = 1.5


def _env(tmp: Path, name: str) -> dict[str, str]:
    home = tmp / name
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MONCOMPTE_", "XDG_"))},
        "MONCOMPTE_CONFIG_DIR": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "NO_COLOR": "1",
    }


def _stop(exe: str, env: dict[str, str]) -> None:
    subprocess.run([exe, "sandbox", "stop"], env=env, capture_output=True, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each warm command (21)")
    parser.add_argument("--cold-runs", type=int, default=7, help="first and cold runs (7)")
    parser.add_argument("--inprocess-runs", type=int, default=5, help="in-process runs (5)")
    args = parser.parse_args()
    exe = shutil.which("moncompte", path=str(Path(sys.executable).parent))
    if exe is None:
        raise SystemExit(f"moncompte is not installed beside {sys.executable}")
    tmp = Path(tempfile.mkdtemp(prefix="mc-bench-sandbox-"))
    warm_env = _env(tmp, "warm")
    serve_env = _env(tmp, "serve")
    server, url, token = serve_with_token(exe, tmp / "serve.db", serve_env)
    try:
        serve_env.update(MONCOMPTE_API_URL=url, MONCOMPTE_TOKEN=token)

        # First runs and cold starts: each sample its own machine, then its server stopped.
        first: list[float] = []
        cold: list[float] = []
        for i in range(args.cold_runs):
            env = _env(tmp, f"first-{i}")
            first.append(_once([exe, "invoices"], env)[0])
            _stop(exe, env)
            cold.append(_once([exe, "invoices"], env)[0])
            _stop(exe, env)

        _once([exe, "invoices"], warm_env)  # starts the background sandbox of the warm runs
        commands = {
            BASELINE: [sys.executable, "-c", "pass"],
            FLOOR: [sys.executable, "-c", FLOOR_CODE],
            "invoices (warm sandbox)": [exe, "invoices"],
            "invoices -o json (warm sandbox)": [exe, "invoices", "-o", "json"],
        }
        samples = _measure(commands, warm_env, args.runs)
        served = _measure({"invoices (sandbox serve)": [exe, "invoices"]}, serve_env, args.runs)
        inprocess_env = {**warm_env, "MONCOMPTE_SANDBOX": "inprocess"}
        inprocess = [_once([exe, "invoices"], inprocess_env)[0] for _ in range(args.inprocess_runs)]
        _stop(exe, warm_env)
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(
        f"python {platform.python_version()} ({sys.executable}), {os.cpu_count()} cores, "
        f"{platform.system()} {platform.machine()}, load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}, {args.runs} warm runs each"
    )
    if _editable():
        print("warning: an editable install: every ratio below is understated")
    base = statistics.median(samples[BASELINE][0])
    print(f"{BASELINE}: {base * 1000:.1f} ms")
    failed = False
    for label in ("invoices (warm sandbox)", "invoices -o json (warm sandbox)"):
        wall = statistics.median(samples[label][0])
        ok = wall / base <= WARM_TARGET
        failed |= not ok
        print(
            f"moncompte {label}: {wall * 1000:.1f} ms, {wall / base:.1f}x "
            f"(target <= {WARM_TARGET:g}x) {'ok' if ok else 'MISSED'}"
        )
    wall = statistics.median(samples[FLOOR][0])
    print(f"{FLOOR}: {wall * 1000:.1f} ms, {wall / base:.1f}x")
    wall = statistics.median(served["invoices (sandbox serve)"][0])
    print(f"moncompte invoices (sandbox serve, API URL + token): {wall * 1000:.1f} ms, "
          f"{wall / base:.1f}x")  # fmt: skip
    first_s = statistics.median(first)
    ok = first_s <= FIRST_RUN_TARGET_S
    failed |= not ok
    print(
        f"first run (seeding included): median {first_s:.2f} s, max {max(first):.2f} s "
        f"(target <= {FIRST_RUN_TARGET_S:g} s) {'ok' if ok else 'MISSED'}"
    )
    print(f"cold start (database seeded, no server): median {statistics.median(cold):.2f} s")
    wall = statistics.median(inprocess)
    print(f"MONCOMPTE_SANDBOX=inprocess invoices: {wall:.2f} s, {wall / base:.0f}x")
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
