"""The background sandbox: started once, found again, guarded by its secret, restarted when
stale, stopped when idle or asked, and reset while it runs; the in-process mode still works.

Every test runs the CLI in-process with no API configured, over a sandbox database of its
own; the servers it starts are real `python -m server background` processes (the
autouse fixture of tests/conftest.py stops them).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli import __version__
from cli.sandbox.background import SECRET_HEADER, Launcher, State, pid_alive

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX process handling")


@pytest.fixture()
def default_path(tmp_path: Path) -> dict[str, Any]:
    """No API, no token: the embedded default, over a database of this test."""
    return {
        "MONCOMPTE_TOKEN": None,
        "MONCOMPTE_API_URL": None,
        "MONCOMPTE_SANDBOX_DB": str(tmp_path / "sandbox.db"),
    }


def _state_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "xdg-state" / "moncompte" / "sandbox").glob("*.json"))


def _state(tmp_path: Path) -> State:
    files = _state_files(tmp_path)
    assert len(files) == 1, files
    state = State.read(files[0])
    assert state is not None
    return state


def _wait_dead(pid: int, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # our child: reap it, or it stays a zombie
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_first_command_starts_it_and_the_next_ones_reuse_it(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path
) -> None:
    first = run_cli("invoices", "-o", "json", env_vars=default_path)
    assert first.exit_code == 0, first.stderr
    assert first.stderr == "sandbox: demo data — moncompte login to use a real account\n"
    assert {row["contract_id"] for row in first.json} >= {"CT-0000001"}

    state_file = _state_files(tmp_path)[0]
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    raw = json.loads(state_file.read_text())
    assert {"pid", "url", "version", "database", "secret", "idle_timeout"} <= raw.keys()
    state = _state(tmp_path)
    assert state.version == __version__
    assert state.url.startswith("http://127.0.0.1:")
    assert state.database == f"sqlite:///{(tmp_path / 'sandbox.db').resolve()}"
    assert state.idle_timeout == 900 and state.today == "2026-11-24"
    assert pid_alive(state.pid) and state.pid != os.getpid()

    second = run_cli("invoices", "-o", "json", env_vars=default_path)
    assert second.exit_code == 0 and second.json == first.json
    assert _state(tmp_path).pid == state.pid  # the same server

    status = run_cli("sandbox", "status", "-o", "json", env_vars=default_path)
    assert status.exit_code == 0, status.stderr
    assert status.json["running"] is True and status.json["pid"] == state.pid
    assert status.json["url"] == state.url and status.json["mode"] == "background"
    assert state.secret not in status.stdout + status.stderr


def test_only_the_secret_opens_it(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path
) -> None:
    assert run_cli("whoami", env_vars=default_path).exit_code == 0
    state = _state(tmp_path)
    refused = httpx.get(f"{state.url}/v1/status", trust_env=False)
    assert refused.status_code == 403
    assert refused.json()["code"] == "sandbox_secret"
    wrong = httpx.get(f"{state.url}/v1/status", headers={SECRET_HEADER: "x"}, trust_env=False)
    assert wrong.status_code == 403
    token = httpx.post(f"{state.url}/_sandbox/token", json={"username": "agent"}, trust_env=False)
    assert token.status_code == 403
    opened = httpx.get(
        f"{state.url}/v1/status", headers={SECRET_HEADER: state.secret}, trust_env=False
    )
    assert opened.status_code == 200 and opened.json()["terms_version"]


def test_a_dead_pid_in_the_state_file_is_replaced(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path
) -> None:
    assert run_cli("whoami", env_vars=default_path).exit_code == 0
    state_file = _state_files(tmp_path)[0]
    old = _state(tmp_path)
    os.kill(old.pid, signal.SIGKILL)  # a crash: the state file stays behind
    assert _wait_dead(old.pid)
    assert state_file.exists()

    again = run_cli("contracts", "-o", "json", env_vars=default_path)
    assert again.exit_code == 0, again.stderr
    new = _state(tmp_path)
    assert new.pid != old.pid and pid_alive(new.pid) and new.secret != old.secret


class _Other(http.server.BaseHTTPRequestHandler):
    """Another program on the port the state file names: it answers, but not as us."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer()

    def do_POST(self) -> None:  # noqa: N802
        self._answer()

    def _answer(self) -> None:
        body = b"<html>someone else</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def other_program() -> Iterator[http.server.HTTPServer]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Other)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_port_taken_by_another_program_is_left_alone(
    run_cli: Any,
    default_path: dict[str, Any],
    tmp_path: Path,
    other_program: http.server.HTTPServer,
) -> None:
    launcher = Launcher(os.environ, tmp_path / "sandbox.db", today="2026-11-24")
    port = other_program.server_address[1]
    # A state file whose pid is alive (this test process) and whose port is another
    # program's: as after a crash, once both the pid and the port were given away.
    launcher.state_path.parent.mkdir(parents=True)
    launcher.state_path.write_text(
        json.dumps(
            {
                "pid": os.getpid(),
                "url": f"http://127.0.0.1:{port}",
                "version": __version__,
                "database": f"sqlite:///{launcher.database}",
                "today": "2026-11-24",
                "idle_timeout": 900,
                "started_at": "2026-11-24T08:00:00+00:00",
                "secret": "old",
            }
        )
    )
    result = run_cli("invoices", "-o", "json", env_vars=default_path)
    assert result.exit_code == 0, result.stderr
    new = _state(tmp_path)
    assert new.pid != os.getpid() and not new.url.endswith(f":{port}")
    # The other program was neither stopped nor signalled.
    assert httpx.get(f"http://127.0.0.1:{port}/", trust_env=False).status_code == 200


