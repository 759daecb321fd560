"""`python -m server users ...`: logins added, listed, disabled, enabled, given a new
one-time code, checked through the real API of a running server over the same database."""

from __future__ import annotations

import io
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server import embedded
from server.__main__ import main as server_main
from server.totp import totp_now

from .conftest import TODAY


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A seeded database and a server over it: (the --db path, the server's URL)."""
    db = tmp_path / "admin.db"
    running = embedded.start_background(f"sqlite:///{db}", today=TODAY)
    yield str(db), running.url
    running.stop()


def _users(
    args: list[str], db: str, capsys: pytest.CaptureFixture[str], stdin: str = ""
) -> tuple[int, str, str]:
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = server_main(["users", *args, "--db", db])
    finally:
        sys.stdin = old
    out, err = capsys.readouterr()
    return code, out, err


def _post(url: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Idempotency-Key": "k-" + path},
        method="POST",
    )
    return _send(request)


def _get(url: str, path: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(url + path, headers={"Authorization": f"Bearer {token}"})
    return _send(request)


def _send(request: urllib.request.Request) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _login(url: str, username: str, password: str, otp: str | None = None) -> tuple[int, Any]:
    body: dict[str, Any] = {"grant_type": "password", "username": username, "password": password}
    if otp:
        body["otp"] = otp
    return _post(url, "/v1/auth/token", body)


def test_add_a_customer_login_then_log_in(
    served: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, url = served
    code, out, err = _users(
        ["add", "alice", "--customer", "C0000002", "--password-stdin"],
        db, capsys, stdin="a long passphrase\n",
    )  # fmt: skip
    assert code == 0, err
    assert err.strip() == "added alice" and out == ""
    status, body = _login(url, "alice", "a long passphrase")
    assert status == 200, body
    status, me = _get(url, "/v1/me", body["access_token"])
    assert status == 200 and me["scope"] == "customer"
    assert me["customer"]["id"] == "C0000002"


def test_list_shows_every_login(
    served: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _url = served
    code, out, _ = _users(["list"], db, capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["username", "scope", "customer", "otp", "status"]
    assert any(line.split()[:5] == ["agent", "staff", "-", "yes", "enabled"] for line in lines)
    code, out, _ = _users(["list", "--json"], db, capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["username"] for r in rows} == {"agent", "clean", "demo"}
    demo = next(r for r in rows if r["username"] == "demo")
    assert demo == {
        "username": "demo", "scope": "customer", "customer_id": "C0000001",
        "otp": False, "enabled": True,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["add", "demo", "--customer", "C0000001", "--password-stdin"], "long enough",
         "a user named 'demo' exists already"),
        (["add", "bob", "--customer", "C9999999", "--password-stdin"], "long enough",
         "no customer 'C9999999'"),
        (["add", "bob", "--staff", "--password-stdin"], "short\n",
         "the password must have at least 8 characters"),
        (["add", "bob", "--staff", "--password-stdin"], "two\nlines here\n",
         "the password must be one line"),
        (["add", "b o b", "--staff", "--password-stdin"], "long enough",
         "invalid username 'b o b': no spaces or control characters"),
        (["add", "x" * 101, "--staff", "--password-stdin"], "long enough",
         "a username has 1 to 100 characters"),
        (["disable", "nobody"], "", "no user named 'nobody'"),
        (["reset-otp", "nobody"], "", "no user named 'nobody'"),
    ],
)  # fmt: skip
def test_refusals_are_one_line_and_exit_1(
    served: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    stdin: str,
    message: str,
) -> None:
    db, _url = served
    code, out, err = _users(args, db, capsys, stdin=stdin)
    assert code == 1
    assert err == f"error: {message}\n" and out == ""


@pytest.mark.parametrize(
    "args",
    [
        ["add", "bob", "--staff"],  # the password only on stdin
        ["add", "bob", "--staff", "--customer", "C0000001", "--password-stdin"],
        ["add", "bob", "--password-stdin"],  # neither staff nor a customer
        ["add", "bob", "--staff", "--password", "x", "--password-stdin"],
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        server_main(["users", *args, "--db", str(tmp_path / "x.db")])
    assert exited.value.code == 2


def test_disable_refuses_logins_and_revokes_tokens_then_enable(
    served: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, url = served
    status, body = _login(url, "clean", "clean1234")
    assert status == 200
    token = body["access_token"]

    code, _, err = _users(["disable", "clean"], db, capsys)
    assert code == 0 and err.strip() == "clean disabled, 1 token(s) revoked"
    assert _get(url, "/v1/me", token)[0] == 401
    assert _login(url, "clean", "clean1234")[0] == 401
    with pytest.raises(LookupError):
        embedded.mint_token(f"sqlite:///{db}", "clean")
    code, out, _ = _users(["list", "--json"], db, capsys)
    assert {"username": "clean", "enabled": False}.items() <= next(
        json.loads(line) for line in out.splitlines() if '"clean"' in line
    ).items()
    assert _users(["disable", "clean"], db, capsys)[2].strip() == "clean disabled (it was already)"

    code, _, err = _users(["enable", "clean"], db, capsys)
    assert code == 0 and err.strip() == "clean enabled"
    assert _login(url, "clean", "clean1234")[0] == 200


def test_reset_otp_gives_a_new_secret_that_logs_in(
    served: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, url = served
    code, out, _ = _users(["reset-otp", "clean"], db, capsys)
    assert code == 0
    secret_line, uri = out.splitlines()
    secret = secret_line.removeprefix("one-time code secret: ")
    assert uri == f"otpauth://totp/moncompte%3Aclean?secret={secret}&issuer=moncompte"
    status, body = _login(url, "clean", "clean1234")
    assert status == 401 and body["code"] == "otp_required"
    assert _login(url, "clean", "clean1234", otp=totp_now(secret))[0] == 200


def test_add_staff_with_a_one_time_code(
    served: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, url = served
    code, out, _ = _users(
        ["add", "bruno", "--staff", "--password-stdin", "--otp"], db, capsys,
        stdin="un mot de passe long",
    )  # fmt: skip
    assert code == 0
    secret = out.splitlines()[0].removeprefix("one-time code secret: ")
    assert _login(url, "bruno", "un mot de passe long")[0] == 401
    status, body = _login(url, "bruno", "un mot de passe long", otp=totp_now(secret))
    assert status == 200
    status, me = _get(url, "/v1/me", body["access_token"])
    assert status == 200 and me["scope"] == "staff"
