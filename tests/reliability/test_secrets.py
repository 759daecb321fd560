"""No secret leaks: a whole session of the real binary, every command with `-v`, every
error path, then a scan of everything it printed and wrote.

Secrets: the access and refresh tokens (those of the login and those of a silent
refresh), the password (the right one and a wrong one), and full IBANs (a valid one and
a mistyped one). Places: stdout and stderr of every run, the debug logs
(MONCOMPTE_LOG_DIR), the config directory (but for the credential file, which is the
store itself: checked 0600), the data, cache and state directories, and every file the
commands wrote (PDFs, the claim letter, the support reports of `diagnose`).

Each command runs in a process of its own (the installed `moncompte`): the CLI scrubs
the secrets it has seen in this process, so in-process runs would share what earlier
tests taught the scrubber, and hide a leak.

Out of scope by design: `moncompte api POST /v1/auth/token` (prints the API's answer,
tokens included: the caller asked for exactly that) and `moncompte sandbox token`.

Also here: the keyring never hangs (a backend that blocks is cut off within
MONCOMPTE_KEYRING_TIMEOUT, through the real CLI; tests/unit/cli/test_cli_credentials.py
covers the store alone).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import TODAY, Sandbox, _start_sandbox

BINARY = shutil.which("moncompte", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(BINARY is None, reason="moncompte is not installed in this venv")
ROOT = Path(__file__).resolve().parents[2]

PASSWORD = "demo1234"
WRONG_PASSWORD = "Wr0ng-pass-xyzzy-42"
IBAN = "FR7630006000011234567890189"
IBAN_TYPO = "FR7630006000011234567890188"  # one digit off: refused (checksum)
TOKEN_SHAPE = re.compile(r"mc_(?:at|rt)_[A-Za-z0-9_-]{8,}")


def _forms(iban: str) -> set[str]:
    """The ways a full IBAN can be written: compact, grouped by 4, lower case."""
    grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return {iban, grouped, iban.lower(), grouped.lower()}


@dataclass
class Session:
    """One user's machine: its directories, environment and everything seen so far."""

    box: Sandbox
    home: Path
    work: Path
    secrets: set[str] = field(default_factory=set)
    outputs: list[tuple[list[str], str, str]] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.home / "config"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    def environ(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("MONCOMPTE_", "XDG_", "LC_", "LANG", "NO_COLOR"))
        }
        env.update(
            HOME=str(self.home),
            MONCOMPTE_CONFIG_DIR=str(self.config),
            MONCOMPTE_LOG_DIR=str(self.logs),
            MONCOMPTE_API_URL=self.box.url,
            MONCOMPTE_TODAY=TODAY.isoformat(),
            XDG_DATA_HOME=str(self.home / "data"),
            XDG_CACHE_HOME=str(self.home / "cache"),
            XDG_STATE_HOME=str(self.home / "state"),
            PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
            LANG="C.UTF-8",
            NO_COLOR="1",
        )
        env.update(extra)
        return env

    def run(self, name: str, args: list[str], stdin: str = "", **env: str) -> int:
        assert BINARY is not None
        argv = ["-v", *args]
        result = subprocess.run(
            [BINARY, *argv],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.environ(**env),
            cwd=self.work,
            timeout=90,
        )
        self.outputs.append((argv, result.stdout, result.stderr))
        self.codes[name] = result.returncode
        self.learn_stored_tokens()
        return result.returncode

    def learn_stored_tokens(self) -> None:
        for path in self.config.glob("credentials-*.json"):
            data = json.loads(path.read_text())
            self.secrets.update(v for k, v in data.items() if k.endswith("_token") and v)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """The whole session, run once; the tests below read what it left."""
    root = tmp_path_factory.mktemp("secrets")
    box, running = _start_sandbox(root / "box.db")
    s = Session(box=box, home=root / "home", work=root / "work")
    s.work.mkdir()
    s.secrets.update({PASSWORD, WRONG_PASSWORD, *_forms(IBAN), *_forms(IBAN_TYPO)})
    try:
        _play(s)
        yield s
    finally:
        running.stop()