def test_a_server_of_another_version_is_stopped_and_replaced(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path
) -> None:
    assert run_cli("whoami", env_vars=default_path).exit_code == 0
    state_file = _state_files(tmp_path)[0]
    old = _state(tmp_path)
    raw = json.loads(state_file.read_text())
    raw["version"] = "0.0.1"  # as if moncompte was upgraded since it started
    state_file.write_text(json.dumps(raw))

    result = run_cli("whoami", "-o", "json", env_vars=default_path)
    assert result.exit_code == 0, result.stderr
    assert _wait_dead(old.pid)
    new = _state(tmp_path)
    assert new.pid != old.pid and new.version == __version__


def test_a_different_pinned_date_gets_its_own_server(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path
) -> None:
    assert run_cli("whoami", env_vars=default_path).exit_code == 0
    old = _state(tmp_path)
    later = run_cli("whoami", env_vars={**default_path, "MONCOMPTE_TODAY": "2026-12-01"})
    assert later.exit_code == 0, later.stderr
    assert _wait_dead(old.pid)
    assert _state(tmp_path).today == "2026-12-01"


def test_it_stops_by_itself_when_idle(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path
) -> None:
    idle = {**default_path, "MONCOMPTE_SANDBOX_IDLE_TIMEOUT": "1"}
    assert run_cli("whoami", env_vars=idle).exit_code == 0
    state = _state(tmp_path)
    assert state.idle_timeout == 1
    assert _wait_dead(state.pid, seconds=20)
    assert _state_files(tmp_path) == []
    log = (tmp_path / "xdg-state" / "moncompte" / "sandbox").glob("*.log")
    assert "idle for 1 s, stopping" in next(log).read_text()


def test_stop_then_start_keeps_the_data(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path
) -> None:
    filed = run_cli(
        "claim", "new", "--contract", "CT-0000001", "--category", "technical",
        "--subject", "Coupure", "--message", "Plus de connexion depuis hier soir.", "-o", "json",
        env_vars=default_path,
    )  # fmt: skip
    assert filed.exit_code == 0, filed.stderr
    claim_id = filed.json["id"]
    pid = _state(tmp_path).pid

    stopped = run_cli("sandbox", "stop", env_vars=default_path)
    assert stopped.exit_code == 0
    assert f"sandbox stopped (pid {pid})" in stopped.stderr
    assert _wait_dead(pid) and _state_files(tmp_path) == []
    status = run_cli("sandbox", "status", "-o", "json", env_vars=default_path)
    assert status.json["running"] is False and status.json["pid"] is None
    again = run_cli("sandbox", "stop", env_vars=default_path)
    assert again.exit_code == 0 and "no sandbox server was running" in again.stderr

    started = run_cli("sandbox", "start", "-o", "json", env_vars=default_path)
    assert started.exit_code == 0, started.stderr
    assert "sandbox started" in started.stderr and started.json["running"] is True
    assert "already running" in run_cli("sandbox", "start", env_vars=default_path).stderr
    claims = run_cli("claim", "list", "-o", "json", env_vars=default_path)
    assert claim_id in {row["id"] for row in claims.json}


