"""The production setup (Dockerfile, compose.yaml, docs/server.md "Production") without
Docker: the files agree with each other and with the code, and the container's command,
run here as the image runs it (settings and the password secret from the environment),
serves a migrated database with no demo data. On PostgreSQL when
`MONCOMPTE_TEST_DATABASE_URL` names a server (.ci/postgres.sh), else on SQLite."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from server.__main__ import _parser
from server.db import default_database_url

from ..conftest import _fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _one(instruction: str) -> str:
    values = [rest for word, rest in _instructions() if word == instruction]
    assert len(values) == 1, f"{instruction}: {values}"
    return values[0]


def _command(environment: dict[str, str]) -> list[str]:
    """The CMD's command line as `sh -c` expands it for `environment`."""
    shell = yaml.safe_load(_one("CMD"))  # a JSON array is YAML too
    assert shell[:2] == ["sh", "-c"]

    def expand(match: re.Match[str]) -> str:
        return environment.get(match.group(1)) or match.group(2)

    words = shlex.split(re.sub(r"\$\{(\w+):-([^}]*)\}", expand, shell[2]))
    assert words[0] == "exec"  # the server is PID 1, so SIGTERM reaches it
    return words[1:]


def test_the_image_copies_what_exists_and_installs_the_lock() -> None:
    allowed = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for word, rest in _instructions():
        if word == "COPY":
            source = rest.split()[0]
            assert (ROOT / source).exists(), source
            assert f"!{source}" in allowed or f"!{source}/" in allowed, source
    installs = [rest for word, rest in _instructions() if word == "RUN" and "pip install" in rest]
    assert "--require-hashes -r requirements/server.txt" in installs[0]
    assert "--no-deps" in installs[1]
    user = _one("USER")
    assert user not in ("root", "0")


def test_the_command_and_the_health_check_fit_the_server() -> None:
    port = _one("EXPOSE")
    args = _parser().parse_args(_command({})[3:])
    assert _command({})[:3] == ["python", "-m", "server"]
    assert (args.command, args.host, str(args.port)) == ("serve", "0.0.0.0", port)
    assert args.no_demo and args.access_log and args.workers == 2
    assert _parser().parse_args(_command({"MONCOMPTE_WORKERS": "8"})[3:]).workers == 8
    assert f"http://127.0.0.1:{port}/readyz" in _one("HEALTHCHECK")


def test_compose_wires_the_database_and_the_secret() -> None:
    services, secrets = COMPOSE["services"], COMPOSE["secrets"]
    server, db = services["server"], services["db"]
    url = make_url(server["environment"]["DATABASE_URL"])
    assert url.host in services and url.password is None  # never in the environment
    assert url.username == db["environment"]["POSTGRES_USER"]
    assert url.database == db["environment"]["POSTGRES_DB"]
    for service, variable in ((server, "DATABASE_PASSWORD_FILE"), (db, "POSTGRES_PASSWORD_FILE")):
        name = Path(service["environment"][variable]).name
        assert service["environment"][variable] == f"/run/secrets/{name}"
        assert name in service["secrets"] and name in secrets
    assert server["depends_on"]["db"]["condition"] == "service_healthy"
    assert server["ports"] == [f"127.0.0.1:{_one('EXPOSE')}:{_one('EXPOSE')}"]
    secret_file = secrets["db_password"]["file"]
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", secret_file], cwd=ROOT, check=False
    ).returncode
    assert ignored == 0, f"{secret_file} must never be committed"


@pytest.mark.parametrize("password", ["s3cret", "p@ss/w:rd with spaces%"])
def test_the_password_secret_replaces_the_urls(
    password: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "db_password"
    secret.write_text(password + "\n", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", "postgresql://moncompte@db:5432/moncompte")
    monkeypatch.setenv("DATABASE_PASSWORD_FILE", str(secret))
    url = make_url(default_database_url())
    assert (url.drivername, url.password, url.host) == ("postgresql+psycopg", password, "db")
    monkeypatch.delenv("DATABASE_URL")
    (tmp_path / "url").write_text("postgres://u:old@h/d\n", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "url"))
    assert make_url(default_database_url()).password == password


def test_an_unreadable_secret_stops_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://moncompte@db/moncompte")
    monkeypatch.setenv("DATABASE_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(SystemExit) as stopped:
        default_database_url()
    message = str(stopped.value)
    assert message.startswith("error: DATABASE_PASSWORD_FILE=") and "\n" not in message


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_container_command_serves_with_the_secret(tmp_path: Path) -> None:
    admin = os.environ.get("MONCOMPTE_TEST_DATABASE_URL")
    drop = None
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("MONCOMPTE_", "DATABASE"))
    }
    if admin:
        full, drop = _fresh_postgres_database(admin)
        url = make_url(full)
        (tmp_path / "db_password").write_text(f"{url.password}\n", encoding="utf-8")
        environment["DATABASE_URL"] = url.set(password=None).render_as_string()
        environment["DATABASE_PASSWORD_FILE"] = str(tmp_path / "db_password")
    else:
        environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'container.db'}"
    port = _free_port()
    environment.update(MONCOMPTE_WORKERS="2", PYTHONPATH=str(ROOT))
    command = [sys.executable if w == "python" else w for w in _command(environment)]
    command[command.index("--port") + 1] = str(port)
    process = subprocess.Popen(
        command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    ready = r.read().decode()
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail(f"not ready: {process.communicate(timeout=5)[1][-2000:]}")
                time.sleep(0.2)
        backend = "postgresql" if admin else "sqlite"
        assert f'"database":"{backend}"' in ready
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=5) as r:
            assert r.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
        if drop is not None:
            drop()
    assert "access:" in out and "/v1/status" in out
    assert "Traceback" not in err
