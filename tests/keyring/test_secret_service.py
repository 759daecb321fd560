"""The installed `moncompte` binary against a real OS keyring (the freedesktop Secret
Service, as gnome-keyring provides it) and against a D-Bus that never answers.

The Secret Service tests run only when MONCOMPTE_SECRET_SERVICE_TESTS=1: `.ci/run` sets it
inside `dbus-run-session` with gnome-keyring unlocked, and then they must not skip. To run
them by hand (a keyring of its own in a temporary directory, so an existing login
keyring with another password is neither needed nor touched):

    dbus-run-session -- sh -c 'echo -n pass | XDG_DATA_HOME=$(mktemp -d) \\
        gnome-keyring-daemon --unlock --components=secrets >/dev/null; \\
        MONCOMPTE_SECRET_SERVICE_TESTS=1 .venv/bin/python -m pytest tests/keyring'

Every process here gets its environment from `environ()`, which drops the fail backend
that tests/conftest.py sets, so keyring finds the backend a user would get. Each test logs
in under a profile of its own, so nothing of a real user's keyring is read or replaced.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

BINARY = shutil.which("moncompte", path=str(Path(sys.executable).parent))
SERVICE = "moncompte"  # cli.credentials.SERVICE
SECRET_SERVICE = os.environ.get("MONCOMPTE_SECRET_SERVICE_TESTS") == "1"

pytestmark = pytest.mark.skipif(BINARY is None, reason="moncompte is not installed in this venv")
needs_secret_service = pytest.mark.skipif(
    not SECRET_SERVICE,
    reason="set MONCOMPTE_SECRET_SERVICE_TESTS=1 in a D-Bus session with an unlocked keyring",
)


def environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MONCOMPTE_", "PYTHON_KEYRING_", "LC_", "LANG", "NO_COLOR"))
    }
    env.update(MONCOMPTE_CONFIG_DIR=str(tmp_path / "config"), LANG="C.UTF-8")
    env.update(extra)
    return env


def run(
    args: list[str], env: dict[str, str], *, stdin: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    assert BINARY is not None
    with open(stdin or os.devnull, "rb") as fh:
        return subprocess.run(
            [BINARY, *args], stdin=fh, capture_output=True, text=True, env=env, timeout=timeout
        )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def keyring_api(code: str, env: dict[str, str]) -> str:
    """Run `code` in a separate Python process that uses the keyring API directly."""
    result = subprocess.run(
        [sys.executable, "-c", "import keyring\n" + code],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`python -m server serve` on a free port, in its own process: (URL, database)."""
    tmp = tmp_path_factory.mktemp("keyring-server")
    db = tmp / "sandbox.db"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port), "--db", str(db)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=environ(tmp),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                assert proc.stderr is not None
                raise AssertionError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("the server did not listen within 60 s") from None
                time.sleep(0.1)
        yield url, db
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture()
def token_file(server: tuple[str, Path], tmp_path: Path) -> Path:
    """A fresh token for the demo customer, minted by `moncompte sandbox token`."""
    _, db = server
    path = tmp_path / "token.txt"
    path.write_text(ok(run(["sandbox", "token", "--db", str(db)], environ(tmp_path))))
    return path


@pytest.fixture()
def profile() -> str:
    return f"kr-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def backend_name(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The backend keyring picks in a fresh process: it must be the Secret Service."""
    env = environ(tmp_path_factory.mktemp("keyring-probe"))
    code = "k = keyring.get_keyring(); print(type(k).__module__, k.name, sep='|')"
    module, name = keyring_api(code, env).split("|")
    assert module == "keyring.backends.SecretService", (
        f"keyring chose {module} ({name}), not the Secret Service: is this a D-Bus session "
        "with gnome-keyring unlocked?"
    )
    return str(name).removesuffix(" Keyring")