def _play(s: Session) -> None:
    login = ["login", "-u", "demo", "--password-stdin", "--insecure-storage"]
    s.run("login wrong password", login, stdin=WRONG_PASSWORD + "\n")
    s.run("login", login, stdin=PASSWORD + "\n")
    assert s.codes["login"] == 0, s.outputs[-1]
    (cred,) = s.config.glob("credentials-*.json")
    assert stat.S_IMODE(cred.stat().st_mode) == 0o600
    assert len(s.secrets) > 9, "the login stored no token"
    reads = {
        "whoami": ["whoami"],
        "contracts": ["contracts", "-o", "json"],
        "contract": ["contracts", "show", "CT-0000001"],
        "other customer's contract": ["contracts", "show", "CT-0000005"],
        "invoices": ["invoices", "list", "-o", "csv"],
        "invoice": ["invoices", "show", "INV-000000004", "--explain"],
        "missing invoice": ["invoices", "show", "INV-999999999"],
        "download": ["invoices", "download", "INV-000000001", "--to", "inv.pdf"],
        "schedule": ["schedule", "CT-0000003", "-o", "ndjson"],
        "payment method": ["api", "GET", "/v1/payment-method"],
        "me": ["api", "GET", "/v1/me"],
        "staff route": ["customers", "list"],
        "quote": ["terminate", "CT-0000001", "--quote"],
        "claims": ["claim", "list"],
        "claim": ["claim", "show", "CL-0000001"],
        "letter": ["claim", "letter", "CL-0000001", "--to", "letter.txt"],
        "config": ["config", "list"],
        "diagnose": ["diagnose", "--report", "support.md"],
        "diagnose json": ["diagnose", "--report", "support.json", "--fail-on", "warn"],
    }
    for name, args in reads.items():
        s.run(name, args)
    mutations: dict[str, tuple[list[str], str]] = {
        "iban dry run": (["change-iban", IBAN, "--dry-run"], ""),
        "iban typo": (["change-iban", IBAN_TYPO, "--yes"], ""),
        "iban from stdin": (["change-iban", "-", "--yes"], IBAN + "\n"),
        "iban again": (["change-iban", IBAN.lower(), "--yes"], ""),
        "reschedule refused": (["reschedule", "CT-0000003", "2", "--by", "3", "--yes"], ""),
        "terminate refused": (["terminate", "CT-0000004", "--yes"], ""),
        "claim": (["claim", "new", "-c", "billing", "-s", "Double débit", "-m", "Deux fois"], ""),
        "claim offline": (
            ["claim", "new", "-c", "other", "-s", "Hors ligne", "-m", "x", "--offline"],
            "",
        ),  # noqa: E501
        "drafts": (["claim", "drafts"], ""),
        "send drafts": (["claim", "send", "--all"], ""),
        "escalate": (["claim", "escalate", "CL-0000001"], ""),
    }
    for name, (args, stdin) in mutations.items():
        s.run(name, args, stdin=stdin)
    # A silent refresh: the stored access token said to expire now.
    data = json.loads(cred.read_text())
    data["expires_at"] = "2000-01-01T00:00:00+00:00"
    cred.write_text(json.dumps(data))
    cred.chmod(0o600)
    s.run("refresh", ["whoami"])
    assert s.codes["refresh"] == 0, s.outputs[-1]
    refreshed = json.loads(cred.read_text())
    assert refreshed["access_token"] != data["access_token"], "no refresh happened"
    # Error paths with the token elsewhere.
    stored = refreshed["access_token"]
    s.run("token file", ["--token-file", str(cred), "whoami"])
    s.run("env token", ["whoami"], MONCOMPTE_TOKEN=stored)
    s.run("garbage env token", ["whoami"], MONCOMPTE_TOKEN="mc_at_garbage-token-0123456789")
    s.secrets.add("mc_at_garbage-token-0123456789")
    s.run("network error", ["--api-url", "http://127.0.0.1:9", "contracts"], MONCOMPTE_TOKEN=stored)
    s.run("timeout", ["--timeout", "0.000001", "contracts"], MONCOMPTE_TOKEN=stored)
    # An unexpected error (exit 1) whose message and traceback carry the token: the
    # output and the debug log must be scrubbed.
    hook = s.home / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        textwrap.dedent(
            """
            import os
            import cli.output

            def boom(*args, **kwargs):
                token = os.environ["MONCOMPTE_TOKEN"]
                raise RuntimeError(f"boom with {token} and 'Authorization: Bearer {token}'")

            cli.output.Renderer.render = boom
            cli.output.Renderer.render_one = boom
            """
        )
    )
    # Before the token was read (the list is lazy), then after (a single contract).
    s.run("unexpected error", ["contracts"], MONCOMPTE_TOKEN=stored, PYTHONPATH=str(hook))
    s.run(
        "unexpected error after a request",
        ["contracts", "show", "CT-0000001"],
        MONCOMPTE_TOKEN=stored,
        PYTHONPATH=str(hook),
    )
    # Login with a token on stdin, then log out (revoke), then the revoked token.
    s.run("logout", ["logout"])
    s.run("revoked", ["whoami"], MONCOMPTE_TOKEN=stored)
    from server import embedded

    fresh = embedded.mint_token(s.box.database_url, "demo")
    s.secrets.add(fresh)
    s.run("with token", ["login", "--with-token", "--insecure-storage"], stdin=fresh + "\n")
    s.run("whoami after", ["whoami"])
    for _ in range(6):  # the username's limit is 5 failures: the 6th answer is 429
        s.run("rate limited", login, stdin=WRONG_PASSWORD + "\n")


