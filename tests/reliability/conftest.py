"""Fixtures of the reliability tests: a sandbox per module (these tests change data, so
they never touch the session's shared sandbox), and an in-process CLI runner on it that
may be called many times in one test (hypothesis examples)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TODAY, Result, Sandbox, _FakeBinaryOut, _FakeTTY, _start_sandbox

Runner = Callable[..., Result]

# The exit codes the README documents; 1 ("unexpected error") is a bug when a test sees it.
DOCUMENTED_EXITS = frozenset({0, 2, 3, 4, 5, 6, 7, 8, 130})


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A seeded sandbox of this module's own."""
    sandbox, running = _start_sandbox(tmp_path_factory.mktemp("reliability") / "box.db")
    yield sandbox
    running.stop()


def make_runner(
    box: Sandbox, home: Path, monkeypatch: pytest.MonkeyPatch, **base_env: str | None
) -> Runner:
    """`run(*args, env_vars=None, stdin=None, tty=False) -> Result`: the CLI in-process,
    against `box`, with the demo customer's token, its config in `home/config`, its debug
    logs in `home/logs`."""
    config_dir = home / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    defaults: dict[str, str | None] = {
        "MONCOMPTE_CONFIG_DIR": str(config_dir),
        "MONCOMPTE_LOG_DIR": str(home / "logs"),
        "MONCOMPTE_API_URL": box.url,
        "MONCOMPTE_TOKEN": box.customer_token,
        "MONCOMPTE_TODAY": TODAY.isoformat(),
        "NO_COLOR": "1",
        "LANG": "C.UTF-8",
        "EDITOR": "false",
        "VISUAL": None,
    }
    defaults.update(base_env)

    def run(
        *args: str,
        env_vars: dict[str, str | None] | None = None,
        stdin: str | None = None,
        tty: bool = False,
    ) -> Result:
        from cli.app import main

        for key, value in {**defaults, **(env_vars or {})}.items():
            if value is None:
                monkeypatch.delenv(key, raising=False)
            else:
                monkeypatch.setenv(key, value)
        out = _FakeBinaryOut(tty)
        err = _FakeTTY(tty=tty)
        inp = _FakeTTY(stdin or "", tty=tty and stdin is None)
        code = main(list(args), streams=(inp, out, err))
        raw = out.value()
        return Result(code, raw.decode("utf-8", "replace"), err.getvalue(), raw)

    return run


@pytest.fixture()
def cli(box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    return make_runner(box, tmp_path, monkeypatch)


def assert_documented(result: Result, args: Any) -> None:
    """A documented exit code, and no traceback unless -v asked for detail."""
    assert result.exit_code in DOCUMENTED_EXITS, (args, result.exit_code, result.stderr[-2000:])
    if "-v" not in args and "--verbose" not in args:
        assert "Traceback" not in result.stderr, (args, result.stderr[-2000:])
    assert "Traceback" not in result.stdout, (args, result.stdout[-2000:])
