"""Every error the API answers is `application/problem+json` (RFC 9457).

One place turns every failure into the same shape `{type, title, status, detail, code}`
(+ `rule` for business-rule refusals, + `check` for a refused IBAN), so the CLI maps errors
to exit codes by `code` alone and never has to parse a message. Nothing internal (a
traceback, an SQL statement, the input that was refused in full) ever reaches the body.

`detail` and `title` are worded in the request's language (server.language: Accept-Language,
English by default), with `Content-Language` saying which; every other member is the same
in every language. A detail is a `domain.i18n.Text` (an `N_()` template and its arguments,
a business-rule refusal's included) so that it can be worded again here; a plain `str`
detail is shown as it is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.i18n import N_, Text, localize
from domain.rules import RuleRefusal
from server.language import DEFAULT, negotiate, translator
from server.validation import worded

log = logging.getLogger("server.problems")

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://moncompte.example/problems/"

# How long a client should wait before retrying after an overload (seconds).
OVERLOAD_RETRY_AFTER = 1

# Codes for plain HTTP statuses (routing 404, 405, a bare HTTPException ...).
_CODE_FOR_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}

# The problem titles, one per status this API answers: the reason phrases of Python 3.11's
# http.HTTPStatus, fixed here so that a newer Python (413 "Content Too Large") does not
# change the English title, and marked for the catalogue.
_TITLES = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    406: N_("Not Acceptable"),
    409: N_("Conflict"),
    413: N_("Request Entity Too Large"),
    415: N_("Unsupported Media Type"),
    422: N_("Unprocessable Entity"),
    429: N_("Too Many Requests"),
    500: N_("Internal Server Error"),
    503: N_("Service Unavailable"),
}

# `not_found(what)`: one whole sentence per kind of thing, never "no such " + a word: the
# translation is of the sentence, noun included ("facture introuvable").
_NO_SUCH = {
    "resource": N_("no such resource"),
    "customer": N_("no such customer"),
    "contract": N_("no such contract"),
    "invoice": N_("no such invoice"),
    "instalment": N_("no such instalment"),
    "claim": N_("no such claim"),
    "payment method": N_("no such payment method"),
}


class ProblemModel(BaseModel):
    """The error body, for the OpenAPI document (extra members may follow)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    rule: str | None = None
    check: str | None = None

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> Any:
        # `rule` and `check` are absent, not null, when they do not apply.
        data = handler(self)
        return {k: v for k, v in data.items() if v is not None}


