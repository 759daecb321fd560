"""A small HTTP/1.1 fault proxy for the tests: it sits between the CLI and a real server.

    with FaultProxy(sandbox.url) as proxy:
        proxy.plan("PUT", "/v1/payment-method", [drop_after_request()])  # 1st PUT: answer lost
        run_cli(..., env_vars={"MONCOMPTE_API_URL": proxy.url})
        assert proxy.executed("PUT", "/v1/payment-method") == 1

It listens on 127.0.0.1 (an ephemeral port), in an asyncio loop of its own thread, keeps
the client's connection alive like a server, and forwards each request on a new upstream
connection. A plan gives, for the requests matching a method and a path (a string, or a
compiled regex matched in full), one action per matching request in order; requests past
the list (or matching no plan) pass, unless the plan says `repeat=True` (its last action
then applies to every later match too).

Actions (what the client sees / what the server saw):
- `pass_()`: forwarded, answered.
- `latency(s)`: waits `s` seconds, then forwards.
- `slow_response(s)`: forwards at once (the server acts), holds the answer `s` seconds
  or until the client gives up, then closes: the effect happened, the client timed out.
- `stall(s)`: forwards nothing and holds the connection until the client gives up (or
  `s` seconds): the server never saw it.
- `reset_before_request()`: TCP reset (RST) instead of forwarding: never seen.
- `reset_after_request()`: forwards, lets the server answer, then resets the client
  connection without a byte of the answer: done, answer lost.
- `drop_before_request()` / `drop_after_request()`: the same with an orderly close (FIN):
  the client reads "server disconnected without a response".
- `status(code, retry_after=None)`: the proxy answers itself (problem+json), never
  forwarding: the server never saw it (a gateway or a load balancer saying no).
- `truncate_response(n_bytes, in_body=False)`: forwards, then sends only the first
  `n_bytes` of the answer (counted from the start of the body with `in_body`) and closes.

The log (`proxy.log`) has one `Seen` per request: the action applied, whether the server
received it, the server's status and whether it was an idempotent replay
(`Idempotent-Replayed: true`). `received()` counts what reached the server, `executed()`
the requests the server carried out (2xx, not a replay): the number of effects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

UPSTREAM_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Action:
    kind: str
    seconds: float = 0.0
    code: int = 0
    retry_after: str | None = None
    n_bytes: int = 0
    in_body: bool = False

    @property
    def label(self) -> str:
        if self.kind == "status":
            return f"status {self.code}" + (
                f" Retry-After {self.retry_after}" if self.retry_after is not None else ""
            )
        if self.kind == "truncate":
            return f"truncate {'body' if self.in_body else 'head'} at {self.n_bytes}"
        if self.kind in ("latency", "slow_response", "stall"):
            return f"{self.kind} {self.seconds:g}s"
        return self.kind

    @property
    def forwards(self) -> bool:
        """Whether the request reaches the server under this action."""
        return self.kind in ("pass", "latency", "slow_response", "reset_after", "drop_after",
                             "truncate")  # fmt: skip


def pass_() -> Action:
    return Action("pass")


def latency(seconds: float) -> Action:
    return Action("latency", seconds=seconds)


def slow_response(seconds: float) -> Action:
    return Action("slow_response", seconds=seconds)


def stall(seconds: float) -> Action:
    return Action("stall", seconds=seconds)


def reset_before_request() -> Action:
    return Action("reset_before")


def reset_after_request() -> Action:
    return Action("reset_after")


def drop_before_request() -> Action:
    return Action("drop_before")


def drop_after_request() -> Action:
    return Action("drop_after")


def status(code: int, retry_after: str | int | None = None) -> Action:
    return Action(
        "status", code=code, retry_after=None if retry_after is None else str(retry_after)
    )


def truncate_response(n_bytes: int, *, in_body: bool = False) -> Action:
    return Action("truncate", n_bytes=n_bytes, in_body=in_body)


@dataclass
class Seen:
    """One request as the proxy handled it."""

    number: int
    method: str
    path: str
    action: str
    forwarded: bool
    at: float  # time.monotonic() when the request was read
    upstream_status: int | None = None
    replayed: bool = False
    idempotency_key: str | None = None

    @property
    def executed(self) -> bool:
        s = self.upstream_status
        return self.forwarded and s is not None and 200 <= s < 300 and not self.replayed


@dataclass
class _Plan:
    method: str
    path: str | re.Pattern[str]
    actions: list[Action]
    repeat: bool
    matched: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method != "*" and self.method != method:
            return False
        if isinstance(self.path, re.Pattern):
            return self.path.fullmatch(path) is not None
        return self.path == path

    def next_action(self) -> Action | None:
        index = self.matched
        self.matched += 1
        if index < len(self.actions):
            return self.actions[index]
        if self.repeat and self.actions:
            return self.actions[-1]
        return None


@dataclass
class _Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


@dataclass
class FaultProxy:
    upstream: str
    log: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        assert parts.scheme == "http" and parts.hostname, "an http:// upstream"
        self._up_host = parts.hostname
        self._up_port = parts.port or 80
        self._plans: list[_Plan] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            self._server = loop.run_until_complete(
                asyncio.start_server(self._client, "127.0.0.1", 0)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="faultproxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fault proxy did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        with contextlib.suppress(Exception):
            loop.close()
        self._loop = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the plan -------------------------------------------------------------------------

    def plan(
        self,
        method: str,
        path: str | re.Pattern[str],
        actions: Action | Iterable[Action],
        *,
        repeat: bool = False,
    ) -> None:
        """The actions for the next requests matching `method` ("*": any) and `path`."""
        listed = [actions] if isinstance(actions, Action) else list(actions)
        with self._lock:
            self._plans.append(_Plan(method.upper(), path, listed, repeat))

    def clear(self) -> None:
        """Forget every plan: everything passes from now on (the log is kept)."""
        with self._lock:
            self._plans.clear()

    def _action_for(self, method: str, path: str) -> Action:
        with self._lock:
            for plan in self._plans:
                if plan.matches(method, path):
                    action = plan.next_action()
                    return action if action is not None else pass_()
        return pass_()

    # -- what happened --------------------------------------------------------------------

    def requests(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [
                s
                for s in self.log
                if (method is None or s.method == method) and (path is None or s.path == path)
            ]

    def received(self, method: str | None = None, path: str | None = None) -> int:
        """How many of these requests reached the server."""
        return sum(1 for s in self.requests(method, path) if s.forwarded)

    def executed(self, method: str | None = None, path: str | None = None) -> int:
        """How many the server carried out: 2xx answers that were not idempotent replays."""
        return sum(1 for s in self.requests(method, path) if s.executed)

    # -- the connection loop --------------------------------------------------------------

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                if not await self._handle(request, reader, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        finally:
            self._writers.discard(writer)
            if not writer.transport.is_closing():
                writer.transport.close()

    async def _handle(
        self, request: _Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Apply the planned action; True when the client connection stays open."""
        action = self._action_for(request.method, request.path)
        seen = Seen(
            number=0,
            method=request.method,
            path=request.path,
            action=action.label,
            forwarded=action.forwards,
            at=time.monotonic(),
            idempotency_key=request.header("idempotency-key"),
        )
        with self._lock:
            seen.number = len(self.log) + 1
            self.log.append(seen)
        kind = action.kind
        if kind == "reset_before":
            _reset(writer)
            return False
        if kind == "drop_before":
            writer.close()
            return False
        if kind == "stall":
            await _hold(reader, action.seconds)
            _reset(writer)
            return False
        if kind == "status":
            writer.write(_problem(action.code, action.retry_after))
            await writer.drain()
            return True
        if kind == "latency":
            await asyncio.sleep(action.seconds)
        raw, code, replayed, head_len = await self._forward(request)
        seen.upstream_status, seen.replayed = code, replayed
        if kind == "reset_after":
            _reset(writer)
            return False
        if kind == "drop_after":
            writer.close()
            return False
        if kind == "slow_response":
            await _hold(reader, action.seconds)
            _reset(writer)
            return False
        if kind == "truncate":
            cut = head_len + action.n_bytes if action.in_body else action.n_bytes
            writer.write(raw[: max(0, min(cut, len(raw) - 1))])
            await writer.drain()
            writer.close()
            return False
        writer.write(raw)
        await writer.drain()
        return True

    async def _forward(self, request: _Request) -> tuple[bytes, int, bool, int]:
        """Send the request upstream on a connection of its own; the whole answer back."""
        up_reader, up_writer = await asyncio.open_connection(self._up_host, self._up_port)
        try:
            lines = [f"{request.method} {request.target} HTTP/1.1"]
            for key, value in request.headers:
                if key.lower() in ("connection", "keep-alive", "transfer-encoding",
                                   "content-length"):  # fmt: skip
                    continue
                lines.append(f"{key}: {value}")
            if request.body or request.method in ("POST", "PUT", "PATCH"):
                lines.append(f"Content-Length: {len(request.body)}")
            lines.append("Connection: close")
            up_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body)
            await up_writer.drain()
            raw = await asyncio.wait_for(up_reader.read(), UPSTREAM_TIMEOUT_S)
        finally:
            up_writer.close()
        head, sep, body = raw.partition(b"\r\n\r\n")
        head_lines = head.split(b"\r\n")
        code = int(head_lines[0].split()[1]) if head_lines and len(head_lines[0].split()) > 1 else 0
        kept = [head_lines[0]]
        replayed = False
        for line in head_lines[1:]:
            name, _, value = line.partition(b":")
            lname = name.strip().lower()
            if lname == b"connection":
                continue  # the client's connection stays alive, whatever the upstream's did
            if lname == b"idempotent-replayed" and value.strip().lower() == b"true":
                replayed = True
            kept.append(line)
        new_head = b"\r\n".join(kept) + b"\r\n\r\n"
        return new_head + body, code, replayed, len(new_head)


# --- helpers ---------------------------------------------------------------------------------


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head[:-4].decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers.append((key.strip(), value.strip()))
    request = _Request(method.upper(), target, version, headers, b"")
    length = request.header("content-length")
    if length is not None:
        request.body = await reader.readexactly(int(length))
    elif (request.header("transfer-encoding") or "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        request.body = b"".join(chunks)
    return request


async def _hold(reader: asyncio.StreamReader, seconds: float) -> None:
    """Wait until the client closes its end (it gave up) or `seconds` pass."""
    with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
        while await asyncio.wait_for(reader.read(65536), seconds):
            pass


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0): the client reads ECONNRESET."""
    sock: Any = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


_REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}  # fmt: skip


def _problem(code: int, retry_after: str | None) -> bytes:
    reason = _REASONS.get(code, "Error")
    body = json.dumps(
        {
            "type": "about:blank",
            "title": reason,
            "status": code,
            "detail": "injected by the fault proxy",
        }  # fmt: skip
    ).encode()
    headers = [
        f"HTTP/1.1 {code} {reason}",
        "content-type: application/problem+json",
        f"content-length: {len(body)}",
    ]
    if retry_after is not None:
        headers.append(f"retry-after: {retry_after}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode("latin-1") + body
