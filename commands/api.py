"""`moncompte api METHOD PATH`: a raw authenticated request, like `gh api`.

Fields (`-f key=value` strings, `-F key=value` typed) go to the query string of a GET and
to the JSON body otherwise. The body is printed as JSON even for an error answer (scripts
read the problem's `code`), and the exit code is the one the error maps to.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.context import Env
from cli.errors import UsageError
from cli.files import cannot_read, json_reason
from cli.i18n import _

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _pairs(items: list[str], typed: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(_("expected key=value, got {item}").format(item=repr(item)))
        out[key] = _typed(value) if typed else value
    return out


def _typed(value: str) -> Any:
    """-F: true/false/null, numbers and JSON literals; anything else stays a string."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def api(
    ctx: typer.Context,
    method: Annotated[
        str, typer.Argument(metavar="METHOD", help=f"HTTP method: {', '.join(METHODS)}.")
    ],
    path: Annotated[str, typer.Argument(metavar="PATH", help="API path, e.g. /v1/invoices.")],
    field: Annotated[
        list[str] | None,
        typer.Option("--field", "-f", metavar="KEY=VALUE", help="A string field (repeatable)."),
    ] = None,
    raw_field: Annotated[
        list[str] | None,
        typer.Option(
            "--raw-field",
            "-F",
            metavar="KEY=VALUE",
            help="A typed field: true, false, null, numbers, JSON (repeatable).",
        ),
    ] = None,
    input_: Annotated[
        str | None,
        typer.Option("--input", metavar="FILE", help="JSON body from FILE, or - for stdin."),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option("--idempotency-key", metavar="KEY", help="Reuse this Idempotency-Key."),
    ] = None,
) -> None:
    """Make an authenticated API request and print the answer."""
    env = Env.of(ctx)
    method = method.upper()
    if method not in METHODS:
        raise UsageError(
            _("unknown method {method}").format(method=repr(method)),
            hint=_("use one of {choices}").format(choices=", ".join(METHODS)),
        )
    fields = {**_pairs(field or [], False), **_pairs(raw_field or [], True)}
    params: dict[str, Any] | None = None
    body: Any = None
    content: bytes | None = None
    if input_ is not None:
        if fields and method in ("GET", "HEAD"):
            raise UsageError(_("--input and fields cannot be combined for a GET"))
        text = env.read_stdin() if input_ == "-" else _read(Path(input_))
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(
                _("--input is not valid JSON: {reason}").format(reason=json_reason(exc))
            ) from None
        if fields:
            if not isinstance(body, dict):
                raise UsageError(_("fields can only be added to a JSON object given with --input"))
            body.update(fields)
        content = json.dumps(body).encode()
    elif method in ("GET", "HEAD"):
        params = fields or None
    elif fields:
        content = json.dumps(fields).encode()

    client = env.api()
    response = client.send(
        method,
        path,
        params=params,
        content=content,
        idempotency_key=idempotency_key,
    )
    if response.content and method != "HEAD":
        if "json" in response.headers.get("content-type", ""):
            try:
                env.out.json(response.json())
            except ValueError:
                env.out.bytes(response.content)
        else:
            env.out.bytes(response.content)
    client.check(response)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise cannot_read(path, exc) from None