class Problem(Exception):
    """Raise from a route or dependency to answer a problem+json error."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        rule: str | None = None,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.rule = rule
        self.title = title
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self, language: str = DEFAULT) -> dict[str, Any]:
        return problem_body(
            self.status,
            self.code,
            self.detail,
            rule=self.rule,
            title=self.title,
            language=language,
            **self.extra,
        )

    def response(self, language: str = DEFAULT) -> Response:
        return problem_response(
            self.status,
            self.code,
            self.detail,
            rule=self.rule,
            title=self.title,
            headers=self.headers,
            language=language,
            **self.extra,
        )


def not_found(what: str = "resource") -> Problem:
    """The one answer for anything missing *or* outside the caller's scope.

    The detail never says which of the two it is: telling "exists but not yours" apart
    from "does not exist" would let a customer probe other customers' IDs.
    """
    template = _NO_SUCH.get(what)
    return Problem(404, "not_found", Text(template) if template else f"no such {what}")


def rule_refusal(refusal: RuleRefusal) -> Problem:
    # The detail is a `Text` (domain/rules.py), worded in the request's language.
    return Problem(409, refusal.code, refusal.detail, rule=refusal.rule)


def problem_body(
    status: int,
    code: str,
    detail: str,
    *,
    rule: str | None = None,
    title: str | None = None,
    language: str = DEFAULT,
    **extra: Any,
) -> dict[str, Any]:
    """The body, `detail` and `title` in `language` (a `Text` is worded again, a `str` is
    kept as it is)."""
    words = translator(language)
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": localize(title or _title_text(status), words),
        "status": status,
        "detail": localize(detail, words),
        "code": code,
    }
    if rule is not None:
        body["rule"] = rule
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    rule: str | None = None,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    language: str = DEFAULT,
    **extra: Any,
) -> Response:
    body = problem_body(status, code, detail, rule=rule, title=title, language=language, **extra)
    merged = dict(headers or {})
    merged["Content-Language"] = language
    # The same URL answers in another language for another Accept-Language: a cache must
    # not hand one client's French to the next one.
    vary = merged.get("Vary")
    merged["Vary"] = f"{vary}, Accept-Language" if vary else "Accept-Language"
    return Response(
        content=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        status_code=status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=merged,
    )


def request_language(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


def overload_response(language: str = DEFAULT) -> Response:
    return problem_response(
        503,
        "unavailable",
        Text(N_("the service is overloaded; retry in a moment")),
        headers={"Retry-After": str(OVERLOAD_RETRY_AFTER)},
        language=language,
    )


def _title_text(status: int) -> str:
    template = _TITLES.get(status)
    return Text(template) if template else _title(status)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# --- validation errors: one clear line naming the field --------------------------------


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    return ".".join(parts) if parts else "request"


def _message(error: Mapping[str, Any]) -> str:
    """The English message of one error (the `errors` member), as the customer reads it."""
    kind = error.get("type", "")
    if kind == "missing":
        return "field required"
    if kind == "extra_forbidden":
        return "unknown field (not accepted here)"
    msg = str(error.get("msg", "invalid value"))
    # Pydantic prefixes messages of custom validators; the customer needs the reason only.
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    # "Field required" reads better mid-sentence as "field required"; "JSON ..." stays.
    if msg[:2].isupper():
        return msg
    return msg[:1].lower() + msg[1:]


def validation_detail(errors: list[Mapping[str, Any]]) -> tuple[str, str]:
    """(code, one-line detail) for a list of pydantic errors; the detail is a `Text`."""
    for error in errors:
        if error.get("type") == "json_invalid":
            ctx = error.get("ctx") or {}
            # The parser's own reason ("EOF while parsing ...") is technical: kept as is.
            why = str(ctx.get("error", "")).strip()
            if not why:
                return "malformed_json", Text(N_("malformed JSON body"))
            return "malformed_json", Text(N_("malformed JSON body: {reason}"), reason=why)
    shown = [
        Text(
            N_("{field}: {message}"),
            field=_location(e.get("loc", ())),
            message=worded(e, _message(e)),
        )
        for e in errors[:5]
    ]
    if not shown:
        return "validation_error", Text(N_("invalid request"))
    more = len(errors) - len(shown)
    detail = Text.joined(shown, "; ")
    if more > 0:
        detail = Text(N_("{errors} (and {more} more)"), errors=detail, more=more)
    return "validation_error", detail


def _errors_for_body(errors: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    # Never echo the input back: it may be a 10 MiB string or a full IBAN.
    return [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": _message(e), "type": e.get("type")}
        for e in errors[:20]
    ]


# --- handlers --------------------------------------------------------------------------


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.response(request_language(request))


async def _on_rule_refusal(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RuleRefusal)
    return rule_refusal(exc).response(request_language(request))


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = _CODE_FOR_STATUS.get(status, "error")
    language = request_language(request)
    detail: str = exc.detail if isinstance(exc.detail, str) else _title_text(status)
    if status == 400 and detail == "There was an error parsing the body":
        # FastAPI's answer when the JSON parser itself fails (e.g. nesting too deep): the
        # same problem as any other malformed body.
        return problem_response(
            422,
            "malformed_json",
            Text(N_("malformed JSON body: it cannot be parsed")),
            language=language,
        )
    where = {"method": request.method, "path": request.url.path}
    if status == 404 and detail == "Not Found":
        detail = Text(N_("no such endpoint: {method} {path}"), **where)
    elif status == 405:
        detail = Text(N_("method {method} is not allowed on {path}"), **where)
    elif detail == _title(status):
        detail = _title_text(status)  # Starlette's default detail is the reason phrase
    return problem_response(status, code, detail, headers=exc.headers, language=language)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    code, detail = validation_detail(errors)
    return problem_response(
        422, code, detail, errors=_errors_for_body(errors), language=request_language(request)
    )


async def _on_pool_timeout(request: Request, exc: Exception) -> Response:
    log.warning("database pool exhausted: answering 503")
    return overload_response(request_language(request))


async def _on_operational_error(request: Request, exc: Exception) -> Response:
    # SQLite answers "database is locked" when writers queue for longer than its busy
    # timeout, PostgreSQL "canceling statement due to lock timeout" (server.db): that is
    # overload, not a bug, and the client may retry.
    text = str(exc).lower()
    if "locked" in text or "busy" in text or "lock timeout" in text:
        log.warning("database busy: answering 503")
        return overload_response(request_language(request))
    return await _on_unexpected(request, exc)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(
        500,
        "internal_error",
        Text(N_("an unexpected error occurred on the server; it has been logged")),
        language=request_language(request),
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RuleRefusal, _on_rule_refusal)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(PoolTimeoutError, _on_pool_timeout)
    app.add_exception_handler(OperationalError, _on_operational_error)
    app.add_exception_handler(Exception, _on_unexpected)


# Documented error answers shared by every route in the OpenAPI document; the schema is
# registered once as components/schemas/Problem by the app's OpenAPI generator.
PROBLEM_SCHEMA_REF = {"$ref": "#/components/schemas/Problem"}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "description": _title(status),
            "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_SCHEMA_REF}},
        }
        for status in statuses
    }
