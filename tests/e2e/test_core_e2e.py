"""The installed `moncompte` binary, in a subprocess, for what every command relies on:
--version, --help, login/whoami/logout, no prompt without a terminal, exit 6 when the
server is down, machine formats that round-trip, and no ANSI escapes unless wanted.

No terminal unless a test makes one: stdin is /dev/null and stdout a pipe, as in CI. The
OS keyring is switched off here (tests/conftest.py); tests/keyring covers the real one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli import __version__
from cli.app import COMMANDS
from tests.conftest import TODAY

BINARY = shutil.which("moncompte", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(BINARY is None, reason="moncompte is not installed in this venv")

ANSI = "\x1b["
GLOBAL_OPTIONS = (
    "--output",
    "--profile",
    "--api-url",
    "--timeout",
    "--columns",
    "--token-file",
    "--no-color",
    "--quiet",
    "--verbose",
    "--version",
)


def environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test process's environment less anything that would steer the CLI, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MONCOMPTE_", "LC_", "LANG", "NO_COLOR", "TERM", "COLUMNS"))
        and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    }
    env.update(
        MONCOMPTE_CONFIG_DIR=str(tmp_path / "config"),
        MONCOMPTE_TODAY=TODAY.isoformat(),
        LANG="C.UTF-8",
    )
    env.update(extra)
    return env  # XDG_* and PYTHON_KEYRING_BACKEND come from the autouse fixture


def run(
    args: list[str], env: dict[str, str], *, stdin: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    assert BINARY is not None
    with open(stdin or os.devnull, "rb") as fh:
        return subprocess.run(
            [BINARY, *args],
            stdin=fh,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def mint(sandbox: Any, tmp_path: Path, username: str = "demo") -> Path:
    """A token of its own for `username`, written to a file (logout revokes it)."""
    env = environ(tmp_path)
    url = str(sandbox.database_url)
    if url.startswith("sqlite:///"):  # the binary's own way
        token = ok(run(["sandbox", "token", "--username", username, "--db", url[10:]], env))
    else:  # a sandbox on PostgreSQL: `sandbox token` only knows SQLite files
        result = subprocess.run(
            [sys.executable, "-m", "server", "token", username, "--database-url", url],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        token = ok(result)
    path = tmp_path / f"token-{username}.txt"
    path.write_text(token)
    assert token.strip().startswith("mc_")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- version and help ------------------------------------------------------------------------


def test_version(tmp_path: Path) -> None:
    env = environ(tmp_path)
    for args in (["--version"], ["whoami", "--version"], ["-o", "json", "--version"]):
        result = run(args, env)
        assert (result.returncode, result.stdout, result.stderr) == (
            0,
            f"moncompte {__version__}\n",
            "",
        )


@pytest.mark.parametrize("args", [["--help"], ["-h"], [], ["--help", "whoami"]])
def test_help_lists_commands_and_global_options(tmp_path: Path, args: list[str]) -> None:
    result = run(args, environ(tmp_path))
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("Usage: moncompte [OPTIONS] COMMAND [ARGS]...")
    for entry in COMMANDS:
        assert f"  {entry.name} " in result.stdout, entry.name
    for option in GLOBAL_OPTIONS:
        assert option in result.stdout, option
    assert "Exit codes:" in result.stdout


def test_command_help_and_usage_errors(tmp_path: Path) -> None:
    env = environ(tmp_path)
    help_ = run(["login", "--help"], env)
    assert help_.returncode == 0
    for flag in ("--with-token", "--password-stdin", "--insecure-storage"):
        assert flag in help_.stdout
    wrong = run(["login", "--no-such-flag"], env)
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert wrong.stderr.startswith("error: no such option: --no-such-flag")
    assert "Traceback" not in wrong.stderr
    unknown = run(["-o", "xml", "whoami"], env)
    assert unknown.returncode == 2 and "invalid output format 'xml'" in unknown.stderr


# --- login, whoami, logout ----------------------------------------------------------------------


def test_login_insecure_storage_then_whoami_then_logout(sandbox: Any, tmp_path: Path) -> None:
    token_file = mint(sandbox, tmp_path)
    token = token_file.read_text().strip()
    env = environ(tmp_path)
    login = run(
        ["login", "--api-url", sandbox.url, "--with-token", "--insecure-storage"],
        env,
        stdin=token_file,
    )
    assert login.returncode == 0, login.stderr
    assert login.stdout == ""  # stdout is data; login has none
    assert "warning: the token is stored in a plain file" in login.stderr
    assert token not in login.stderr

    credentials = tmp_path / "config" / "credentials-default.json"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert json.loads(credentials.read_text())["access_token"] == token
    assert 'credential_store = "file"' in (tmp_path / "config" / "config.toml").read_text()

    # No MONCOMPTE_API_URL or MONCOMPTE_TOKEN: the profile remembers the server and the store.
    me = json.loads(ok(run(["whoami", "-o", "json"], env)))
    assert me["username"] == "demo" and me["scope"] == "customer"
    assert me["api_url"] == sandbox.url and me["profile"] == "default"
    assert me["credential_store"] == f"file {credentials} (insecure)"

    logout = run(["logout"], env)
    assert logout.returncode == 0, logout.stderr
    assert not credentials.exists()
    again = run(["whoami"], env)
    assert again.returncode == 3 and again.stderr.startswith("error: not logged in")
    # Revoked on the server, too.
    revoked = run(["whoami"], {**env, "MONCOMPTE_TOKEN": token})
    assert revoked.returncode == 3


def test_login_without_a_usable_keyring_fails_unless_insecure(sandbox: Any, tmp_path: Path) -> None:
    token_file = mint(sandbox, tmp_path)
    result = run(
        ["login", "--api-url", sandbox.url, "--with-token"], environ(tmp_path), stdin=token_file
    )
    assert result.returncode == 3
    assert "no usable keyring" in result.stderr and "--insecure-storage" in result.stderr
    assert not (tmp_path / "config" / "credentials-default.json").exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "no username given"),
        (["--username", "demo"], "no terminal to ask for the password"),
    ],
)
def test_login_without_a_terminal_names_the_flags(
    sandbox: Any, tmp_path: Path, args: list[str], says: str
) -> None:
    result = run(["login", "--api-url", sandbox.url, *args], environ(tmp_path), timeout=20)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: {says}")
    assert "--password-stdin" in result.stderr and "--with-token" in result.stderr
    assert result.stdout == ""


def test_login_with_token_against_sandbox_serve(tmp_path: Path) -> None:
    """The issue's smoke test: `sandbox serve`, then `login --with-token < token.txt`."""
    db = tmp_path / "serve.db"
    env = environ(tmp_path)
    assert BINARY is not None
    server = subprocess.Popen(
        [BINARY, "sandbox", "serve", "--port", "0", "--db", str(db)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = _served_url(server)
        token_file = tmp_path / "token.txt"
        token_file.write_text(ok(run(["sandbox", "token", "--db", str(db)], env)))
        login = run(
            ["login", "--api-url", url, "--with-token", "--insecure-storage"], env, stdin=token_file
        )
        assert login.returncode == 0, login.stderr
        me = json.loads(ok(run(["whoami", "-o", "json"], env)))
        assert me["username"] == "demo" and me["api_url"] == url
        assert me["credential_store"].endswith("(insecure)")
    finally:
        server.terminate()
        server.wait(timeout=15)


def _served_url(server: subprocess.Popen[str]) -> str:
    assert server.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = server.stderr.readline()
        if not line and server.poll() is not None:
            raise AssertionError(f"sandbox serve exited with {server.returncode}")
        if line.startswith("http://"):
            return line.strip()
    raise AssertionError("sandbox serve printed no URL within 30 s")


# --- network failures ----------------------------------------------------------------------


def test_server_down_is_exit_6_within_timeout_and_retries(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there: connection refused at once
    env = environ(tmp_path, MONCOMPTE_TOKEN="x" * 24)
    started = time.monotonic()
    result = run(["whoami", "--timeout", "0.5", "--api-url", f"http://127.0.0.1:{port}"], env)
    elapsed = time.monotonic() - started
    assert result.returncode == 6, result.stderr
    assert result.stderr.startswith(f"error: cannot connect to 127.0.0.1:{port}")
    assert "Traceback" not in result.stderr and result.stdout == ""
    # 3 retries with full jitter: at most 0.2 + 0.4 + 0.8 s of waiting, plus start-up.
    assert elapsed < 1.4 + 3.0, elapsed


@pytest.fixture()
def silent_server() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield int(s.getsockname()[1])


def test_server_that_never_answers_is_exit_6_within_timeout_and_retries(
    tmp_path: Path, silent_server: int
) -> None:
    env = environ(tmp_path, MONCOMPTE_TOKEN="x" * 24)
    started = time.monotonic()
    result = run(
        ["whoami", "--timeout", "0.4", "--api-url", f"http://127.0.0.1:{silent_server}"], env
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 6, result.stderr
    assert result.stderr.startswith(f"error: timed out talking to 127.0.0.1:{silent_server}")
    # 4 attempts of 0.4 s, at most 1.4 s of backoff, plus start-up.
    assert elapsed < 4 * 0.4 + 1.4 + 3.0, elapsed


@pytest.fixture()
def fake_proxy() -> Iterator[tuple[int, list[str]]]:
    """An HTTP proxy that answers every request itself: (port, request lines it saw)."""
    seen: list[str] = []
    body = json.dumps({"username": "via-proxy", "scope": "customer", "customer": None}).encode()
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                seen.append(data.split(b"\r\n", 1)[0].decode())
                conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1]), seen
    finally:
        listener.close()


def test_a_proxy_from_the_environment_is_still_used_for_loopback(
    tmp_path: Path, fake_proxy: tuple[int, list[str]]
) -> None:
    """http:// clients skip the CA bundle only when no proxy is set (cli/http.py)."""
    port, seen = fake_proxy
    target = f"http://127.0.0.1:{free_port()}"
    env = environ(tmp_path, MONCOMPTE_TOKEN="x" * 24, HTTP_PROXY=f"http://127.0.0.1:{port}")
    me = json.loads(ok(run(["whoami", "-o", "json", "--api-url", target], env)))
    assert me["username"] == "via-proxy"
    assert seen == [f"GET {target}/v1/me HTTP/1.1"]


# --- machine formats ------------------------------------------------------------------------


def _csv_rows(text: str, sep: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter=sep))


def _as_text(value: Any) -> str:
    """What CSV/TSV write for a JSON value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _round_trips(args: list[str], env: dict[str, str]) -> list[dict[str, Any]]:
    """The rows of `args` in json; ndjson, csv and tsv must say the same."""
    as_json = json.loads(ok(run([*args, "-o", "json"], env)))
    rows = as_json if isinstance(as_json, list) else [as_json]
    ndjson = [json.loads(line) for line in ok(run([*args, "-o", "ndjson"], env)).splitlines()]
    assert ndjson == rows
    for fmt, sep in (("csv", ","), ("tsv", "\t")):
        text = ok(run([*args, "-o", fmt], env))
        assert text.splitlines()[0].split(sep) == list(rows[0])  # header: the JSON keys, in order
        assert _csv_rows(text, sep) == [{k: _as_text(v) for k, v in r.items()} for r in rows]
    return rows


def test_formats_round_trip_whoami(sandbox: Any, tmp_path: Path) -> None:
    env = environ(tmp_path, MONCOMPTE_API_URL=sandbox.url, MONCOMPTE_TOKEN=sandbox.customer_token)
    [me] = _round_trips(["whoami"], env)
    assert me["username"] == "demo" and me["name"]
    api = json.loads(ok(run(["api", "GET", "/v1/me"], env)))
    assert api["username"] == me["username"]
    assert api["customer"]["customer_number"] == me["customer_number"]


def test_formats_round_trip_many_rows(sandbox: Any, tmp_path: Path) -> None:
    env = environ(tmp_path)
    for profile, url in (("work", "https://api.example"), ("staging", sandbox.url)):
        ok(run(["config", "set", "api_url", url, "--profile", profile], env))
    ok(run(["--profile", "work", "config", "set", "username", 'jean, dit "jeannot"'], env))
    rows = _round_trips(["config", "profiles"], env)
    assert [r["profile"] for r in rows] == ["default", "staging", "work"]
    assert rows[0]["current"] is True and rows[2]["username"] == 'jean, dit "jeannot"'
    # A table of the same rows, piped: plain text, one line per row after the header.
    table = ok(run(["config", "profiles"], env)).splitlines()
    assert table[0].split() == list(rows[0]) and len(table) == 1 + len(rows)


# --- colour -------------------------------------------------------------------------------------


def test_piped_output_has_no_ansi_escapes(sandbox: Any, tmp_path: Path) -> None:
    env = environ(
        tmp_path,
        MONCOMPTE_API_URL=sandbox.url,
        MONCOMPTE_TOKEN=sandbox.customer_token,
        TERM="xterm-256color",
        FORCE_COLOR="1",  # rich's own override: ours decides, from stdout being a pipe
    )
    for args in (
        ["whoami"],
        ["config", "list"],
        ["--help"],
        ["api", "GET", "/v1/nope"],
        ["-v", "whoami"],
    ):
        result = run(args, env)
        assert ANSI not in result.stdout and ANSI not in result.stderr, (args, result)


def _on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run with stdout on a pseudo-terminal; return the exit code and what it showed."""
    assert BINARY is not None
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [BINARY, *args],
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=subprocess.PIPE,
            env={**env, "COLUMNS": "100"},
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(timeout=60)
        assert proc.stderr is not None
        proc.stderr.close()
        return code, b"".join(chunks).decode()
    finally:
        os.close(leader)


def test_colour_on_a_terminal_only_unless_switched_off(sandbox: Any, tmp_path: Path) -> None:
    env = environ(
        tmp_path,
        MONCOMPTE_API_URL=sandbox.url,
        MONCOMPTE_TOKEN=sandbox.customer_token,
        TERM="xterm-256color",
    )
    code, shown = _on_a_terminal(["whoami"], env)
    assert code == 0 and "Claire Dubois" in shown
    assert ANSI in shown  # the check below can see escapes when there are some
    for args, extra in (
        (["whoami"], {"NO_COLOR": "1"}),
        (["--no-color", "whoami"], {}),
        (["whoami", "--no-color"], {}),
        (["whoami"], {"TERM": "dumb"}),
    ):
        code, shown = _on_a_terminal(args, {**env, **extra})
        assert code == 0 and "Claire Dubois" in shown
        assert ANSI not in shown, (args, extra, shown)


# --- start-up: what a run imports ------------------------------------------------------------


def test_version_imports_nothing_but_the_entry_point() -> None:
    """`--version` answers before importing Typer, typing or dataclasses (bench/README.md)."""
    code = (
        "import io, sys; before = set(sys.modules); from cli.app import main; "
        "main(['--version'], streams=(io.StringIO(),) * 3); "
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["cli", "cli.app"]


def test_whoami_imports_no_pydantic_click_rich_or_keyring(sandbox: Any, tmp_path: Path) -> None:
    """The start-up budget (bench/README.md): Typer's pydantic coercion, httpx's own CLI
    (click, rich, pygments), keyring and the server stay out of `whoami -o json`."""
    code = """
import sys
from cli.app import main
rc = main(["whoami", "-o", "json"])
heavy = {"pydantic", "click", "rich", "pygments", "keyring", "server", "uvicorn", "sqlalchemy"}
loaded = sorted(heavy & {name.split(".")[0] for name in sys.modules})
sys.stderr.write(f"loaded: {loaded}\\n")
sys.exit(rc)
"""
    env = environ(tmp_path, MONCOMPTE_API_URL=sandbox.url, MONCOMPTE_TOKEN=sandbox.customer_token)
    result = subprocess.run(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["username"] == "demo"
    assert result.stderr.endswith("loaded: []\n"), result.stderr
