"""Health checks for a load balancer or an orchestrator (no auth, not in the OpenAPI API).

- `GET /healthz`, liveness: the process answers; touches nothing else, so a slow database
  does not get healthy workers restarted;
- `GET /readyz`, readiness: the database answers and its schema is at the revision this
  code needs (`python -m server migrate` not yet run on a new release: 503, so traffic
  stays on the old release). 503 is a problem document with what is wrong.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from domain.i18n import N_, Text
from server.migrate import HEAD, current_revision
from server.problems import problem_response, request_language

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> Any:
    engine = request.app.state.engine
    language = request_language(request)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            revision = current_revision(connection)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        return problem_response(
            503,
            "database_unavailable",
            Text(N_("the database: {reason}"), reason=reason),
            language=language,
        )
    if revision != HEAD:
        return problem_response(
            503,
            "schema_not_current",
            Text(
                N_("the schema is at {revision}, this server needs {head}: run `{command}`"),
                revision=revision or Text(N_("no revision")),
                head=HEAD,
                command="python -m server migrate",
            ),
            language=language,
        )
    return {"status": "ok", "database": engine.dialect.name, "schema": revision}
