"""Profiles: precedence, the TOML writer, atomic private writes, corrupt files."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli.config import ConfigFile, dumps
from cli.context import GlobalOptions
from cli.errors import UsageError

from .helpers import make_env, run


def _env(tmp_path: Path, **environ: str) -> dict[str, str]:
    return {"MONCOMPTE_CONFIG_DIR": str(tmp_path), **environ}


def test_precedence_flag_over_env_over_profile_over_default(tmp_path: Path) -> None:
    assert (
        run("config", "set", "api_url", "https://profile.example", environ=_env(tmp_path)).exit_code
        == 0
    )
    assert run("config", "set", "timeout", "7", environ=_env(tmp_path)).exit_code == 0

    env = make_env(_env(tmp_path))
    assert env.setting("api_url") == ("https://profile.example", "profile default")
    assert env.timeout == 7.0
    assert env.setting("output") == ("table", "default")

    env = make_env(_env(tmp_path, MONCOMPTE_API_URL="https://env.example"))
    assert env.setting("api_url") == ("https://env.example", "env MONCOMPTE_API_URL")

    env = make_env(
        _env(tmp_path, MONCOMPTE_API_URL="https://env.example"),
        options=GlobalOptions(api_url="https://flag.example", timeout=2.5),
    )
    assert env.api_url == "https://flag.example"
    assert env.timeout == 2.5

    # and through the real command line, with the flag after the subcommand
    result = run(
        "config",
        "get",
        "api_url",
        "--api-url",
        "https://flag.example",
        environ=_env(tmp_path, MONCOMPTE_API_URL="https://env.example"),
    )
    assert (result.exit_code, result.stdout) == (0, "https://flag.example\n")


def test_profile_selected_by_env_and_flag(tmp_path: Path) -> None:
    assert (
        run("--profile", "work", "config", "set", "timeout", "4", environ=_env(tmp_path)).exit_code
        == 0
    )
    assert run("config", "get", "timeout", environ=_env(tmp_path)).stdout == "15.0\n"
    assert (
        run("config", "get", "timeout", environ=_env(tmp_path, MONCOMPTE_PROFILE="work")).stdout
        == "4\n"
    )
    assert (
        run("config", "get", "timeout", "--profile", "work", environ=_env(tmp_path)).stdout == "4\n"
    )
    as_json = run(
        "config", "get", "timeout", "--profile", "work", "-o", "json", environ=_env(tmp_path)
    )
    assert __import__("json").loads(as_json.stdout) == {
        "key": "timeout",
        "value": 4,
        "source": "profile work",
        "profile": "work",
    }
    listed = run("-o", "json", "config", "profiles", environ=_env(tmp_path))
    assert [p["profile"] for p in __import__("json").loads(listed.stdout)] == ["default", "work"]


def test_unknown_key_and_bad_value_exit_2(tmp_path: Path) -> None:
    result = run("config", "set", "colour", "blue", environ=_env(tmp_path))
    assert result.exit_code == 2
    assert "unknown config key 'colour'" in result.stderr
    assert "api_url" in result.stderr  # lists the valid keys
    result = run("config", "set", "timeout", "soon", environ=_env(tmp_path))
    assert result.exit_code == 2 and "invalid value for timeout" in result.stderr
    result = run("config", "set", "api_url", "ftp://x", environ=_env(tmp_path))
    assert result.exit_code == 2
    assert not (tmp_path / "config.toml").exists()


def test_writes_are_atomic_and_private(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[profiles.default]\nusername = "old"\n')
    path.chmod(0o644)
    assert run("config", "set", "username", "new", environ=_env(tmp_path)).exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tomllib.loads(path.read_text())["profiles"]["default"]["username"] == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]  # no temp file left


def test_interrupted_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[profiles.default]\nusername = "old"\n')

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    result = run("config", "set", "username", "new", environ=_env(tmp_path))
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    assert path.read_text() == '[profiles.default]\nusername = "old"\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_corrupt_file_is_named_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    garbage = "[profiles.default\napi_url = \n"
    path.write_text(garbage)
    for args in (("config", "list"), ("config", "set", "output", "json")):
        result = run(*args, environ=_env(tmp_path))
        assert result.exit_code == 2
        lines = result.stderr.splitlines()
        assert lines[0].startswith("error: config file ") and str(path) in lines[0]
        assert "Traceback" not in result.stderr
    assert path.read_text() == garbage
    # --help and --version do not read the config at all
    assert run("--help", environ=_env(tmp_path)).exit_code == 0


def test_wrong_shapes_are_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("profiles = 3\n")
    with pytest.raises(UsageError, match="not a valid moncompte config"):
        ConfigFile.load(path)
    path.write_text("[profiles.default]\napi_url = [1, 2]\n")
    with pytest.raises(UsageError, match="default.api_url"):
        ConfigFile.load(path)


def test_writer_escapes_awkward_strings(tmp_path: Path) -> None:
    data = {
        "profiles": {
            "default": {"username": 'a "quoted" \\ back\nslash\ttab \x01 é €', "timeout": 2.5},
            "odd name": {"flag": True, "n": 3},
        }
    }
    assert tomllib.loads(dumps(data)) == data  # type: ignore[arg-type]


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=10),
        st.dictionaries(
            st.text(min_size=1, max_size=10),
            st.one_of(
                st.text(),
                st.booleans(),
                st.integers(-(2**63), 2**63 - 1),
                st.floats(allow_nan=False, allow_infinity=False),
            ),
            max_size=4,
        ),
        max_size=3,
    )
)
def test_writer_round_trips(profiles: dict[str, dict[str, object]]) -> None:
    written = dumps({"profiles": profiles})  # type: ignore[dict-item]
    assert tomllib.loads(written).get("profiles", {}) == profiles
