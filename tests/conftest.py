"""Shared fixtures: one real sandbox server per test session, and an in-process CLI runner.

Tests never depend on the real date: the server and the CLI get a fixed clock (TODAY).
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# No timings in tests (a loaded CI machine once took 584 ms over hypothesis's default 200 ms
# deadline on a first call, a flaky failure that says nothing of the code): properties are
# checked for what they compute, and speed is measured in bench/.
settings.register_profile("moncompte", deadline=None)
settings.load_profile("moncompte")

TODAY = date(2026, 11, 24)


@dataclass
class Sandbox:
    url: str
    database_url: str
    customer_token: str
    staff_token: str
    clean_token: str
    today: date = TODAY


class _DroppingServer:
    """A running sandbox whose own PostgreSQL database is dropped when it stops."""

    def __init__(self, running: Any, drop: Any) -> None:
        self._running = running
        self._drop = drop

    def stop(self) -> None:
        try:
            self._running.stop()
        finally:
            self._drop()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._running, name)


def _fresh_postgres_database(admin_url: str) -> tuple[str, Any]:
    """A new, empty database on the server of `admin_url` (its role needs CREATEDB);
    returns its URL and a function that drops it."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from server.db import normalize_database_url

    admin = make_url(normalize_database_url(admin_url))
    name = f"mc_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        # WITH (FORCE) cannot end an autovacuum worker's session (not this role's): a
        # large database may have one for a while after a load, so wait and try again.
        try:
            for attempt in range(60):
                try:
                    with engine.connect() as connection:
                        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    return
                except Exception:
                    if attempt == 59:
                        raise
                    time.sleep(1)
        finally:
            engine.dispose()

    return admin.set(database=name).render_as_string(hide_password=False), drop


def _start_sandbox(db_path: Path) -> tuple[Sandbox, Any]:
    """A seeded sandbox on SQLite at `db_path`, or, when `MONCOMPTE_TEST_DATABASE_URL`
    names a PostgreSQL server (.ci/postgres.sh), on a database of its own there."""
    from server import embedded

    admin_url = os.environ.get("MONCOMPTE_TEST_DATABASE_URL")
    if admin_url:
        url, drop = _fresh_postgres_database(admin_url)
        try:
            running: Any = embedded.start_background(url, today=TODAY)
        except BaseException:
            drop()
            raise
        running = _DroppingServer(running, drop)
    else:
        running = embedded.start_background(f"sqlite:///{db_path}", today=TODAY)
    box = Sandbox(
        url=running.url,
        database_url=running.database_url,
        customer_token=embedded.mint_token(running.database_url, "demo"),
        staff_token=embedded.mint_token(running.database_url, "agent"),
        clean_token=embedded.mint_token(running.database_url, "clean"),
    )
    return box, running


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The reference server seeded with the demo data, shared by read-only tests."""
    box, running = _start_sandbox(tmp_path_factory.mktemp("sandbox") / "sandbox.db")
    yield box
    running.stop()


@pytest.fixture()
def fresh_sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox of its own, for tests that change data (terminate, change-iban, …)."""
    box, running = _start_sandbox(tmp_path / "sandbox.db")
    yield box
    running.stop()


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str
    stdout_bytes: bytes = b""
    _json: Any = field(default=None, repr=False)

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


class _FakeTTY(io.StringIO):
    def __init__(self, text: str = "", tty: bool = False) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


class _FakeBinaryOut(io.TextIOWrapper):
    def __init__(self, tty: bool) -> None:
        self._raw = io.BytesIO()
        super().__init__(self._raw, encoding="utf-8", newline="", write_through=True)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty

    def value(self) -> bytes:
        self.flush()
        return self._raw.getvalue()


@pytest.fixture()
def run_cli(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run `moncompte` in-process: run_cli(*args, env_vars=None, stdin=None, tty=False)."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()

    def run(
        *args: str,
        env_vars: dict[str, str] | None = None,
        stdin: str | None = None,
        tty: bool = False,
    ) -> Result:
        from cli.app import main

        base = {
            "MONCOMPTE_CONFIG_DIR": str(config_dir),
            "MONCOMPTE_API_URL": sandbox.url,
            "MONCOMPTE_TOKEN": sandbox.customer_token,
            "MONCOMPTE_TODAY": TODAY.isoformat(),
            "NO_COLOR": "",
            "LANG": "C.UTF-8",
        }
        base.update(env_vars or {})
        for key, value in base.items():
            if value is None:
                monkeypatch.delenv(key, raising=False)
            else:
                monkeypatch.setenv(key, value)
        if not base.get("NO_COLOR"):
            monkeypatch.delenv("NO_COLOR", raising=False)
        out = _FakeBinaryOut(tty)
        err = _FakeTTY(tty=tty)
        inp = _FakeTTY(stdin or "", tty=tty and stdin is None)
        code = main(list(args), streams=(inp, out, err))
        raw = out.value()
        return Result(code, raw.decode("utf-8", "replace"), err.getvalue(), raw)

    return run


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keep every test away from the real user's config, data, keyring and background
    sandbox; stop the background sandbox servers a test started."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.delenv("MONCOMPTE_SANDBOX", raising=False)
    monkeypatch.delenv("MONCOMPTE_SANDBOX_IDLE_TIMEOUT", raising=False)
    if "MONCOMPTE_KEEP_KEYRING" not in os.environ:
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    yield
    stop_background_sandboxes(tmp_path / "xdg-state")


def stop_background_sandboxes(state_home: Path) -> list[int]:
    """Stop every background sandbox whose state file is under `state_home`; their pids."""
    from cli.sandbox.background import stop_state_file

    stopped = []
    for state_file in sorted((state_home / "moncompte" / "sandbox").glob("*.json")):
        pid = stop_state_file(state_file)
        if pid is not None:
            stopped.append(pid)
    return stopped
