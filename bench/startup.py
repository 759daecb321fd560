"""Start-up benchmark: whole-process wall time of moncompte commands, as ratios.

Every figure is the median of N runs divided by the median of `python -c pass` (the same
interpreter) measured in the same run of this script. The runs are interleaved, one of
each command per round, so that a noisy machine slows the baseline and the commands alike.

    python3 -m venv /tmp/mc-bench && /tmp/mc-bench/bin/pip install -q '.[sandbox]'
    /tmp/mc-bench/bin/python bench/startup.py              # N=21
    /tmp/mc-bench/bin/python bench/startup.py --runs 41 --explain

Measure a regular (non-editable) install, as users get from `pipx`/`uv tool install`: an
editable install adds a path finder (about 15 ms on this machine) to every start of that
interpreter, `python -c pass` included, which makes every ratio look better than it is.
The script says so when it sees one.

`whoami -o json` runs against a server already running in another process (`python -m
server serve`, started here), with the token in MONCOMPTE_TOKEN, like a CI smoke test.
`--explain` adds, per command, where its import time goes, by package (`python -X
importtime`, self time, best of 5 runs; the measurement itself inflates it somewhat).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
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
BASELINE = "python -c pass"


def _once(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run; a failure stops the benchmark."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def _measure(
    commands: dict[str, list[str]], env: dict[str, str], runs: int
) -> dict[str, tuple[list[float], list[float]]]:
    samples: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in commands}
    for cmd in commands.values():  # warm-up: byte-code caches, page cache
        _once(cmd, env)
    order = list(commands)
    for i in range(runs):
        for label in order if i % 2 == 0 else reversed(order):
            wall, cpu = _once(commands[label], env)
            samples[label][0].append(wall)
            samples[label][1].append(cpu)
    return samples


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited ({server.returncode}) before answering")
        try:
            urllib.request.urlopen(url + "/v1/status", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not answer at {url} within 30 s")


def serve_with_token(
    exe: str, db: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str, str]:
    """`python -m server serve` over `db` on a free port, once it answers, its URL, and a
    demo token for it (`moncompte sandbox token`): an API in another process, as in CI."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port), "--db", str(db)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, server)
        token = subprocess.run(
            [exe, "sandbox", "token", "--db", str(db)],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except BaseException:
        server.terminate()
        server.wait(timeout=10)
        raise
    return server, url, token


def _editable() -> bool:
    """True when `cli` is imported through an editable install's finder or a source tree."""
    site = Path(sys.executable).parent.parent / "lib"
    return any(site.glob("python*/site-packages/__editable__*moncompte*.pth"))


def _import_costs(cmd: list[str], env: dict[str, str], runs: int = 5) -> dict[str, int]:
    """Self import time (microseconds, best of `runs`) of each module `cmd` imports."""
    script = shutil.which(cmd[0]) or cmd[0]
    if Path(script).name.startswith("python"):
        argv = [script, "-X", "importtime", *cmd[1:]]
    else:  # a console script: run it under the interpreter to pass -X importtime
        argv = [sys.executable, "-X", "importtime", script, *cmd[1:]]
    best: dict[str, int] = {}
    for _ in range(runs):
        proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True)
        for line in proc.stderr.decode().splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
            if m:
                best[m.group(2)] = min(best.get(m.group(2), 1 << 60), int(m.group(1)))
    return best


def _explain(costs: dict[str, int], baseline: dict[str, int], top: int = 6) -> list[str]:
    """Import time by package (the standard library as one), beyond the interpreter's own."""
    groups: dict[str, int] = {}
    for name, micros in costs.items():
        if name in baseline:
            continue
        root = name.split(".")[0]
        stdlib = root in sys.stdlib_module_names or root.lstrip("_") in sys.stdlib_module_names
        group = "stdlib" if stdlib else root
        groups[group] = groups.get(group, 0) + micros
    total = sum(groups.values())
    ranked = sorted(groups.items(), key=lambda kv: -kv[1])
    shown = ", ".join(f"{name} {micros / 1000:.1f}" for name, micros in ranked[:top])
    return [f"    imports beyond the interpreter's: {total / 1000:.0f} ms ({shown} ms)"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each command (21)")
    parser.add_argument("--explain", action="store_true", help="add an import-time breakdown")
    args = parser.parse_args()
    exe = shutil.which("moncompte", path=str(Path(sys.executable).parent))
    if exe is None:
        raise SystemExit(f"moncompte is not installed beside {sys.executable}")
    tmp = Path(tempfile.mkdtemp(prefix="mc-bench-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MONCOMPTE_")},
        "MONCOMPTE_CONFIG_DIR": str(tmp / "config"),
        "XDG_DATA_HOME": str(tmp / "data"),
        "NO_COLOR": "1",
    }
    server, url, token = serve_with_token(exe, tmp / "bench.db", env)
    try:
        call_env = {**env, "MONCOMPTE_API_URL": url, "MONCOMPTE_TOKEN": token}
        commands = {BASELINE: [sys.executable, "-c", "pass"]}
        commands.update({label: [exe, *label.split()] for label in TARGETS})
        samples = _measure(commands, call_env, args.runs)

        print(
            f"python {platform.python_version()} ({sys.executable}), {os.cpu_count()} cores, "
            f"{platform.system()} {platform.machine()}, load average "
            f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}, {args.runs} runs each"
        )
        if _editable():
            print(
                "warning: this is an editable install: its import finder slows every start, "
                "the baseline included, so the ratios below are understated"
            )
        base_wall = statistics.median(samples[BASELINE][0])
        base_cpu = statistics.median(samples[BASELINE][1])
        print(f"{BASELINE}: {base_wall * 1000:.1f} ms wall, {base_cpu * 1000:.1f} ms CPU")
        failed = False
        baseline_imports = _import_costs(commands[BASELINE], call_env) if args.explain else {}
        for label, target in TARGETS.items():
            wall = statistics.median(samples[label][0])
            cpu = statistics.median(samples[label][1])
            ratio = wall / base_wall
            ok = ratio <= target
            failed |= not ok
            print(
                f"moncompte {label}: {wall * 1000:.1f} ms, {ratio:.1f}x "
                f"(target <= {target:g}x) {'ok' if ok else 'MISSED'}; "
                f"CPU {cpu * 1000:.1f} ms, {cpu / base_cpu:.1f}x"
            )
            if args.explain:
                costs = _import_costs(commands[label], call_env)
                print("\n".join(_explain(costs, baseline_imports)))
        return 1 if failed else 0
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
