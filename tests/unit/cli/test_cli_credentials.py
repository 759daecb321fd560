"""Credential stores, with fake OS keyring backends (the only thing faked: it is outside)."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest

from cli.context import GlobalOptions
from cli.credentials import (
    EnvTokenStore,
    FileStore,
    KeyringStore,
    TokenFileStore,
    Tokens,
)
from cli.errors import AuthError, UsageError

from .helpers import make_env

RECORD = Tokens(
    access_token="access-aaaaaaaa",
    refresh_token="refresh-bbbbbbbb",
    expires_at="2026-11-24T12:00:00+00:00",
    api_url="https://api.example",
    username="demo",
    scope="customer",
)


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.data.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


class HungKeyring(MemoryKeyring):
    """A backend whose reads never return (a remote or broken Secret Service)."""

    release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait()
        return None


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")


@pytest.fixture()
def backend() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    fake = MemoryKeyring()
    keyring.set_keyring(fake)
    yield fake
    keyring.set_keyring(previous)


def test_keyring_round_trip(backend: MemoryKeyring) -> None:
    store = KeyringStore()
    assert store.get("default") is None
    store.set("default", RECORD)
    assert json.loads(backend.data[("moncompte", "default")])["username"] == "demo"
    assert store.get("default") == RECORD
    assert store.get("other") is None
    assert store.describe().startswith("keyring (") and "MemoryKeyring" in store.describe()
    assert store.delete("default") is True
    assert store.delete("default") is False


def test_hung_backend_fails_within_the_timeout() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(HungKeyring())
    try:
        store = KeyringStore(timeout=0.3)
        started = time.monotonic()
        with pytest.raises(AuthError, match="did not answer within 0.3 s"):
            store.get("default")
        assert time.monotonic() - started < 1.5
    finally:
        HungKeyring.release.set()
        keyring.set_keyring(previous)


def test_locked_backend_is_a_clear_error() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(LockedKeyring())
    try:
        with pytest.raises(AuthError, match="locked") as info:
            KeyringStore().get("default")
        assert info.value.exit_code == 3
        assert info.value.hint and "--insecure-storage" in info.value.hint
    finally:
        keyring.set_keyring(previous)


def test_fail_and_null_backends_are_unusable() -> None:
    import keyring.backends.fail
    import keyring.backends.null

    previous = keyring.get_keyring()
    try:
        unusables = (keyring.backends.fail.Keyring(), keyring.backends.null.Keyring())  # type: ignore[no-untyped-call]
        for unusable in unusables:
            keyring.set_keyring(unusable)
            with pytest.raises(AuthError, match="no usable keyring"):
                KeyringStore().check()
            with pytest.raises(AuthError, match="no usable keyring"):
                KeyringStore().get("default")
    finally:
        keyring.set_keyring(previous)


def test_unreadable_keyring_record(backend: MemoryKeyring) -> None:
    backend.data[("moncompte", "default")] = "not json"
    with pytest.raises(AuthError, match="unreadable"):
        KeyringStore().get("default")


def test_file_store_is_private_and_atomic(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "cfg", "default")
    assert store.get("default") is None
    store.set("default", RECORD)
    path = tmp_path / "cfg" / "credentials-default.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.get("default") == RECORD
    assert "(insecure)" in store.describe() and str(path) in store.describe()
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert store.delete("default") and not path.exists()


def test_env_token_store_is_read_only() -> None:
    store = EnvTokenStore({"MONCOMPTE_TOKEN": "  tok-from-env-123 \n"})
    tokens = store.get("default")
    assert tokens is not None and tokens.access_token == "tok-from-env-123"
    assert store.describe() == "environment MONCOMPTE_TOKEN"
    assert not store.writable
    with pytest.raises(UsageError):
        store.set("default", RECORD)


def test_token_file_store_strips_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("\n  tok-from-file-456 \n\n")
    tokens = TokenFileStore(path).get("default")
    assert tokens is not None and tokens.access_token == "tok-from-file-456"
    assert TokenFileStore(path).describe() == f"token file {path}"
    with pytest.raises(UsageError, match="cannot read token file"):
        TokenFileStore(tmp_path / "missing").get("default")
    (tmp_path / "empty").write_text("  \n")
    with pytest.raises(UsageError, match="is empty"):
        TokenFileStore(tmp_path / "empty").get("default")


def test_env_chooses_the_store(tmp_path: Path) -> None:
    base = {"MONCOMPTE_CONFIG_DIR": str(tmp_path), "MONCOMPTE_API_URL": "https://api.example"}
    assert make_env(base).credentials().kind == "keyring"
    assert make_env({**base, "MONCOMPTE_TOKEN": "x" * 10}).credentials().kind == "env"
    env = make_env(
        {**base, "MONCOMPTE_TOKEN": "x" * 10}, options=GlobalOptions(token_file=str(tmp_path / "t"))
    )
    assert env.credentials().kind == "token-file"  # the flag beats the environment
    (tmp_path / "config.toml").write_text('[profiles.default]\ncredential_store = "file"\n')
    assert make_env(base).credentials().kind == "file"


def test_keyring_not_imported_with_env_token_or_token_file(tmp_path: Path) -> None:
    (tmp_path / "tok").write_text("tok-from-file-456")
    code = f"""
import sys
from cli.context import Env, GlobalOptions
env = Env(environ={{"MONCOMPTE_TOKEN": "tok-from-env-123", "MONCOMPTE_API_URL": "https://a.example",
                    "MONCOMPTE_CONFIG_DIR": {str(tmp_path)!r}}})
assert env.credentials().get("default").access_token == "tok-from-env-123"
env = Env(environ={{"MONCOMPTE_API_URL": "https://a.example",
                    "MONCOMPTE_CONFIG_DIR": {str(tmp_path)!r}}},
          options=GlobalOptions(token_file={str(tmp_path / "tok")!r}))
assert env.credentials().get("default").access_token == "tok-from-file-456"
assert "keyring" not in sys.modules, "keyring was imported"
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