@needs_secret_service
def test_login_stores_the_token_in_the_secret_service(
    server: tuple[str, Path], token_file: Path, tmp_path: Path, profile: str, backend_name: str
) -> None:
    url, _ = server
    token = token_file.read_text().strip()
    env = environ(tmp_path)
    config_dir = tmp_path / "config"
    try:
        login = run(
            ["login", "--api-url", url, "--with-token", "--profile", profile], env, stdin=token_file
        )
        assert login.returncode == 0, login.stderr
        assert f"credential stored in keyring ({backend_name})" in login.stderr
        assert "warning" not in login.stderr and token not in login.stderr + login.stdout

        me = json.loads(ok(run(["whoami", "-o", "json", "--profile", profile], env)))
        assert me["username"] == "demo" and me["api_url"] == url
        assert me["credential_store"] == f"keyring ({backend_name})" == "keyring (SecretService)"

        # Another process, through the keyring API only, finds the record login stored.
        stored = keyring_api(f"print(keyring.get_password({SERVICE!r}, {profile!r}))", env)
        record = json.loads(stored)
        assert record["access_token"] == token
        assert record["api_url"] == url and record["username"] == "demo"

        # Nothing on disk holds the token: no credentials file, only settings in the config.
        assert sorted(p.name for p in config_dir.iterdir()) == ["config.toml"]
        config = (config_dir / "config.toml").read_text()
        assert token not in config and 'credential_store = "keyring"' in config

        logout = run(["logout", "--profile", profile], env)
        assert logout.returncode == 0, logout.stderr
        assert f"deleted from keyring ({backend_name})" in logout.stderr
        gone = keyring_api(f"print(keyring.get_password({SERVICE!r}, {profile!r}))", env)
        assert gone == "None"
        after = run(["whoami", "--profile", profile], env)
        assert after.returncode == 3
        assert f"not logged in (profile '{profile}', keyring ({backend_name}))" in after.stderr
    finally:  # never leave a test credential in the keyring
        keyring_api(
            "import keyring.errors\n"
            "try:\n"
            f"    keyring.delete_password({SERVICE!r}, {profile!r})\n"
            "except keyring.errors.PasswordDeleteError:\n"
            "    pass",
            env,
        )


@needs_secret_service
def test_a_credential_stored_by_another_program_is_used(
    server: tuple[str, Path], token_file: Path, tmp_path: Path, profile: str, backend_name: str
) -> None:
    """The record format is plain JSON in the keyring: what we read is what was stored."""
    url, _ = server
    env = environ(tmp_path)
    record = json.dumps({"access_token": token_file.read_text().strip(), "api_url": url})
    keyring_api(f"keyring.set_password({SERVICE!r}, {profile!r}, {record!r})", env)
    try:
        ok(run(["config", "set", "api_url", url, "--profile", profile], env))
        me = json.loads(ok(run(["whoami", "-o", "json", "--profile", profile], env)))
        assert me["username"] == "demo" and me["credential_store"] == f"keyring ({backend_name})"
    finally:
        keyring_api(f"keyring.delete_password({SERVICE!r}, {profile!r})", env)


@pytest.fixture()
def silent_bus(tmp_path: Path) -> Iterator[str]:
    """A D-Bus address whose socket accepts connections and never answers: a hung backend."""
    path = tmp_path / "silent-bus"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen(16)  # the kernel completes connections; nobody ever reads them
        yield f"unix:path={path}"


@pytest.mark.skipif(sys.platform != "linux", reason="the Secret Service is a Linux backend")
@pytest.mark.parametrize(
    "backend", ["", "keyring.backends.SecretService.Keyring"], ids=["detected", "named"]
)
def test_a_hung_secret_service_fails_within_the_timeout(
    silent_bus: str, tmp_path: Path, backend: str
) -> None:
    """login and whoami give up after MONCOMPTE_KEYRING_TIMEOUT, exit 3, and say what to do."""
    pytest.importorskip("secretstorage")
    env = environ(
        tmp_path,
        DBUS_SESSION_BUS_ADDRESS=silent_bus,
        MONCOMPTE_KEYRING_TIMEOUT="1",
        **({"PYTHON_KEYRING_BACKEND": backend} if backend else {}),
    )
    token = tmp_path / "token.txt"
    token.write_text("mc_at_never-sent-anywhere\n")
    url = "http://127.0.0.1:9"  # never reached: the store is checked first
    started = time.monotonic()
    login = run(["login", "--api-url", url, "--with-token"], env, stdin=token, timeout=30)
    elapsed = time.monotonic() - started
    assert login.returncode == 3, login.stderr
    assert login.stderr.startswith("error: the keyring did not answer within 1 s")
    assert "--insecure-storage" in login.stderr and "MONCOMPTE_TOKEN" in login.stderr
    assert elapsed < 1 + 4, elapsed

    ok(run(["config", "set", "api_url", url], env))
    ok(run(["config", "set", "credential_store", "keyring"], env))
    started = time.monotonic()
    whoami = run(["whoami"], env, timeout=30)
    assert whoami.returncode == 3, whoami.stderr
    assert whoami.stderr.startswith("error: the keyring did not answer within 1 s (read)")
    assert time.monotonic() - started < 1 + 4
