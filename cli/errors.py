"""The exception family, its exit codes, and the one place that turns an exception into output.

Commands raise; `handle()` prints. Exit codes are a public contract (scripts and CI read
them), so each class carries its own and nothing else decides.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
import sys
import traceback
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from typing import IO


class Reporting(Protocol):
    """What `handle` needs of the Env: where to write, how much, and where logs go. A
    shape, not cli.context: errors sit at the bottom, and every module may raise them."""

    @property
    def stderr(self) -> IO[str]: ...

    @property
    def verbose(self) -> bool: ...

    @property
    def environ(self) -> Mapping[str, str]: ...


class MoncompteError(Exception):
    """An expected failure: one line for the user, an optional hint, an exit code."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        code: str | None = None,
        rule: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status
        self.code = code
        self.rule = rule
        self.detail = detail


class UsageError(MoncompteError):
    exit_code = 2


class AuthError(MoncompteError):
    exit_code = 3


class NotFoundError(MoncompteError):
    exit_code = 4


class RuleError(MoncompteError):
    exit_code = 5


class NetworkError(MoncompteError):
    exit_code = 6
    # For a mutation (cli/http.py): "none" when it provably was not carried out, "unknown"
    # when it may have been (the answer was lost); None for a read.
    outcome: str | None = None


class PartialFailure(MoncompteError):
    exit_code = 7


class OutputClosed(MoncompteError):
    """The reader of stdout went away (`moncompte invoices | head -1`): not an error.

    Like `cat` or `ls` in a pipe, stop writing and exit 0 without a word: the reader got
    what it asked for.
    """

    exit_code = 0


class Interrupted(MoncompteError):
    exit_code = 130


@contextlib.contextmanager
def outcome_check(command: str) -> Iterator[None]:
    """Name the command that shows whether a mutation whose outcome is unknown was done."""
    try:
        yield
    except NetworkError as exc:
        if exc.outcome == "unknown":
            from cli.i18n import _

            exc.hint = _("check with '{command}' before trying again").format(command=command)

        raise


# --- secrets -------------------------------------------------------------------------------

# Process-wide on purpose: a secret seen by any part of the run (a token read from the
# keyring, a password typed at the prompt) must be scrubbed from every later message, log
# and traceback, whichever object happens to format them. Scrubbing too much is harmless.
_SECRETS: set[str] = set()
_MIN_SECRET = 6  # shorter strings would blank ordinary words

_SECRET_KEYS = r"(?:access_token|refresh_token|password|token|otp|client_secret)"
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    # this API's access and refresh tokens, even one this process never read (yet)
    re.compile(r"(\bmc_(?:at|rt)_)[A-Za-z0-9_-]{4,}"),
    # JSON bodies and reprs: "access_token": "xxx" / 'password': 'xxx'
    re.compile(r"(?i)([\"']" + _SECRET_KEYS + r"[\"']\s*:\s*[\"'])[^\"']*"),
    # query strings and form bodies: password=xxx
    re.compile(r"(?i)(\b" + _SECRET_KEYS + r"=)[^\s&'\"]+"),
)


def register_secret(*values: str | None) -> None:
    """Remember values that must never be shown (tokens, passwords)."""
    for value in values:
        if value and len(value) >= _MIN_SECRET:
            _SECRETS.add(value)


def scrub(text: str, extra: Iterable[str] = ()) -> str:
    """Replace known secrets and `Bearer xxx` / `"token": "xxx"` patterns with `***`."""
    for secret in sorted({*_SECRETS, *(e for e in extra if e)}, key=len, reverse=True):
        text = text.replace(secret, "***")
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text


# --- HTTP problems -> typed errors --------------------------------------------------------


