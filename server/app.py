"""The FastAPI application of the reference server (and of the built-in sandbox).

`create_app()` builds it for a database and a clock; `app_from_env()` is the factory for
`uvicorn --factory server.app:app_from_env`. Everything that depends on "today" reads the
clock on `app.state.clock`, so the sandbox and the tests can pin the date.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterable
from datetime import date
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.i18n import N_, Text
from server.idempotency import IdempotencyMiddleware
from server.language import scope_language
from server.problems import ProblemModel, install, problem_response
from server.routes import routers
from server.routes.deps import Clock
from server.writer import Writer

API_TITLE = "moncompte API"
# The API's version, not the package's: the committed OpenAPI document must not change
# with every release of the tool.
API_VERSION = "1.0"
MAX_BODY_BYTES = 10 * 1024 * 1024  # 10 MiB: a message with a few 5 MiB attachments, base64

_DESCRIPTION = (
    "Reference API of `moncompte`: a customer's subscription account (contracts, invoices, "
    "schedule, bank details, termination, claims) and the staff read-only views. Errors are "
    "`application/problem+json`; shapes are described in docs/api.md."
)


class BodyLimitMiddleware:
    """Refuse request bodies over `max_bytes` with a 413 problem, before any route runs.

    The body is read here (bounded) and handed on, so no route ever holds more than the
    limit in memory, whether the client sent a Content-Length or chunks.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            "payload_too_large",
            Text(N_("the request body is over {size} MiB"), size=self.max_bytes // (1024 * 1024)),
            headers={"Connection": "close"},
            language=scope_language(scope),
        )
        await response(scope, receive, send)


def create_app(
    database_url: str | None = None,
    *,
    engine: Engine | None = None,
    today: date | None = None,
    fail_customers: Iterable[str] | None = None,
) -> FastAPI:
    """The application for a database (`engine`, else `database_url`, else the default
    of `server.db`) and a clock (`today` pins the business date; else the real date in
    Europe/Paris).

    `fail_customers` is the sandbox's fault hook (see `server.faults`); None reads
    `MONCOMPTE_SANDBOX_FAIL_CUSTOMERS`, and an unset variable injects nothing."""
    from server.db import make_engine, session_factory
    from server.faults import fail_customers_from, parse_fail_customers

    if engine is None:
        engine = make_engine(database_url)
    writer = Writer()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        writer.close()  # the mutations' thread (server/writer.py) ends with the server

    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        description=_DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.clock = Clock(today)
    app.state.session_factory = session_factory(engine)
    app.state.write_session_factory = session_factory(engine, immediate=True)
    app.state.fail_customers = (
        fail_customers_from(os.environ)
        if fail_customers is None
        else parse_fail_customers(fail_customers)
    )

    install(app)
    for router in routers():
        app.include_router(router)

    # Added innermost first: the body limit runs before the idempotency store reads it.
    app.add_middleware(
        IdempotencyMiddleware,
        engine=lambda: app.state.engine,
        now=lambda: app.state.clock.now(),
        writer=writer,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = ProblemModel.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory server.app:app_from_env`.

    `DATABASE_URL` (PostgreSQL or SQLite) or `MONCOMPTE_SANDBOX_DB` (a SQLite file) choose
    the database (see `server.db.default_database_url`); `MONCOMPTE_SANDBOX_TODAY`
    (YYYY-MM-DD) pins the date. The schema is created if missing; seeding is
    `python -m server`'s job.
    """
    from server.db import create_schema, make_engine

    pinned = os.environ.get("MONCOMPTE_SANDBOX_TODAY")
    try:
        today = date.fromisoformat(pinned) if pinned else None
    except ValueError:
        raise SystemExit(
            f"MONCOMPTE_SANDBOX_TODAY={pinned!r} is not a date: use YYYY-MM-DD"
        ) from None
    engine = make_engine(None)
    create_schema(engine)
    return create_app(engine=engine, today=today)


def openapi_document(app: FastAPI | None = None) -> str:
    """The committed form of the OpenAPI document: sorted keys, indent 2, final newline."""
    import json

    schema = (app or create_app("sqlite://")).openapi()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