def test_killed_mid_command_is_a_clear_error_and_the_next_command_restarts_it(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.context import Env
    from cli.errors import NetworkError
    from tests.unit.cli.helpers import FakeStream

    for key, value in {**default_path, "MONCOMPTE_TODAY": "2026-11-24"}.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    env = Env(stdin=FakeStream(), stdout=FakeStream(), stderr=FakeStream(), environ=os.environ)
    client = env.api()  # the server is started and the command logged in
    assert client.get("/v1/me")["username"] == "demo"
    pid = _state(tmp_path).pid
    os.kill(pid, signal.SIGKILL)
    assert _wait_dead(pid)
    with pytest.raises(NetworkError) as failed:
        client.get("/v1/invoices")
    env.close()
    assert failed.value.exit_code == 6
    assert failed.value.message == f"the background sandbox server (pid {pid}) stopped answering"
    assert failed.value.hint is not None and "run the command again" in failed.value.hint
    assert _state_files(tmp_path) == []  # forgotten: the next command starts a new one

    result = run_cli("invoices", "-o", "json", env_vars=default_path)
    assert result.exit_code == 0, result.stderr
    assert _state(tmp_path).pid != pid


def test_reset_while_it_runs(run_cli: Any, default_path: dict[str, Any], tmp_path: Path) -> None:
    filed = run_cli(
        "claim", "new", "--contract", "CT-0000001", "--category", "billing",
        "--subject", "Facture", "--message", "Montant prélevé trop élevé.", "-o", "json",
        env_vars=default_path,
    )  # fmt: skip
    assert filed.exit_code == 0, filed.stderr
    pid = _state(tmp_path).pid
    reset = run_cli("sandbox", "reset", env_vars=default_path)
    assert reset.exit_code == 0, reset.stderr
    assert f"stopped the background sandbox (pid {pid}) to reset it" in reset.stderr
    assert _wait_dead(pid)
    claims = run_cli("claim", "list", "-o", "json", env_vars=default_path)
    assert claims.exit_code == 0, claims.stderr
    assert filed.json["id"] not in {row["id"] for row in claims.json}
    assert _state(tmp_path).pid != pid


def test_sandbox_token_starts_no_server_and_works_on_one(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path
) -> None:
    minted = run_cli("sandbox", "token", "--staff", env_vars=default_path)
    assert minted.exit_code == 0, minted.stderr
    token = minted.stdout.strip()
    assert token.startswith("mc_at_")
    assert _state_files(tmp_path) == []  # seeded the database, started nothing

    assert run_cli("sandbox", "start", env_vars=default_path).exit_code == 0
    state = _state(tmp_path)
    for key in (token, run_cli("sandbox", "token", "--staff", env_vars=default_path).stdout):
        answer = httpx.get(
            f"{state.url}/v1/me",
            headers={SECRET_HEADER: state.secret, "Authorization": f"Bearer {key.strip()}"},
            trust_env=False,
        )
        assert answer.status_code == 200 and answer.json()["scope"] == "staff"
    for running in (True, False):
        if not running:
            assert run_cli("sandbox", "stop", env_vars=default_path).exit_code == 0
        unknown = run_cli("sandbox", "token", "--username", "nobody", env_vars=default_path)
        assert unknown.exit_code == 2
        assert unknown.stderr.strip().endswith("error: no sandbox user named 'nobody'")


def test_inprocess_mode_leaves_no_process_behind(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path
) -> None:
    inprocess = {**default_path, "MONCOMPTE_SANDBOX": "inprocess"}
    result = run_cli("invoices", "-o", "json", env_vars=inprocess)
    assert result.exit_code == 0, result.stderr
    assert result.json
    assert _state_files(tmp_path) == []


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("MONCOMPTE_SANDBOX", "sometimes", "MONCOMPTE_SANDBOX='sometimes' is not a sandbox mode"),
        ("MONCOMPTE_SANDBOX_IDLE_TIMEOUT", "soon", "invalid idle timeout 'soon'"),
        ("MONCOMPTE_SANDBOX_IDLE_TIMEOUT", "0", "invalid idle timeout '0'"),
        ("MONCOMPTE_SANDBOX_IDLE_TIMEOUT", "9" * 400, "invalid idle timeout"),
    ],
)
def test_bad_settings_are_usage_errors(
    run_cli: Any,
    default_path: dict[str, Any],
    tmp_path: Path,
    var: str,
    value: str,
    message: str,
) -> None:
    result = run_cli("invoices", env_vars={**default_path, var: value})
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert _state_files(tmp_path) == []