def from_problem(status: int, body: Any, *, method: str, url: str, host: str) -> MoncompteError:
    """Map an HTTP error answer (problem+json or not) to the exception for its exit code.

    500 is mapped to exit 6 ("server error"), like the other 5xx: from the user's side it is
    the service failing, not this tool, and a retry later is the useful advice.
    """
    from cli.i18n import _

    problem: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    code = _str_or_none(problem.get("code"))
    rule = _str_or_none(problem.get("rule"))
    detail = _str_or_none(problem.get("detail")) or _str_or_none(problem.get("title"))
    kw: dict[str, Any] = {"status": status, "code": code, "rule": rule, "detail": detail}
    what = f"{method} {url}"
    if status == 401:
        return AuthError(
            _("not authenticated: {detail}").format(
                detail=detail or _("the credentials were refused")
            ),
            hint=_("run 'moncompte login' (or check MONCOMPTE_TOKEN / --token-file)"),
            **kw,
        )
    if status in (403, 404):
        return NotFoundError(_("not found: {detail}").format(detail=detail or what), **kw)
    if status == 409:
        named = f" ({rule})" if rule else (f" ({code})" if code else "")
        return RuleError(
            _("refused by rule{named}: {detail}").format(
                named=named, detail=detail or _("conflict")
            ),
            **kw,
        )
    if status in (400, 405, 413, 415, 422):  # 405: a method or path the API does not have
        return UsageError(_("invalid request: {detail}").format(detail=detail or what), **kw)
    if status == 429:
        return NetworkError(
            _("rate limited by {host}: {detail}").format(
                host=host, detail=detail or _("too many requests")
            ),
            **kw,
        )
    if status == 503:
        return NetworkError(
            _("service unavailable at {host}: {detail}").format(
                host=host, detail=detail or _("maintenance or overload")
            ),
            hint=_("try again later ('moncompte api GET /v1/status' shows maintenance windows)"),
            **kw,
        )
    if status >= 500:
        return NetworkError(
            _("server error ({status}) at {host}: {detail}").format(
                status=status, host=host, detail=detail or what
            ),
            **kw,
        )
    message = _("unexpected answer {status} to {what}: {detail}").format(
        status=status, what=what, detail=detail or ""
    )
    return MoncompteError(message.rstrip(), **kw)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


# --- the one place that prints errors ------------------------------------------------------


def error_line(message: str) -> str:
    """`error: MESSAGE`, in the user's language (French: `erreur : MESSAGE`)."""
    from cli.i18n import _

    return _("error: {message}").format(message=message)


def hint_line(hint: str) -> str:
    """`hint: HINT`, in the user's language."""
    from cli.i18n import _

    return _("hint: {hint}").format(hint=hint)


def handle(exc: BaseException, env: Reporting) -> int:
    """Print `error: ...` (and `hint: ...`) on stderr and return the exit code."""
    from cli.i18n import _

    err = env.stderr
    if isinstance(exc, KeyboardInterrupt):
        _line(err, _("interrupted"))
        return Interrupted.exit_code
    if isinstance(exc, OutputClosed):
        _silence_stdout()
        return OutputClosed.exit_code
    if isinstance(exc, MoncompteError):
        _line(err, error_line(scrub(exc.message)))
        if exc.hint:
            _line(err, hint_line(scrub(exc.hint)))
        if env.verbose and exc.__cause__ is not None:
            _line(err, scrub("".join(traceback.format_exception(exc.__cause__))).rstrip())
        return exc.exit_code
    text = scrub("".join(traceback.format_exception(exc)))
    log_path = write_debug_log(text, env.environ)
    unexpected = _("unexpected {kind}: {details}").format(
        kind=type(exc).__name__, details=scrub(str(exc)) or _("no details")
    )
    _line(err, error_line(unexpected))
    if log_path is not None:
        _line(err, hint_line(_("details were written to {path}").format(path=log_path)))
    if env.verbose:
        _line(err, text.rstrip())
    return 1


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null so that the interpreter's final flush of a closed pipe does
    not print "Exception ignored … BrokenPipeError" (what the Python docs recommend)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests): nothing to do
        pass


def write_debug_log(text: str, environ: Mapping[str, str]) -> Path | None:
    """Write a scrubbed traceback under the user log dir; never fail because of it."""
    try:
        override = environ.get("MONCOMPTE_LOG_DIR")
        if override:
            directory = Path(override)
        else:
            import platformdirs

            directory = Path(platformdirs.user_log_dir("moncompte"))
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = directory / f"debug-{stamp}-{os.getpid()}.log"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(scrub(text))
        return path
    except OSError:
        return None


def _line(stream: Any, text: str) -> None:
    try:
        stream.write(text + "\n")
        stream.flush()
    except (OSError, ValueError):  # stderr closed: nothing better to do
        pass
