"""The in-process server: start, stop, tokens, one-time codes, reset, TCP_NODELAY."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import embedded
from server.__main__ import main as server_main
from server.db import make_engine
from server.models import Contract, ServiceSetting, Token
from server.seed import AGENT_OTP_SECRET, DEMO_REFS
from server.totp import totp_now

from .conftest import TODAY

ROOT = Path(__file__).resolve().parents[2]


async def placeholder_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A minimal ASGI app, so these tests do not depend on the API routes."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b'{"ok": true}'
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sandbox.db'}"


def _seeded_on(url: str) -> str | None:
    engine = make_engine(url)
    with Session(engine) as session:
        row = session.get(ServiceSetting, "seeded_on")
        value = row.value if row else None
    engine.dispose()
    return value


def test_start_serve_and_stop(db_url: str) -> None:
    started = time.perf_counter()
    running = embedded.start_background(db_url, today=TODAY, app=placeholder_app)
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", running.url)
        assert running.database_url == db_url
        with urllib.request.urlopen(running.url + "/anything", timeout=5) as response:
            assert json.loads(response.read()) == {"ok": True}
    finally:
        stopping = time.perf_counter()
        running.stop()
    assert time.perf_counter() - stopping < 3
    assert not running._thread.is_alive()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", running.port), timeout=1).close()
    assert _seeded_on(db_url) == TODAY.isoformat()
    assert time.perf_counter() - started < 10


def test_a_seeded_database_is_not_seeded_again(db_url: str) -> None:
    embedded.start_background(db_url, today=TODAY, app=placeholder_app).stop()
    embedded.start_background(db_url, today=date(2027, 3, 1), app=placeholder_app).stop()
    assert _seeded_on(db_url) == TODAY.isoformat()


def test_mint_token(db_url: str) -> None:
    embedded.start_background(db_url, today=TODAY, app=placeholder_app).stop()
    token = embedded.mint_token(db_url, "demo")
    assert re.fullmatch(r"mc_at_[A-Za-z0-9_-]{32}", token)
    assert embedded.mint_token(db_url, "demo") != token
    engine = make_engine(db_url)
    with Session(engine) as session:
        digest = hashlib.sha256(token.encode()).hexdigest()
        row = session.scalars(select(Token).where(Token.access_hash == digest)).one()
        assert not row.revoked
        assert row.access_expires_at - row.created_at == timedelta(hours=12)
        assert row.refresh_expires_at - row.created_at == timedelta(days=30)
        assert abs(row.created_at - datetime.utcnow()) < timedelta(minutes=1)
    engine.dispose()
    with pytest.raises(LookupError):
        embedded.mint_token(db_url, "nobody")


def test_current_otp(db_url: str) -> None:
    embedded.start_background(db_url, today=TODAY, app=placeholder_app).stop()
    code = embedded.current_otp("agent", db_url)
    assert code in {totp_now(AGENT_OTP_SECRET, time.time() + d) for d in (-30, 0, 30)}
    with pytest.raises(LookupError):
        embedded.current_otp("demo", db_url)


def test_reset_redates_the_demo_data(db_url: str) -> None:
    embedded.start_background(db_url, today=TODAY, app=placeholder_app).stop()
    embedded.mint_token(db_url, "demo")
    later = date(2027, 3, 1)
    embedded.reset(db_url, today=later, customers=5)
    assert _seeded_on(db_url) == later.isoformat()
    engine = make_engine(db_url)
    with Session(engine) as session:
        terminated = session.get(Contract, DEMO_REFS["terminated_contract"])
        assert terminated is not None and terminated.terminated_on == later - timedelta(days=10)
        assert session.scalars(select(Token)).all() == []
    engine.dispose()


def test_default_database_is_in_the_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MONCOMPTE_SANDBOX_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    running = embedded.start_background(today=TODAY, app=placeholder_app)
    running.stop()
    assert (tmp_path / "data" / "moncompte" / "sandbox.db").is_file()


# --- TCP_NODELAY on accepted connections --------------------------------------------------


def _nodelay_of_open_connections(server: uvicorn.Server) -> list[int]:
    values = []
    for protocol in list(server.server_state.connections):
        sock = protocol.transport.get_extra_info("socket")
        values.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    return values


def _request_keep_alive(port: int) -> http.client.HTTPConnection:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    client.request("GET", "/")
    response = client.getresponse()
    assert response.status == 200
    response.read()
    return client  # left open: the server keeps the connection


def test_embedded_connections_have_tcp_nodelay(db_url: str) -> None:
    running = embedded.start_background(db_url, today=TODAY, app=placeholder_app)
    try:
        client = _request_keep_alive(running.port)
        values = _nodelay_of_open_connections(running.server)
        client.close()
    finally:
        running.stop()
    assert values and all(values)


def _plain_listener() -> socket.socket:
    """A listening socket made without the TCP protocol number and without TCP_NODELAY,
    as uvicorn's `--workers` socket was: what our protocol must cope with, whoever binds."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.set_inheritable(True)
    return sock


