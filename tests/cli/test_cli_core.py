"""The CLI core in-process against the real sandbox server: auth, api, exit codes, secrets."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cli.app import main
from cli.context import Env
from cli.credentials import Tokens
from cli.http import ApiClient

ROOT = Path(__file__).resolve().parents[2]
NO_TOKEN: dict[str, Any] = {"MONCOMPTE_TOKEN": None}


def _db_path(database_url: str) -> str:
    return database_url.removeprefix("sqlite:///")


def _mint(sandbox: Any, username: str = "demo") -> str:
    from server import embedded

    return str(embedded.mint_token(sandbox.database_url, username))


def _no_secret(result: Any, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr


# --- auth --------------------------------------------------------------------------------------


def test_whoami_with_env_token(run_cli: Any, sandbox: Any) -> None:
    result = run_cli("whoami", "-o", "json")
    assert result.exit_code == 0, result.stderr
    me = result.json
    assert me["username"] == "demo" and me["scope"] == "customer"
    assert me["credential_store"] == "environment MONCOMPTE_TOKEN"
    assert me["api_url"] == sandbox.url and me["customer_number"]
    _no_secret(result, sandbox.customer_token)


def test_login_with_token_then_whoami_then_logout(
    run_cli: Any, sandbox: Any, tmp_path: Path
) -> None:
    token = _mint(sandbox)
    result = run_cli(
        "login", "--with-token", "--insecure-storage", stdin=token + "\n", env_vars=NO_TOKEN
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "logged in to 127.0.0.1" in result.stderr and "as demo" in result.stderr
    assert "credentials-default.json (insecure)" in result.stderr
    assert "warning: the token is stored in a plain file" in result.stderr
    _no_secret(result, token)

    # the profile now remembers the server: no MONCOMPTE_API_URL needed
    result = run_cli(
        "whoami", "-o", "json", env_vars={"MONCOMPTE_TOKEN": None, "MONCOMPTE_API_URL": None}
    )
    assert result.exit_code == 0, result.stderr
    assert result.json["username"] == "demo"
    assert result.json["credential_store"].startswith("file ")
    assert result.json["credential_store"].endswith("(insecure)")
    assert result.json["api_url"] == sandbox.url
    assert "sandbox:" not in result.stderr

    result = run_cli("logout", env_vars=NO_TOKEN)
    assert result.exit_code == 0, result.stderr
    assert "logged out" in result.stderr
    result = run_cli("whoami", env_vars=NO_TOKEN)
    assert result.exit_code == 3
    assert result.stderr.startswith("error: not logged in")
    # the token was revoked on the server too
    result = run_cli("whoami", env_vars={"MONCOMPTE_TOKEN": token})
    assert result.exit_code == 3
    _no_secret(result, token)


def test_password_login_stores_a_refreshable_token_and_logs_no_secret(
    run_cli: Any, sandbox: Any
) -> None:
    result = run_cli(
        "-v",
        "login",
        "--username",
        "clean",
        "--password-stdin",
        "--insecure-storage",
        stdin="clean1234\n",
        env_vars=NO_TOKEN,
    )
    assert result.exit_code == 0, result.stderr
    assert "debug: > POST" in result.stderr and "/v1/auth/token" in result.stderr
    config_dir = Path(os.environ["MONCOMPTE_CONFIG_DIR"])
    stored = Tokens.from_mapping(json.loads((config_dir / "credentials-default.json").read_text()))
    assert stored.refresh_token and stored.expires_at and stored.scope == "customer"
    _no_secret(result, "clean1234", stored.access_token, stored.refresh_token)

    result = run_cli("-v", "whoami", env_vars=NO_TOKEN)
    assert result.exit_code == 0
    assert "username:" in result.stdout and "clean" in result.stdout
    assert "debug: < 200 GET /v1/me" in result.stderr
    _no_secret(result, stored.access_token, stored.refresh_token, "Authorization")


def test_login_needs_a_usable_keyring_unless_insecure(run_cli: Any) -> None:
    # conftest selects keyring's "fail" backend: no keyring on this machine
    result = run_cli("login", "--with-token", stdin="whatever-token", env_vars=NO_TOKEN)
    assert result.exit_code == 3
    assert "no usable keyring" in result.stderr and "--insecure-storage" in result.stderr


def test_login_refusals(run_cli: Any, fresh_sandbox: Any) -> None:
    env = {"MONCOMPTE_TOKEN": None, "MONCOMPTE_API_URL": fresh_sandbox.url}
    wrong = run_cli(
        "login",
        "-u",
        "demo",
        "--password-stdin",
        "--insecure-storage",
        stdin="not-the-password\n",
        env_vars=env,
    )
    assert wrong.exit_code == 3
    assert wrong.stderr.startswith("error: login refused: wrong username or password")
    _no_secret(wrong, "not-the-password")

    # staff needs a one-time code: without a terminal we name the flag
    staff = run_cli(
        "login",
        "-u",
        "agent",
        "--password-stdin",
        "--insecure-storage",
        stdin="agent1234\n",
        env_vars=env,
    )
    assert staff.exit_code == 2
    assert "one-time code" in staff.stderr and "--otp CODE" in staff.stderr
    _no_secret(staff, "agent1234")

    from server import embedded

    code = embedded.current_otp("agent", fresh_sandbox.database_url)
    staff = run_cli(
        "login",
        "-u",
        "agent",
        "--password-stdin",
        "--otp",
        code,
        "--insecure-storage",
        stdin="agent1234\n",
        env_vars=env,
    )
    assert staff.exit_code == 0, staff.stderr
    assert "(staff)" in staff.stderr
    whoami = run_cli("whoami", "-o", "json", env_vars=env)
    assert whoami.json["scope"] == "staff"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _tty_env(stdin: str, environ: dict[str, str]) -> Env:
    return Env(stdin=_Tty(stdin), stdout=_Tty(), stderr=_Tty(), environ=environ)


def test_login_prompts_on_a_terminal(fresh_sandbox: Any, tmp_path: Path) -> None:
    environ = {"MONCOMPTE_API_URL": fresh_sandbox.url, "MONCOMPTE_CONFIG_DIR": str(tmp_path)}
    env = _tty_env("demo\ndemo1234\n", environ)
    assert main(["login", "--insecure-storage"], env) == 0
    err = env.stderr.getvalue()  # type: ignore[attr-defined]
    assert "Username: Password: " in err and "demo1234" not in err
    assert (tmp_path / "credentials-default.json").exists()

    # the one-time code is asked for too, when the server wants one
    from server import embedded

    code = embedded.current_otp("agent", fresh_sandbox.database_url)
    env = _tty_env(f"agent\nagent1234\n{code}\n", {**environ, "MONCOMPTE_PROFILE": "staff"})
    assert main(["login", "--insecure-storage"], env) == 0
    assert "One-time code: " in env.stderr.getvalue()  # type: ignore[attr-defined]

    # end of input at a prompt (Ctrl-D) aborts like Ctrl-C
    env = _tty_env("", environ)
    assert main(["login", "-u", "demo", "--insecure-storage"], env) == 130
    assert env.stderr.getvalue().endswith("interrupted\n")  # type: ignore[attr-defined]


def test_bad_token_exit_3(run_cli: Any) -> None:
    result = run_cli("whoami", env_vars={"MONCOMPTE_TOKEN": "garbage-token-123456"})
    assert result.exit_code == 3
    assert result.stderr.startswith("error: not authenticated")
    assert "hint: " in result.stderr
    _no_secret(result, "garbage-token-123456")


def test_token_file(run_cli: Any, sandbox: Any, tmp_path: Path) -> None:
    path = tmp_path / "tok"
    path.write_text(f"\n  {sandbox.staff_token}\n")
    result = run_cli("whoami", "-o", "json", "--token-file", str(path), env_vars=NO_TOKEN)
    assert result.exit_code == 0, result.stderr
    assert result.json["scope"] == "staff"
    assert result.json["credential_store"] == f"token file {path}"


# --- api and exit codes ------------------------------------------------------------------------


def test_api_get_prints_json(run_cli: Any) -> None:
    result = run_cli("api", "GET", "/v1/invoices", "-f", "limit=2")
    assert result.exit_code == 0, result.stderr
    assert len(result.json["items"]) == 2 and "next_cursor" in result.json


def test_api_unknown_resource_exit_4(run_cli: Any) -> None:
    result = run_cli("api", "GET", "/v1/invoices/NOPE")
    assert result.exit_code == 4
    assert result.json["code"] == "not_found"  # the problem body for scripts
    assert result.stderr.startswith("error: not found")


def test_api_rule_refusal_exit_5(run_cli: Any) -> None:
    result = run_cli(
        "api",
        "POST",
        "/v1/claims",
        "-f",
        "category=order_not_received",
        "-f",
        "subject=Colis",
        "-f",
        "message=Jamais reçu",
        "-F",
        "merchant_contacted=false",
    )
    assert result.exit_code == 5, result.stderr
    assert result.json["rule"]
    assert result.json["rule"] in result.stderr.splitlines()[0]


def test_api_invalid_input_exit_2(run_cli: Any) -> None:
    result = run_cli("api", "POST", "/v1/claims", "--input", "-", stdin='{"bogus": 1}')
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid request")


def test_api_mutation_replayed_with_the_same_key(run_cli: Any, fresh_sandbox: Any) -> None:
    env = {"MONCOMPTE_API_URL": fresh_sandbox.url, "MONCOMPTE_TOKEN": fresh_sandbox.customer_token}
    args = (
        "api",
        "POST",
        "/v1/claims",
        "-f",
        "category=billing",
        "-f",
        "subject=Double",
        "-f",
        "message=Facture en double",
        "--idempotency-key",
        "test-key-0001",
    )
    first, second = run_cli(*args, env_vars=env), run_cli(*args, env_vars=env)
    assert first.exit_code == second.exit_code == 0, first.stderr
    assert first.json["id"] == second.json["id"]


def test_server_down_exit_6_quickly(run_cli: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    result = run_cli(
        "whoami", "--timeout", "0.5", env_vars={"MONCOMPTE_API_URL": f"http://127.0.0.1:{port}"}
    )
    assert result.exit_code == 6
    assert result.stderr.startswith(f"error: cannot connect to 127.0.0.1:{port}")
    assert time.monotonic() - started < 0.5 + 1.4 + 1.5  # timeout + backoff budget + slack


def test_paginate_against_the_real_server(sandbox: Any) -> None:
    with ApiClient(sandbox.url) as client:
        client.use_tokens(Tokens(sandbox.customer_token))
        everything = client.get("/v1/invoices", {"limit": 500, "status": "all"})["items"]
        paged = list(client.paginate("/v1/invoices", {"status": "all"}, limit=3))
    assert len(everything) > 3
    assert [i["id"] for i in paged] == [i["id"] for i in everything]


# --- the embedded sandbox ----------------------------------------------------------------------


def test_embedded_sandbox_by_default(run_cli: Any, tmp_path: Path) -> None:
    env = {
        "MONCOMPTE_TOKEN": None,
        "MONCOMPTE_API_URL": None,
        "MONCOMPTE_SANDBOX_DB": str(tmp_path / "embedded.db"),
    }
    result = run_cli("whoami", "-o", "json", env_vars=env)
    assert result.exit_code == 0, result.stderr
    assert result.json["username"] == "demo"
    assert result.json["credential_store"].startswith("sandbox")
    assert result.stderr == "sandbox: demo data — moncompte login to use a real account\n"
    quiet = run_cli("-q", "whoami", env_vars=env)
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_sandbox_token_status_and_reset(run_cli: Any, sandbox: Any, tmp_path: Path) -> None:
    db = _db_path(sandbox.database_url)
    token = run_cli("sandbox", "token", "--staff", "--db", db)
    assert token.exit_code == 0, token.stderr
    staff = token.stdout.strip()
    customers = run_cli("api", "GET", "/v1/customers", env_vars={"MONCOMPTE_TOKEN": staff})
    assert customers.exit_code == 0 and customers.json["items"]

    status = run_cli("sandbox", "status", "--db", db, "-o", "json")
    assert status.exit_code == 0
    assert status.json["seeded"] is True and status.json["customers"] >= 2

    fresh = tmp_path / "fresh.db"
    assert run_cli("sandbox", "reset", "--db", str(fresh)).exit_code == 0
    assert run_cli("sandbox", "status", "--db", str(fresh), "-o", "json").json["seeded"]


def test_sandbox_serve_until_ctrl_c(tmp_path: Path) -> None:
    env = {**os.environ, "MONCOMPTE_CONFIG_DIR": str(tmp_path), "MONCOMPTE_TODAY": "2026-11-24"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.app",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--db",
            str(tmp_path / "serve.db"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        url = ""
        deadline = time.monotonic() + 30
        while not url.startswith("http") and time.monotonic() < deadline:
            url = proc.stderr.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        result = subprocess.run(
            [sys.executable, "-m", "cli.app", "api", "GET", "/v1/status", "--api-url", url],
            cwd=ROOT,
            env={**env, "MONCOMPTE_TOKEN": "x" * 20},
            capture_output=True,
            text=True,
        )
        assert json.loads(result.stdout)["status"] in ("ok", "maintenance")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("args", [("api", "GET", "/v1/invoices/NOPE"), ("whoami",)])
def test_verbose_never_shows_the_token(run_cli: Any, sandbox: Any, args: tuple[str, ...]) -> None:
    result = run_cli("-v", *args)
    assert "debug: > GET" in result.stderr
    _no_secret(result, sandbox.customer_token, "Bearer ")
