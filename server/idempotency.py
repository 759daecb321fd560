"""`Idempotency-Key` on every mutation: the first answer is kept and replayed.

A client that lost the answer to a POST (a timeout, a dropped connection) retries with
the same key and gets the same answer, with `Idempotent-Replayed: true`, instead of a
second effect (two claims filed, two IBAN changes). Records are per caller (user id) and
key, with a hash of method + path + body so that a key reused for another request is
refused (422 `idempotency_conflict`) rather than answered with an unrelated response.

One write transaction per mutation: the middleware begins it (taking the writers' lock:
`BEGIN IMMEDIATE` on SQLite, the advisory lock on PostgreSQL), checks the token and the
key, and hands the open connection to the route through the ASGI scope; the route's
session joins it (its commits become savepoints, `server.routes.deps.get_session`), and
the middleware stores the answer and commits once, after the route. Writers run one at a
time, so a concurrent request with the same key waits for the lock and then finds the
first one's answer: no placeholder row, no polling. This is an ASGI middleware rather
than a dependency so that it sees the raw body and the final response (status, headers,
body) whichever route answers.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.i18n import N_, Text
from server.auth import lookup_access_token
from server.db import IMMEDIATE_OPTION
from server.language import scope_language
from server.models import IdempotencyRecord
from server.problems import overload_response, problem_response
from server.routes.deps import IDEMPOTENT_CONNECTION, READ_ONLY_POSTS
from server.writer import Writer, WriterBusy

log = logging.getLogger("server.idempotency")

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
# A record is kept this long; after that the key may be used again for a new request.
RETENTION = timedelta(hours=24)

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
    kind: str  # "new" | "replay" | "conflict" | "anonymous"
    connection: Connection | None = None  # "new": in its transaction, holding the lock
    user_id: int = 0
    status: int = 0
    body: bytes = b""
    content_type: str = ""


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        engine: Callable[[], Engine],
        now: Callable[[], datetime],
        writer: Writer,
    ) -> None:
        self.app = app
        # A callable, because the app's engine is set after the middleware is built.
        self._engine = engine
        self._now = now
        self._writer = writer

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
        key = None if raw_key is None else raw_key.decode("latin-1")
        if key is not None and (not key.strip() or len(key) > MAX_KEY_LENGTH):
            await problem_response(
                422,
                "validation_error",
                Text(
                    N_("{field}: must be 1 to {limit} characters"),
                    field="header.Idempotency-Key",
                    limit=MAX_KEY_LENGTH,
                ),
                language=scope_language(scope),
            )(scope, receive, send)
            return
        token = _bearer_token(headers.get("authorization"))
        body = await _read_body(receive)
        try:
            messages = await self._writer.run(lambda: self._mutate(scope, body, key, token))
        except (WriterBusy, PoolTimeoutError, OperationalError):
            log.warning("writer busy: answering 503")
            await overload_response(scope_language(scope))(scope, receive, send)
            return
        for message in messages:
            await send(message)

    async def _mutate(
        self, scope: Scope, body: bytes, key: str | None, token: str | None
    ) -> list[Message]:
        """The whole mutation, on the writer (server.writer); the answer's messages."""
        answer: list[Message] = []

        async def capture(message: Message) -> None:
            answer.append(message)

        if key is None or token is None:
            await self.app(scope, _replaying(body), capture)
            return answer
        fingerprint = _fingerprint(scope, body)
        outcome = self._open(token, key, fingerprint)
        if outcome.kind == "anonymous":  # the route answers 401 itself
            await self.app(scope, _replaying(body), capture)
        elif outcome.kind == "replay":
            await _send_replay(outcome, capture)
        elif outcome.kind == "conflict":
            await problem_response(
                422,
                "idempotency_conflict",
                Text(
                    N_(
                        "this {header} was already used for a different request; use a new "
                        "key for a new request"
                    ),
                    header="Idempotency-Key",
                ),
                language=scope_language(scope),
            )(scope, _replaying(body), capture)
        else:
            await self._run_and_store(outcome, key, scope, fingerprint, _replaying(body), answer)
        return answer

    # --- steps ---------------------------------------------------------------------------

    def _open(self, token: str, key: str, fingerprint: str) -> _Outcome:
        """Begin the mutation's transaction (the writers' lock), then who and which key."""
        connection = self._engine().connect()
        connection.execution_options(**{IMMEDIATE_OPTION: True})
        try:
            connection.begin()
            now = self._now()
            with Session(bind=connection) as session:
                found = lookup_access_token(session, token, now)
                if not isinstance(found, tuple):
                    connection.rollback()
                    connection.close()
                    return _Outcome("anonymous")
                user_id = found[1].id
                record = session.scalars(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
                    )
                ).first()
                if record is not None and record.created_at + RETENTION <= now:
                    session.delete(record)  # expired: the key starts afresh
                    session.flush()
                    record = None
            if record is None:
                return _Outcome("new", connection=connection, user_id=user_id)
            connection.rollback()
            connection.close()
            if record.request_hash != fingerprint:
                return _Outcome("conflict")
            return _Outcome(
                "replay",
                status=record.status_code,
                body=record.response_body.encode("utf-8"),
                content_type=record.content_type,
            )
        except BaseException:
            connection.rollback()
            connection.close()
            raise

    async def _run_and_store(
        self,
        outcome: _Outcome,
        key: str,
        scope: Scope,
        fingerprint: str,
        receive: Receive,
        answer: list[Message],
    ) -> None:
        # The answer is buffered, stored and committed with the route's work, then sent:
        # once the client has an answer, a retry with the same key finds it.
        connection = outcome.connection
        assert connection is not None

        async def capture(message: Message) -> None:
            answer.append(message)

        scope.setdefault("state", {})[IDEMPOTENT_CONNECTION] = connection
        try:
            await self.app(scope, receive, capture)
        except BaseException:
            _end(connection, commit=False)
            raise
        start = next((m for m in answer if m["type"] == "http.response.start"), None)
        if start is None:
            _end(connection, commit=False)
            return
        status = int(start["status"])
        body = b"".join(m.get("body", b"") for m in answer if m["type"] == "http.response.body")
        content_type = _header(start, b"content-type") or "application/json"
        record = None
        if _stored(status):
            record = IdempotencyRecord(
                user_id=outcome.user_id,
                key=key,
                method=scope["method"],
                path=_path_with_query(scope)[:500],
                request_hash=fingerprint,
                status_code=status,
                response_body=body.decode("utf-8", "replace"),
                content_type=content_type[:100],
                created_at=self._now(),
            )
        # Committed whether or not the answer is kept: a refusal the route recorded (a
        # failed login counted) stands, as it does without a key. A commit that fails
        # raises to __call__, which answers 503: nothing was done.
        _store_and_commit(connection, record)


def _store_and_commit(connection: Connection, record: IdempotencyRecord | None) -> None:
    try:
        if record is not None:
            with Session(bind=connection) as session:
                session.add(record)
                session.flush()
        connection.commit()
    except BaseException:
        _end(connection, commit=False)
        raise
    connection.close()


def _end(connection: Connection, *, commit: bool) -> None:
    """End the mutation's transaction (releasing the writers' lock) and the connection."""
    try:
        if commit:
            connection.commit()
        else:
            connection.rollback()
    finally:
        connection.close()


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