def test_our_protocol_sets_tcp_nodelay_on_a_plain_socket() -> None:
    """Our behaviour, not uvicorn's or asyncio's: on a socket that asks nothing, every
    accepted connection served by `NoDelayHTTPProtocol` has TCP_NODELAY set."""
    sock = _plain_listener()
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    config = embedded.uvicorn_config(placeholder_app, http=embedded.NoDelayHTTPProtocol)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        clients = [_request_keep_alive(sock.getsockname()[1]) for _ in range(3)]
        values = _nodelay_of_open_connections(server)
        for client in clients:
            client.close()
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()
    assert len(values) == 3
    assert all(values)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_multi_worker_keep_alive_is_not_slowed_by_nagle(tmp_path: Path) -> None:
    """Sequential keep-alive requests: about 40 ms each with Nagle + delayed ACK, a few ms
    without. 40 requests in under 0.8 s proves TCP_NODELAY is in effect in the workers."""
    pytest.importorskip("server.app")
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [
            sys.executable, "-m", "server", "serve", "--workers", "2", "--port", str(port),
            "--db", str(tmp_path / "w.db"), "--today", TODAY.isoformat(),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    _out, err = process.communicate(timeout=5)
                    pytest.fail(f"server did not start: {err.decode(errors='replace')[-2000:]}")
                time.sleep(0.1)
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        for _ in range(5):  # warm up both workers' first-request work
            client.request("GET", "/v1/status")
            client.getresponse().read()
        started = time.perf_counter()
        for _ in range(40):
            client.request("GET", "/v1/status")
            response = client.getresponse()
            response.read()
            assert response.status == 200
        elapsed = time.perf_counter() - started
        client.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert elapsed < 0.8, f"40 keep-alive requests took {elapsed:.2f} s"


# --- with the real application ---------------------------------------------------------


def test_real_app_status_and_invoices(db_url: str) -> None:
    pytest.importorskip("server.app")
    running = embedded.start_background(db_url, today=TODAY)
    try:
        with urllib.request.urlopen(running.url + "/v1/status", timeout=5) as response:
            status = json.loads(response.read())
        assert status["terms_version"] == "2026-09"
        assert status["support"]["phone"] == "09 70 247 247"
        token = embedded.mint_token(running.database_url, "demo")
        request = urllib.request.Request(
            running.url + "/v1/invoices?limit=500", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            invoices = json.loads(response.read())
        ids = {item["id"] for item in invoices["items"]}
        assert DEMO_REFS["unpaid_invoice"] in ids
    finally:
        running.stop()


# --- python -m server ------------------------------------------------------------------


def test_main_seed_token_otp_reset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "cli.db")
    today = ["--today", TODAY.isoformat()]
    assert server_main(["seed", "--customers", "25", "--db", db, *today]) == 0
    assert server_main(["seed", "--customers", "5", "--db", db, *today]) == 0
    assert server_main(["token", "demo", "--db", db]) == 0
    assert re.fullmatch(r"mc_at_\S{32}\n", capsys.readouterr().out)
    assert server_main(["otp", "agent", "--db", db]) == 0
    assert re.fullmatch(r"\d{6}\n", capsys.readouterr().out)
    assert server_main(["token", "nobody", "--db", db]) == 1
    assert server_main(["reset", "--db", db, "--today", "2027-03-01"]) == 0
    assert _seeded_on(f"sqlite:///{db}") == "2027-03-01"


def test_main_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        server_main(["seed", "--customers", "-1"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit):
        server_main(["serve", "--today", "24/11/2026"])
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_main_smoke_and_openapi(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("server.app")
    assert server_main(["smoke", "--today", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "smoke: OK" in out
    assert server_main(["openapi"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert "/v1/status" in document["paths"]
