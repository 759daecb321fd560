"""Errors: exit codes, one-line messages, scrubbing, the debug log."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli import errors
from cli.context import GlobalOptions
from cli.errors import (
    AuthError,
    MoncompteError,
    NetworkError,
    NotFoundError,
    RuleError,
    UsageError,
    from_problem,
    handle,
    register_secret,
    scrub,
)

from .helpers import make_env

SECRET = "s3cr3t-access-token-value"


def test_scrub_known_secrets_and_patterns() -> None:
    register_secret(SECRET, None, "abc")  # too short to be worth scrubbing: ignored
    text = (
        f"token {SECRET} in a message; Authorization: Bearer eyJhbGciOi.x-y_z "
        '{"access_token": "aaaa", "refresh_token":"bbbb", "password": "hunter2"} '
        "grant_type=password&password=p%40ss&otp=123456 abc"
    )
    out = scrub(text)
    for leaked in (SECRET, "eyJhbGciOi", "aaaa", "bbbb", "hunter2", "p%40ss", "123456"):
        assert leaked not in out
    assert "Bearer ***" in out and out.endswith(" abc")
    assert scrub("plain words about a token: expired") == "plain words about a token: expired"


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (401, {"code": "token_expired", "detail": "expired"}, AuthError, 3),
        (403, {"code": "forbidden"}, NotFoundError, 4),
        (404, {"code": "not_found", "detail": "no invoice NOPE"}, NotFoundError, 4),
        (
            409,
            {"code": "merchant_first", "rule": "claims.merchant_first", "detail": "ask"},
            RuleError,
            5,
        ),
        (422, {"code": "validation_error", "detail": "bad date"}, UsageError, 2),
        (429, {"code": "rate_limited"}, NetworkError, 6),
        (500, None, NetworkError, 6),
        (503, {"code": "unavailable"}, NetworkError, 6),
        (418, "teapot", MoncompteError, 1),
    ],
)
def test_problem_mapping(status: int, body: object, cls: type, code: int) -> None:
    exc = from_problem(status, body, method="GET", url="/v1/x", host="api.example")
    assert type(exc) is cls and exc.exit_code == code and exc.status == status


def test_rule_error_names_the_rule() -> None:
    exc = from_problem(
        409,
        {
            "code": "escalation_too_early",
            "rule": "claims.mediator_delay",
            "detail": "wait until 2027-01-05",
        },
        method="POST",
        url="/v1/claims/1/escalate",
        host="h",
    )
    assert isinstance(exc, RuleError)
    assert (exc.code, exc.rule) == ("escalation_too_early", "claims.mediator_delay")
    assert "claims.mediator_delay" in exc.message and "2027-01-05" in exc.message


def test_handle_prints_one_line_and_hint() -> None:
    env = make_env({})
    code = handle(NotFoundError("not found: invoice NOPE", hint="list them"), env)
    assert code == 4
    assert env.stderr.getvalue() == "error: not found: invoice NOPE\nhint: list them\n"  # type: ignore[attr-defined]
    assert env.stdout.getvalue() == ""  # type: ignore[attr-defined]


def test_handle_scrubs_messages() -> None:
    register_secret(SECRET)
    env = make_env({})
    handle(AuthError(f"refused {SECRET}"), env)
    assert SECRET not in env.stderr.getvalue()  # type: ignore[attr-defined]


def test_keyboard_interrupt_is_130() -> None:
    env = make_env({})
    assert handle(KeyboardInterrupt(), env) == 130
    assert env.stderr.getvalue() == "interrupted\n"  # type: ignore[attr-defined]


def _boom() -> None:
    raise ValueError(f"bad thing with Bearer {SECRET} inside")


def test_unexpected_error_writes_a_scrubbed_debug_log(tmp_path: Path) -> None:
    register_secret(SECRET)
    env = make_env({"MONCOMPTE_LOG_DIR": str(tmp_path)})
    try:
        _boom()
    except ValueError as exc:
        code = handle(exc, env)
    assert code == 1
    err = env.stderr.getvalue()  # type: ignore[attr-defined]
    assert err.startswith("error: unexpected ValueError")
    assert "Traceback" not in err and SECRET not in err
    logs = list(tmp_path.glob("debug-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    text = logs[0].read_text()
    assert "_boom" in text and "Traceback" in text and SECRET not in text
    assert logs[0].stat().st_mode & 0o077 == 0


def test_verbose_prints_the_scrubbed_traceback(tmp_path: Path) -> None:
    env = make_env({"MONCOMPTE_LOG_DIR": str(tmp_path)}, options=GlobalOptions(verbose=True))
    try:
        _boom()
    except ValueError as exc:
        handle(exc, env)
    err = env.stderr.getvalue()  # type: ignore[attr-defined]
    assert "Traceback" in err and "_boom" in err and SECRET not in err


def test_log_dir_failure_does_not_mask_the_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    env = make_env({"MONCOMPTE_LOG_DIR": str(blocker / "sub")})
    assert handle(RuntimeError("x"), env) == 1
    assert "unexpected RuntimeError: x" in env.stderr.getvalue()  # type: ignore[attr-defined]


def test_exit_codes_are_the_documented_ones() -> None:
    assert [
        c.exit_code
        for c in (
            MoncompteError,
            UsageError,
            AuthError,
            NotFoundError,
            RuleError,
            NetworkError,
            errors.PartialFailure,
            errors.Interrupted,
        )
    ] == [1, 2, 3, 4, 5, 6, 7, 130]
