"""The API client against a small, deliberately faulty local HTTP server."""

from __future__ import annotations

import email.utils
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cli.credentials import MemoryStore, Tokens
from cli.errors import AuthError, NetworkError, NotFoundError, RuleError, UsageError
from cli.http import ApiClient, check_base_url, retry_after_seconds

ACCESS = "access-token-0123456789"
REFRESH = "refresh-token-9876543210"
NEW_ACCESS = "access-token-renewed-555"

Action = tuple[int, dict[str, str], Any] | str  # (status, headers, json body) or "reset"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Faulty:
    url: str
    scripts: dict[tuple[str, str], list[Action]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def script(self, method: str, path: str, *actions: Action) -> None:
        self.scripts[(method, path)] = list(actions)

    def hits(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path.split("?")[0] == path]


def problem(status: int, code: str, **extra: str) -> tuple[int, dict[str, str], Any]:
    return (
        status,
        {"Content-Type": "application/problem+json"},
        {"type": "about:blank", "title": code, "status": status, "code": code, **extra},
    )


@pytest.fixture()
def faulty() -> Iterator[Faulty]:
    state = Faulty(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.seen.append(Seen(self.command, self.path, dict(self.headers), body))
            actions = state.scripts.get((self.command, self.path.split("?")[0]))
            if not actions:
                action: Action = problem(404, "not_found", detail="no such path")
            else:
                action = actions.pop(0) if len(actions) > 1 else actions[0]
            if action == "reset":  # close without answering: a connection error
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            assert not isinstance(action, str)
            status, headers, payload = action
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            headers = {"Content-Type": "application/json", **headers}
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def client(
    faulty: Faulty,
    *,
    tokens: Tokens | None = None,
    sleeps: list[float] | None = None,
    log: Callable[[str], None] | None = None,
    **kw: Any,
) -> ApiClient:
    store = MemoryStore({"default": tokens or Tokens(access_token=ACCESS)})
    return ApiClient(
        faulty.url,
        store=store,
        sleep=(sleeps.append if sleeps is not None else lambda _: None),
        log=log,
        timeout=2.0,
        **kw,
    )


OK: Action = (200, {}, {"ok": True})


def test_sends_bearer_user_agent_and_parses_json(faulty: Faulty) -> None:
    faulty.script("GET", "/v1/me", (200, {}, {"username": "demo"}))
    assert client(faulty).get("/v1/me") == {"username": "demo"}
    seen = faulty.hits("/v1/me")[0]
    assert seen.headers["Authorization"] == f"Bearer {ACCESS}"
    assert seen.headers["User-Agent"].startswith("moncompte/")
    assert " python/3." in seen.headers["User-Agent"]


def test_503_with_retry_after_then_200(faulty: Faulty) -> None:
    faulty.script("GET", "/v1/invoices", (503, {"Retry-After": "1"}, None), OK)
    sleeps: list[float] = []
    assert client(faulty, sleeps=sleeps).get("/v1/invoices") == {"ok": True}
    assert sleeps == [1.0]
    assert len(faulty.hits("/v1/invoices")) == 2


def test_retry_after_http_date(faulty: Faulty) -> None:
    when = email.utils.formatdate(time.time() + 4, usegmt=True)
    faulty.script("GET", "/v1/x", (429, {"Retry-After": when}, None), OK)
    sleeps: list[float] = []
    client(faulty, sleeps=sleeps).get("/v1/x")
    assert len(sleeps) == 1 and 2.0 <= sleeps[0] <= 4.0


def test_retry_after_beyond_the_cap_is_not_waited_for(faulty: Faulty) -> None:
    faulty.script(
        "GET",
        "/v1/x",
        (503, {"Retry-After": "3600"}, {"code": "unavailable", "detail": "maintenance"}),
    )
    sleeps: list[float] = []
    with pytest.raises(NetworkError) as info:
        client(faulty, sleeps=sleeps).get("/v1/x")
    assert sleeps == [] and len(faulty.hits("/v1/x")) == 1
    assert "maintenance" in info.value.message and info.value.exit_code == 6
    assert info.value.hint == "try again in 3600 s"


def test_gives_up_after_three_retries_with_jittered_backoff(faulty: Faulty) -> None:
    faulty.script("GET", "/v1/x", (502, {}, None))
    sleeps: list[float] = []
    random.seed(7)
    with pytest.raises(NetworkError, match=r"server error \(502\)"):
        client(faulty, sleeps=sleeps).get("/v1/x")
    assert len(faulty.hits("/v1/x")) == 4
    assert len(sleeps) == 3
    for attempt, delay in enumerate(sleeps, start=1):
        assert 0 <= delay <= min(5.0, 0.2 * 2 ** (attempt - 1))


def test_backoff_is_capped(faulty: Faulty) -> None:
    c = client(faulty, backoff_base=1.0, backoff_cap=2.0)
    assert all(c._backoff(10) <= 2.0 for _ in range(100))


def test_connection_reset_on_get_is_retried(faulty: Faulty) -> None:
    faulty.script("GET", "/v1/x", "reset", "reset", OK)
    sleeps: list[float] = []
    assert client(faulty, sleeps=sleeps).get("/v1/x") == {"ok": True}
    assert len(sleeps) == 2


def test_connection_refused_is_a_network_error_within_the_retry_budget() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = ApiClient(
        f"http://127.0.0.1:{port}", store=MemoryStore({"default": Tokens(ACCESS)}), timeout=0.5
    )
    started = time.monotonic()
    with pytest.raises(NetworkError, match=f"cannot connect to 127.0.0.1:{port}") as info:
        c.get("/v1/me")
    assert info.value.exit_code == 6
    assert time.monotonic() - started < 0.5 + 1.4 + 1.0  # timeout + max backoff + slack


def test_post_carries_an_idempotency_key_kept_across_retries(faulty: Faulty) -> None:
    faulty.script(
        "POST", "/v1/claims", "reset", (503, {"Retry-After": "0"}, None), (201, {}, {"id": "C1"})
    )
    assert client(faulty).post("/v1/claims", {"subject": "x"}) == {"id": "C1"}
    keys = {s.headers["Idempotency-Key"] for s in faulty.hits("/v1/claims")}
    assert len(faulty.hits("/v1/claims")) == 3 and len(keys) == 1


def test_post_uses_the_callers_key(faulty: Faulty) -> None:
    faulty.script("POST", "/v1/claims", (201, {}, {"id": "C1"}))
    client(faulty).post("/v1/claims", {}, idempotency_key="draft-key-1")
    assert faulty.hits("/v1/claims")[0].headers["Idempotency-Key"] == "draft-key-1"


@pytest.mark.parametrize("status", [500, 502, 504])
def test_post_is_not_retried_on_other_server_errors(faulty: Faulty, status: int) -> None:
    faulty.script("POST", "/v1/claims", (status, {}, None), (201, {}, {"id": "C1"}))
    with pytest.raises(NetworkError):
        client(faulty).post("/v1/claims", {})
    assert len(faulty.hits("/v1/claims")) == 1


def test_expired_token_is_refreshed_once_and_saved(faulty: Faulty) -> None:
    faulty.script("GET", "/v1/me", problem(401, "token_expired"), (200, {}, {"username": "d"}))
    faulty.script(
        "POST",
        "/v1/auth/token",
        (
            200,
            {},
            {
                "access_token": NEW_ACCESS,
                "refresh_token": REFRESH + "2",
                "token_type": "bearer",
                "expires_in": 900,
                "scope": "customer",
            },
        ),
    )
    tokens = Tokens(access_token=ACCESS, refresh_token=REFRESH, api_url=faulty.url)
    logs: list[str] = []
    c = client(faulty, tokens=tokens, log=logs.append)
    assert c.get("/v1/me") == {"username": "d"}
    auths = [s.headers["Authorization"] for s in faulty.hits("/v1/me")]
    assert auths == [f"Bearer {ACCESS}", f"Bearer {NEW_ACCESS}"]
    refresh_body = json.loads(faulty.hits("/v1/auth/token")[0].body)
    assert refresh_body == {"grant_type": "refresh_token", "refresh_token": REFRESH}
    assert "Authorization" not in faulty.hits("/v1/auth/token")[0].headers
    assert c.store is not None
    saved = c.store.get("default")
    assert saved is not None and saved.access_token == NEW_ACCESS and saved.expires_at
    log = "\n".join(logs)
    assert "renewed" in log
    for secret in (ACCESS, REFRESH, NEW_ACCESS):
        assert secret not in log


def test_revoked_token_is_not_refreshed(faulty: Faulty) -> None:
    faulty.script("GET", "/v1/me", problem(401, "token_revoked", detail="revoked"))
    tokens = Tokens(access_token=ACCESS, refresh_token=REFRESH)
    with pytest.raises(AuthError, match="revoked") as info:
        client(faulty, tokens=tokens).get("/v1/me")
    assert info.value.exit_code == 3
    assert faulty.hits("/v1/auth/token") == []


def test_failed_refresh_is_an_auth_error(faulty: Faulty) -> None:
    faulty.script("GET", "/v1/me", problem(401, "token_expired"))
    faulty.script("POST", "/v1/auth/token", problem(401, "token_expired", detail="too old"))
    tokens = Tokens(access_token=ACCESS, refresh_token=REFRESH)
    with pytest.raises(AuthError, match="could not be renewed"):
        client(faulty, tokens=tokens).get("/v1/me")
    assert len(faulty.hits("/v1/me")) == 1


def test_token_for_another_server_is_never_sent(faulty: Faulty) -> None:
    tokens = Tokens(access_token=ACCESS, api_url="https://elsewhere.example")
    with pytest.raises(AuthError, match="elsewhere.example"):
        client(faulty, tokens=tokens).get("/v1/me")
    assert faulty.seen == []


def test_not_logged_in(faulty: Faulty) -> None:
    c = ApiClient(faulty.url, store=MemoryStore())
    with pytest.raises(AuthError, match="not logged in"):
        c.get("/v1/me")


@pytest.mark.parametrize(
    ("action", "cls"),
    [
        (problem(404, "not_found", detail="no invoice NOPE"), NotFoundError),
        (problem(409, "merchant_first", rule="claims.merchant_first", detail="x"), RuleError),
        (problem(422, "validation_error", detail="bad"), UsageError),
    ],
)
def test_problems_become_typed_errors(faulty: Faulty, action: Action, cls: type) -> None:
    faulty.script("POST", "/v1/claims", action)
    with pytest.raises(cls) as info:
        client(faulty).post("/v1/claims", {})
    assert isinstance(action, tuple)
    assert info.value.status == action[0]  # type: ignore[attr-defined]
    assert info.value.code == action[2]["code"]  # type: ignore[attr-defined]


def test_paginate_follows_cursors_lazily(faulty: Faulty) -> None:
    pages = {
        None: {"items": [{"n": 1}, {"n": 2}], "next_cursor": "c2"},
        "c2": {"items": [{"n": 3}], "next_cursor": None},
    }
    faulty.script("GET", "/v1/invoices", (200, {}, pages[None]), (200, {}, pages["c2"]))
    items = client(faulty).paginate("/v1/invoices", {"status": "all"}, limit=2)
    assert next(items) == {"n": 1}
    assert len(faulty.hits("/v1/invoices")) == 1  # the second page is not fetched yet
    assert [i["n"] for i in items] == [2, 3]
    paths = [s.path for s in faulty.hits("/v1/invoices")]
    assert paths == ["/v1/invoices?status=all&limit=2", "/v1/invoices?status=all&limit=2&cursor=c2"]


def test_debug_log_has_method_url_status_and_no_secrets(faulty: Faulty) -> None:
    faulty.script("POST", "/v1/auth/token", (200, {}, {"access_token": NEW_ACCESS}))
    faulty.script("GET", "/v1/me", (503, {"Retry-After": "0"}, None), OK)
    logs: list[str] = []
    c = client(faulty, log=logs.append)
    c.post(
        "/v1/auth/token",
        {"grant_type": "password", "username": "demo", "password": "pa55word-xyz"},
        auth=False,
    )
    c.get("/v1/me")
    log = "\n".join(logs)
    assert f"> GET {faulty.url}/v1/me" in log and "< 503 GET /v1/me" in log
    assert "retry 1/3" in log and "< 200 GET /v1/me" in log
    for secret in (ACCESS, NEW_ACCESS, "pa55word-xyz", "Authorization"):
        assert secret not in log


@pytest.mark.parametrize(
    "url",
    [
        "https://api.example",
        "http://127.0.0.1:8765",
        "http://127.9.9.9",
        "http://[::1]:80",
        "http://localhost:1",
    ],
)
def test_https_or_loopback_only(url: str) -> None:
    assert check_base_url(url + "/") == url


@pytest.mark.parametrize("url", ["http://api.example", "http://10.0.0.1", "ftp://x", "nope"])
def test_plain_http_elsewhere_is_refused(url: str) -> None:
    with pytest.raises(UsageError) as info:
        check_base_url(url)
    assert info.value.exit_code == 2


def test_absolute_urls_are_refused_as_paths(faulty: Faulty) -> None:
    with pytest.raises(UsageError, match="not a URL"):
        client(faulty).get("https://evil.example/v1/me")
    assert faulty.seen == []


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("7", 0) == 7.0
    assert retry_after_seconds("garbage", 0) is None
    assert retry_after_seconds(None, 0) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480.0) == 0.0
