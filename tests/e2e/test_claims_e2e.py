"""The installed `moncompte` binary, in a subprocess, against a real sandbox server.

No terminal: stdin is /dev/null and the output a pipe, as in CI.
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
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TODAY

BINARY = shutil.which("moncompte", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(BINARY is None, reason="moncompte is not installed in this venv")


def _environ(url: str, token: str, tmp_path: Path) -> dict[str, str]:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("MONCOMPTE_", "LC_", "LANG"))
    }
    environ.update(
        MONCOMPTE_API_URL=url,
        MONCOMPTE_TOKEN=token,
        MONCOMPTE_TODAY=TODAY.isoformat(),
        MONCOMPTE_CONFIG_DIR=str(tmp_path / "config"),
        LANG="C.UTF-8",
    )
    return environ  # XDG_* come from the autouse fixture: drafts stay in tmp_path


def _run(args: list[str], environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert BINARY is not None
    return subprocess.run(
        [BINARY, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
    )


def test_terminate_quote_table_and_json(sandbox: Any, tmp_path: Path) -> None:
    environ = _environ(sandbox.url, sandbox.customer_token, tmp_path)
    table = _run(["terminate", "CT-0000001", "--quote", "--on", "2027-06-01"], environ)
    assert table.returncode == 0, table.stderr
    assert "7 month(s) left × €29.99 × 25 % = €52.48" in table.stdout
    assert "Total:" in table.stdout and "€101.48" in table.stdout
    assert "\x1b[" not in table.stdout  # piped: no colour
    raw = _run(["terminate", "CT-0000001", "--quote", "--on", "2027-06-01", "-o", "json"], environ)
    assert raw.returncode == 0, raw.stderr
    quote = json.loads(raw.stdout)
    assert (quote["months_remaining_year2"], quote["year2_cents"]) == (7, 5248)
    assert quote["total_cents"] == 10148
    refused = _run(["terminate", "CT-0000001"], environ)  # no terminal, no --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr


def test_claim_list_table_and_json(sandbox: Any, tmp_path: Path) -> None:
    environ = _environ(sandbox.url, sandbox.customer_token, tmp_path)
    table = _run(["claim", "list"], environ)
    assert table.returncode == 0, table.stderr
    assert "CL-0000001" in table.stdout and "CL-0000002" in table.stdout
    raw = _run(["claim", "list", "-o", "json"], environ)
    assert raw.returncode == 0, raw.stderr
    assert {c["id"] for c in json.loads(raw.stdout)} >= {"CL-0000001", "CL-0000002"}


@pytest.fixture()
def hanging_url() -> Iterator[tuple[str, threading.Event]]:
    """A server that reads a request and never answers; the event fires once one arrived."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    arrived = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            conn.recv(65536)
            arrived.set()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", arrived
    listener.close()
    for conn in held:
        conn.close()


def test_ctrl_c_while_sending_exits_130_and_keeps_a_whole_draft(
    fresh_sandbox: Any, tmp_path: Path, hanging_url: tuple[str, threading.Event]
) -> None:
    url, arrived = hanging_url
    environ = _environ(url, fresh_sandbox.customer_token, tmp_path)
    assert BINARY is not None
    process = subprocess.Popen(
        [BINARY, "claim", "new", "-c", "billing", "-s", "Interrupted", "-m", "Ctrl-C"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    try:
        assert arrived.wait(30), "the request never reached the server"
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "interrupted" in err

    folder = Path(os.environ["XDG_DATA_HOME"]) / "moncompte" / "drafts"
    files = sorted(folder.iterdir())
    assert [p.name for p in files if p.name.startswith(".")] == []  # nothing half-written
    [path] = files
    draft = json.loads(path.read_text())  # whole, valid JSON
    assert draft["claim"]["subject"] == "Interrupted" and draft["claim_key"]
    assert draft["maybe_delivered"] is True and draft["last_error"] == "interrupted"

    # It may have reached the server; sent later with its key, it is filed exactly once.
    good = _environ(fresh_sandbox.url, fresh_sandbox.customer_token, tmp_path)
    before = json.loads(_run(["claim", "list", "-o", "json"], good).stdout)
    sent = _run(["claim", "send", "--all"], good)
    assert sent.returncode == 0, sent.stderr
    after = json.loads(_run(["claim", "list", "-o", "json"], good).stdout)
    assert len(after) == len(before) + 1
    assert list(folder.iterdir()) == []