def test_idle_timeout_units() -> None:
    from cli.sandbox.background import parse_idle_timeout

    assert parse_idle_timeout("90", "x") == 90
    assert parse_idle_timeout("15m", "x") == 900
    assert parse_idle_timeout(" 2H ", "x") == 7200
    assert parse_idle_timeout("0.5s", "x") == 0.5


def test_the_server_process_has_no_terminal_and_its_own_session(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path
) -> None:
    assert run_cli("whoami", env_vars=default_path).exit_code == 0
    pid = _state(tmp_path).pid
    # Its own session: a Ctrl-C in the terminal that started it does not reach it.
    assert os.getsid(pid) == pid != os.getsid(0)
    out = subprocess.run(
        ["ps", "-o", "tty=", "-p", str(pid)], capture_output=True, text=True, check=False
    ).stdout.strip()
    assert out in ("?", "")


def test_the_server_carries_the_version_of_the_cli_that_started_it(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the installed package's metadata (an editable install keeps the old one until
    reinstalled): the CLI's own version, so that one version never restarts its own."""
    import cli.sandbox.background as background

    monkeypatch.setattr(background, "__version__", "9.9.9")
    assert run_cli("whoami", env_vars=default_path).exit_code == 0
    first = _state(tmp_path)
    assert first.version == "9.9.9"
    assert run_cli("whoami", env_vars=default_path).exit_code == 0
    assert _state(tmp_path).pid == first.pid


def test_a_revoked_demo_token_is_replaced(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path
) -> None:
    """The server hands out the same token while it is valid; once revoked (here through
    the API itself), the next command gets a new one instead of a 401."""
    revoked = run_cli("api", "POST", "/v1/auth/revoke", env_vars=default_path)
    assert revoked.exit_code == 0, revoked.stderr
    again = run_cli("whoami", "-o", "json", env_vars=default_path)
    assert again.exit_code == 0, again.stderr
    assert again.json["username"] == "demo"


def test_a_database_path_under_a_file_is_one_clear_line(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    result = run_cli(
        "invoices", env_vars={**default_path, "MONCOMPTE_SANDBOX_DB": str(blocker / "s.db")}
    )
    assert result.exit_code == 1
    assert f"error: cannot create the sandbox database in {blocker}" in result.stderr
    assert "Traceback" not in result.stderr and blocker.read_text() == "x"


def test_sandbox_start_takes_an_idle_timeout(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path
) -> None:
    bad = run_cli("sandbox", "start", "--idle-timeout", "bientôt", env_vars=default_path)
    assert bad.exit_code == 2 and "invalid idle timeout 'bientôt' (--idle-timeout)" in bad.stderr
    assert _state_files(tmp_path) == []
    started = run_cli("sandbox", "start", "--idle-timeout", "1s", env_vars=default_path)
    assert started.exit_code == 0, started.stderr
    state = _state(tmp_path)
    assert state.idle_timeout == 1
    assert _wait_dead(state.pid, seconds=20)


def test_diagnose_reads_the_account_on_the_background_sandbox(
    run_cli: Any, default_path: dict[str, Any], tmp_path: Path
) -> None:
    """diagnose builds its own HTTP client (no retry, the checks' deadline): it must carry
    the sandbox's secret too, or every account check is refused with a 403."""
    result = run_cli("diagnose", "-o", "json", env_vars=default_path)
    rows = {row["id"]: row for row in result.json["checks"]}
    account = {k: v for k, v in rows.items() if k.startswith("account.")}
    assert account, rows.keys()
    assert not [(k, v["finding"]) for k, v in account.items() if "not checked" in v["finding"]]
    assert "CT-0000001" in rows["account.commitment"]["finding"]
    assert _state(tmp_path).url.startswith("http://127.0.0.1:")  # it was the background one