def test_the_session_went_through_its_paths(session: Session) -> None:
    codes = session.codes
    assert codes["login wrong password"] == 3
    assert codes["other customer's contract"] == 4
    assert codes["missing invoice"] == 4
    assert codes["iban typo"] == 2
    assert codes["iban from stdin"] == 0 and codes["iban again"] == 0
    assert codes["terminate refused"] == 5
    assert codes["garbage env token"] == 3
    assert codes["network error"] == 6
    assert codes["unexpected error"] == 1
    assert codes["unexpected error after a request"] == 1
    assert codes["revoked"] == 3
    assert codes["with token"] == 0 and codes["whoami after"] == 0
    assert codes["rate limited"] == 6
    assert codes["diagnose"] in (0, 8)
    ok = ("whoami", "contracts", "invoices", "download", "letter", "claim", "escalate")
    assert all(codes[name] == 0 for name in ok), {n: codes[n] for n in ok}


def _leaks(text: str, secrets: set[str]) -> list[str]:
    found = [s for s in secrets if s and s in text]
    found += [m for m in TOKEN_SHAPE.findall(text) if m not in found]
    return found


def test_no_secret_in_any_output(session: Session) -> None:
    assert len(session.outputs) > 40
    for argv, out, err in session.outputs:
        assert not _leaks(out, session.secrets), (argv, "stdout", _leaks(out, session.secrets))
        assert not _leaks(err, session.secrets), (argv, "stderr", _leaks(err, session.secrets))
    verbose = "".join(err for _, _, err in session.outputs)
    assert "debug: > GET" in verbose  # -v did log the requests


def _files(session: Session) -> Iterator[Path]:
    for top in (session.home, session.work):
        for path in sorted(top.rglob("*")):
            if path.is_file() and path.parent.name != "hook":
                yield path


def test_no_secret_in_any_file(session: Session, capsys: pytest.CaptureFixture[str]) -> None:
    """Config, data, cache, state, debug logs, and what the commands wrote; the credential
    file alone holds the tokens (it is the store the user chose with --insecure-storage)."""
    logs = list(session.logs.glob("debug-*.log"))
    assert logs, "the unexpected error wrote no debug log"
    assert "RuntimeError" in logs[0].read_text()
    written = {p.name for p in _files(session)}
    assert {"inv.pdf", "letter.txt", "support.md", "support.json", "config.toml"} <= written
    scanned = 0
    for path in _files(session):
        if path.name.startswith("credentials-"):
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        assert not _leaks(text, session.secrets), (str(path), _leaks(text, session.secrets))
        scanned += 1
    with capsys.disabled():
        print(
            f"\nsecrets: {len(session.outputs)} runs with -v ({len(session.codes)} paths), "
            f"{scanned} files, {len(session.secrets)} secret values: 0 found"
        )


def test_credential_file_and_log_modes(session: Session) -> None:
    creds = list(session.config.glob("credentials-*.json"))
    assert creds, "login --insecure-storage stored no file"
    for path in creds:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for log in session.logs.glob("debug-*.log"):
        assert stat.S_IMODE(log.stat().st_mode) == 0o600, log
    assert stat.S_IMODE(session.logs.stat().st_mode) & 0o077 == 0


# --- the keyring never hangs -----------------------------------------------------------------

BLOCKING_BACKEND = textwrap.dedent(
    """
    import time
    from keyring.backend import KeyringBackend

    class BlockingKeyring(KeyringBackend):
        '''A Secret Service that never answers (locked, remote, wedged).'''
        priority = 1

        def get_password(self, service, username):
            time.sleep(3600)

        def set_password(self, service, username, password):
            time.sleep(3600)

        def delete_password(self, service, username):
            time.sleep(3600)
    """
)


@pytest.mark.parametrize(
    ("name", "args", "stdin"),
    [
        ("login", ["login", "--with-token"], "TOKEN"),
        ("whoami", ["whoami"], ""),
        ("logout", ["logout"], ""),
    ],
)
def test_a_blocking_keyring_is_cut_off(
    tmp_path: Path, name: str, args: list[str], stdin: str
) -> None:
    root = tmp_path / "k"
    box, running = _start_sandbox(tmp_path / "k.db")
    try:
        s = Session(box=box, home=root / "home", work=root)
        root.mkdir(exist_ok=True)
        (root / "blocking_keyring.py").write_text(BLOCKING_BACKEND)
        env = {
            "PYTHON_KEYRING_BACKEND": "blocking_keyring.BlockingKeyring",
            "PYTHONPATH": str(root),
            "MONCOMPTE_KEYRING_TIMEOUT": "1",
        }
        started = time.monotonic()
        code = s.run(name, args, stdin=stdin.replace("TOKEN", box.customer_token), **env)
        elapsed = time.monotonic() - started
        _argv, _out, err = s.outputs[-1]
        assert code == 3, err
        assert "keyring did not answer within 1 s" in err, err
        assert elapsed < 15, elapsed  # 1 s of keyring wait, the rest is start-up
        assert box.customer_token not in err
    finally:
        running.stop()
