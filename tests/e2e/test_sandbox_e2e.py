"""The installed binary on the default path (no API configured): the background sandbox.

Several first commands at once start exactly one server; later commands import nothing of
the server stack; the server outlives the command that started it, and `sandbox stop` ends
it. The autouse fixture of tests/conftest.py stops whatever is left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli.sandbox.background import State, pid_alive
from tests.e2e.test_core_e2e import BINARY, environ, ok, run

pytestmark = [
    pytest.mark.skipif(BINARY is None, reason="moncompte is not installed in this venv"),
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="counts processes in /proc"),
]


def _default_path(tmp_path: Path) -> dict[str, str]:
    return environ(tmp_path, MONCOMPTE_SANDBOX_DB=str(tmp_path / "sandbox.db"))


def _servers_for(state_dir: Path) -> list[int]:
    """Pids of the `python -m server background` processes writing under `state_dir`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"background" in cmdline and any(str(state_dir).encode() in a for a in cmdline):
            found.append(int(entry.name))
    return found


def _state(tmp_path: Path) -> State:
    files = list((tmp_path / "xdg-state" / "moncompte" / "sandbox").glob("*.json"))
    assert len(files) == 1, files
    state = State.read(files[0])
    assert state is not None
    return state


def test_commands_started_at_once_share_one_server(tmp_path: Path) -> None:
    env = _default_path(tmp_path)
    assert BINARY is not None
    commands = [
        subprocess.Popen(
            [BINARY, "invoices", "-o", "json"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    outputs = [process.communicate(timeout=90) for process in commands]
    assert [process.returncode for process in commands] == [0] * 4, [e for _, e in outputs]
    assert len({out for out, _ in outputs}) == 1  # the same invoices for all four
    state = _state(tmp_path)
    assert _servers_for(tmp_path / "xdg-state") == [state.pid]


def test_later_commands_import_nothing_of_the_server_stack(tmp_path: Path) -> None:
    env = _default_path(tmp_path)
    ok(run(["whoami"], env))  # starts it
    code = """
import sys
from cli.app import main
rc = main(["invoices", "-o", "json"])
heavy = {"server", "fastapi", "starlette", "sqlalchemy", "uvicorn", "pydantic", "filelock"}
loaded = sorted(heavy & {name.split(".")[0] for name in sys.modules})
sys.stderr.write(f"loaded: {loaded}\\n")
sys.exit(rc)
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)
    assert result.stderr.endswith("loaded: []\n"), result.stderr


def test_the_server_outlives_the_command_until_stopped(tmp_path: Path) -> None:
    env = _default_path(tmp_path)
    started = time.monotonic()
    ok(run(["contracts"], env))
    first_run = time.monotonic() - started
    pid = _state(tmp_path).pid
    assert pid_alive(pid)
    assert first_run < 60
    status = json.loads(ok(run(["sandbox", "status", "-o", "json"], env)))
    assert status["running"] is True and status["pid"] == pid
    stopped = run(["sandbox", "stop"], env)
    assert stopped.returncode == 0 and f"pid {pid}" in stopped.stderr
    deadline = time.monotonic() + 15
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid)
    assert not list((tmp_path / "xdg-state" / "moncompte" / "sandbox").glob("*.json"))


def test_a_sandbox_without_a_writable_state_dir_says_where(tmp_path: Path) -> None:
    blocked = tmp_path / "state-is-a-file"
    blocked.write_text("not a directory")
    env = {**_default_path(tmp_path), "XDG_STATE_HOME": str(blocked)}
    result = run(["invoices"], env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert str(blocked) in result.stderr
    assert os.path.isfile(blocked)
