"""The HTTP client's policy, apart from the client: what is retried, how long to wait,
and what a failed mutation tells the user about its outcome (see cli/http.py)."""

from __future__ import annotations

import datetime as dt
import email.utils
import json as jsonlib
import re
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cli import __version__

if TYPE_CHECKING:
    from cli.errors import NetworkError
    from cli.httpx_lite import httpx

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRY_STATUS_IDEMPOTENT = frozenset({429, 502, 503, 504})
RETRY_STATUS_MUTATION = frozenset({429, 503})
# Answers that say the server did nothing (overload, maintenance, rate limit): a mutation
# that only ever got these was not carried out. Any other 5xx, or a connection lost after
# the request was sent, leaves its outcome unknown.
NOT_CARRIED_OUT = frozenset({429, 503})
MAYBE_DONE = "moncompte.maybe_done"  # response extension: an attempt may have been carried out
# POSTs with no effect to report on: logging in and out, and the read-only bulk lookup.
NO_EFFECT_PATHS = ("/v1/auth/", "/v1/lookup")
TOKEN_PATH = "/v1/auth/token"
REVOKE_PATH = "/v1/auth/revoke"
USER_AGENT = f"moncompte/{__version__} python/{'.'.join(map(str, sys.version_info[:3]))}"


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - now)


def has_effect(method: str, path: str) -> bool:
    """A mutation whose outcome the user must be told (the path may have a base prefix)."""
    return method in MUTATIONS and not any(p in path for p in NO_EFFECT_PATHS)


def say_outcome(error: NetworkError, method: str, path: str, maybe_done: bool) -> None:
    """Say whether a failed mutation was carried out: never done, or nobody knows.

    A lost answer (a timeout, a connection reset after sending, a 5xx) leaves the outcome
    unknown: the user must check before doing it again, which `outcome_check` names.
    """
    from cli.i18n import _

    if maybe_done:
        error.outcome = "unknown"
        error.message += _("; outcome unknown: {request} may or may not have been done").format(
            request=f"{method} {path}"
        )
        error.hint = _("check whether it was done before trying again: a new attempt may repeat it")
    else:
        error.outcome = "none"
        error.message += _("; {request} was not carried out").format(request=f"{method} {path}")


def json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return jsonlib.loads(response.content)
    except ValueError:
        return None


def expired(response: httpx.Response) -> bool:
    """A 401 worth a refresh: an expired access token (or a server that does not say)."""
    body = json_or_none(response)
    code = body.get("code") if isinstance(body, dict) else None
    return code in (None, "token_expired", "unauthorized")


def qs(params: Mapping[str, Any]) -> str:
    if not params:
        return ""
    return "?" + "&".join(f"{k}={v}" for k, v in params.items())


_ERRNO = re.compile(r"\[Errno (-?\d+)\] (.+)")


def why(exc: BaseException) -> str:
    """The first line of a transport error; "[Errno 111] Connection refused" in the user's
    language (the errno stays: it is what support searches for)."""
    text = (str(exc) or type(exc).__name__).splitlines()[0]
    match = _ERRNO.fullmatch(text)
    if match is None:
        return text
    from cli.files import errno_reason

    return f"[Errno {match[1]}] {errno_reason(int(match[1]), match[2])}"


def transport_error(exc: httpx.TransportError, host: str) -> NetworkError:
    """The error for a request that got no answer from `host`: timed out, not connected,
    or cut off."""
    from cli.errors import NetworkError
    from cli.httpx_lite import httpx
    from cli.i18n import _

    if isinstance(exc, httpx.TimeoutException):
        return NetworkError(
            _("timed out talking to {host} ({reason})").format(host=host, reason=why(exc)),
            hint=_("raise --timeout, or check the network"),
        )
    if isinstance(exc, httpx.ConnectError):
        return NetworkError(
            _("cannot connect to {host}: {reason}").format(host=host, reason=why(exc)),
            hint=_("check --api-url and the network (HTTPS_PROXY/NO_PROXY apply)"),
        )
    return NetworkError(
        _("network error talking to {host}: {reason}").format(host=host, reason=why(exc))
    )
