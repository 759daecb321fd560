"""`Idempotency-Key` on every mutation: the first answer is kept and replayed.

A client that lost the answer to a POST (a timeout, a dropped connection) retries with
the same key and gets the same answer, with `Idempotent-Replayed: true`, instead of a
second effect (two claims filed, two IBAN changes). Records are per caller (user id) and
key, with a hash of method + path + body so that a key reused for another request is
refused (422 `idempotency_conflict`) rather than answered with an unrelated response.

Race safety: the key is claimed *before* the route runs, by inserting a placeholder row
in its own committed transaction; the unique constraint on (user_id, key) lets exactly one
request win. A concurrent request with the same key waits for the winner's answer and
replays it. This is an ASGI middleware rather than a dependency so that it sees the raw
body and the final response (status, headers, body) whichever route answers.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Header
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.auth import lookup_access_token
from server.models import IdempotencyRecord
from server.problems import overload_response, problem_response
from server.routes.deps import READ_ONLY_POSTS

log = logging.getLogger("server.idempotency")

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
# A record is kept this long; after that the key may be used again for a new request.
RETENTION = timedelta(hours=24)
# A placeholder older than this belongs to a request that died (a crashed worker): the
# key is taken over rather than blocked forever.
ABANDONED_AFTER = timedelta(minutes=2)
# How long a concurrent request with the same key waits for the first one's answer.
WAIT_FOR_FIRST_S = 15.0
_POLL_S = 0.05
IN_PROGRESS = 0  # status_code of a placeholder

_MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _stored(status: int) -> bool:
    """Which first answers are kept for replay.

    Successes and refusals that depend on the data (404, 409 rule refusals) are the
    "first answer". Answers that say the request itself was unusable (401, 413, 422
    malformed or invalid, 429 rate limited) or that the server failed (5xx) are not kept,
    so the client can fix the request or retry with the same key.
    """
    return status < 400 or status in (403, 404, 409, 410)


async def idempotency_key_header(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=MAX_KEY_LENGTH,
            description="Any unique string (≤ 255 characters); a retry with the same key "
            "replays the first answer instead of acting twice.",
        ),
    ] = None,
) -> None:
    """Declares the header in the OpenAPI document; the middleware does the work."""


IdempotencyKey = Depends(idempotency_key_header)


@dataclass(frozen=True)
class _Outcome:
    kind: str  # "new" | "replay" | "conflict" | "in_progress"
    record_id: int | None = None
    status: int = 0
    body: bytes = b""
    content_type: str = ""


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        session_factory: Callable[[], sessionmaker[Session]],
        now: Callable[[], datetime],
    ) -> None:
        self.app = app
        # A callable, because the app's session factory is set after middleware is built.
        self._factory = session_factory
        self._now = now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in _MUTATIONS
            or scope.get("path") in READ_ONLY_POSTS
        ):
            # A read-only POST (the bulk lookup) has no effect to repeat: storing its
            # answer cost two write transactions and up to ~100 kB per call for nothing.
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        raw_key = headers.get(HEADER)
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            await problem_response(
                422,
                "validation_error",
                f"header.Idempotency-Key: must be 1 to {MAX_KEY_LENGTH} characters",
            )(scope, receive, send)
            return
        token = _bearer_token(headers.get("authorization"))
        if token is None:
            await self.app(scope, receive, send)
            return

        body = await _read_body(receive)
        try:
            user_id = await anyio.to_thread.run_sync(self._user_for, token)
            if user_id is None:  # the route answers 401 itself
                await self.app(scope, _replaying(body), send)
                return
            fingerprint = _fingerprint(scope, body)
            outcome = await self._claim_or_wait(user_id, key, scope, fingerprint)
        except (PoolTimeoutError, OperationalError):
            log.warning("idempotency store unavailable: answering 503")
            await overload_response()(scope, receive, send)
            return

        if outcome.kind == "replay":
            await _send_replay(outcome, send)
            return
        if outcome.kind == "conflict":
            await problem_response(
                422,
                "idempotency_conflict",
                "this Idempotency-Key was already used for a different request; use a new "
                "key for a new request",
            )(scope, receive, send)
            return
        if outcome.kind == "in_progress":
            await problem_response(
                409,
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still being processed; retry later",
                headers={"Retry-After": "2"},
            )(scope, receive, send)
            return

        assert outcome.record_id is not None
        await self._run_and_store(outcome.record_id, scope, _replaying(body), send)

    # --- steps ---------------------------------------------------------------------------

    def _user_for(self, token: str) -> int | None:
        with self._factory()() as session:
            found = lookup_access_token(session, token, self._now())
            return None if not isinstance(found, tuple) else found[1].id

    async def _claim_or_wait(
        self, user_id: int, key: str, scope: Scope, fingerprint: str
    ) -> _Outcome:
        method = scope["method"]
        path = _path_with_query(scope)
        waited = 0.0
        while True:
            outcome = await anyio.to_thread.run_sync(
                self._claim, user_id, key, method, path, fingerprint
            )
            if outcome.kind != "in_progress" or waited >= WAIT_FOR_FIRST_S:
                return outcome
            await asyncio.sleep(_POLL_S)
            waited += _POLL_S

    def _claim(self, user_id: int, key: str, method: str, path: str, fingerprint: str) -> _Outcome:
        now = self._now()
        with self._factory()() as session:
            for _attempt in range(3):
                record = session.scalars(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
                    )
                ).first()
                if record is not None and (
                    record.created_at + RETENTION <= now
                    or (
                        record.status_code == IN_PROGRESS
                        and record.created_at + ABANDONED_AFTER <= now
                    )
                ):
                    session.delete(record)
                    session.commit()
                    record = None
                if record is None:
                    placeholder = IdempotencyRecord(
                        user_id=user_id,
                        key=key,
                        method=method,
                        path=path[:500],
                        request_hash=fingerprint,
                        status_code=IN_PROGRESS,
                        response_body="",
                        content_type="",
                        created_at=now,
                    )
                    session.add(placeholder)
                    try:
                        session.commit()
                    except IntegrityError:
                        # Another request claimed the key between our read and insert.
                        session.rollback()
                        continue
                    return _Outcome("new", record_id=placeholder.id)
                if record.request_hash != fingerprint:
                    return _Outcome("conflict")
                if record.status_code == IN_PROGRESS:
                    return _Outcome("in_progress")
                return _Outcome(
                    "replay",
                    status=record.status_code,
                    body=record.response_body.encode("utf-8"),
                    content_type=record.content_type,
                )
            return _Outcome("in_progress")

    async def _run_and_store(
        self, record_id: int, scope: Scope, receive: Receive, send: Send
    ) -> None:
        # The answer is buffered, stored, then sent: once the client has an answer, a
        # retry with the same key finds it.
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await anyio.to_thread.run_sync(self._release, record_id)
            raise
        if start is None:
            await anyio.to_thread.run_sync(self._release, record_id)
            return
        status = int(start["status"])
        body = b"".join(chunks)
        content_type = _header(start, b"content-type") or "application/json"
        try:
            if _stored(status):
                await anyio.to_thread.run_sync(self._store, record_id, status, body, content_type)
            else:
                await anyio.to_thread.run_sync(self._release, record_id)
        except Exception:  # the answer still goes out; only its replay is lost
            log.exception("could not store the idempotent answer")
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def _store(self, record_id: int, status: int, body: bytes, content_type: str) -> None:
        with self._factory()() as session:
            record = session.get(IdempotencyRecord, record_id)
            if record is None:
                return
            record.status_code = status
            record.response_body = body.decode("utf-8", "replace")
            record.content_type = content_type[:100]
            session.commit()

    def _release(self, record_id: int) -> None:
        """Forget a claimed key whose request failed, so that a retry runs again."""
        with self._factory()() as session:
            session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
            session.commit()


# --- helpers ---------------------------------------------------------------------------


def _bearer_token(value: bytes | None) -> str | None:
    if not value:
        return None
    text = value.decode("latin-1").strip()
    scheme, _, token = text.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _path_with_query(scope: Scope) -> str:
    path: str = scope.get("path", "")
    query: bytes = scope.get("query_string", b"")
    return path + ("?" + query.decode("latin-1") if query else "")


def _fingerprint(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(scope["method"].encode())
    digest.update(b"\n")
    digest.update(_path_with_query(scope).encode("latin-1", "replace"))
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


def _header(message: Message, name: bytes) -> str | None:
    for key, value in message.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _read_body(receive: Receive) -> bytes:
    """The whole request body (the body-size limit is enforced further out)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        # After the body, a real receive would block until the client disconnects.
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}  # pragma: no cover

    return receive


async def _send_replay(outcome: _Outcome, send: Send) -> None:
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", outcome.content_type.encode("latin-1")),
        (b"content-length", str(len(outcome.body)).encode()),
        (b"idempotent-replayed", b"true"),
    ]
    await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
    await send({"type": "http.response.body", "body": outcome.body, "more_body": False})
