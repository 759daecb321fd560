"""`moncompte completion install`: asks first, edits one marked block, never twice; and the
ID completion that reads only the local cache (cli/complete.py)."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cli import complete
from cli.app import main
from cli.context import Env
from commands.completion.installer import BEGIN, END
from commands.completion.scripts import script

ROOT = Path(__file__).resolve().parents[2]


class Stream(io.StringIO):
    def __init__(self, text: str = "", tty: bool = False) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def run(
    args: list[str], environ: dict[str, str], *, answer: str | None = None
) -> tuple[int, str, str]:
    """Run in-process; `answer` given: stdin and stderr are a terminal and it is typed."""
    tty = answer is not None
    env = Env(
        stdin=Stream(answer or "", tty=tty),
        stdout=Stream(),
        stderr=Stream(tty=tty),
        environ=environ,
    )
    code = main(args, env)
    return code, env.stdout.getvalue(), env.stderr.getvalue()  # type: ignore[attr-defined]


@pytest.fixture()
def home(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return {
        "HOME": str(home),
        "SHELL": "/bin/bash",
        "MONCOMPTE_CONFIG_DIR": str(tmp_path / "config"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "LANG": "C.UTF-8",
    }


def test_without_terminal_or_yes_exit_2_names_yes(home: dict[str, str]) -> None:
    code, out, err = run(["completion", "install"], home)
    assert code == 2
    assert "--yes" in err
    assert not (Path(home["HOME"]) / ".bashrc").exists()
    assert out == ""


def test_yes_adds_one_block_and_keeps_the_rest(home: dict[str, str]) -> None:
    rc = Path(home["HOME"]) / ".bashrc"
    rc.write_text("alias ll='ls -l'\n")
    rc.chmod(0o600)
    code, _, err = run(["completion", "install", "--yes"], home)
    assert code == 0, err
    text = rc.read_text()
    assert text.startswith("alias ll='ls -l'\n\n" + BEGIN)
    assert script("bash").strip() in text
    assert text.endswith(END + "\n")
    assert oct(rc.stat().st_mode & 0o777) == "0o600"
    assert "installed in ~/.bashrc" in err


def test_idempotent_and_updates_in_place(home: dict[str, str]) -> None:
    rc = Path(home["HOME"]) / ".bashrc"
    assert run(["completion", "install", "bash", "-y"], home)[0] == 0
    first = rc.read_text()
    code, _, err = run(["completion", "install", "bash", "-y"], home)
    assert code == 0 and "already installed" in err
    assert rc.read_text() == first and first.count(BEGIN) == 1
    # An old block (say, from an earlier version) is replaced where it stands.
    rc.write_text(f"before\n{BEGIN}\nold script\n{END}\nafter\n")
    assert run(["completion", "install", "-y"], home)[0] == 0
    text = rc.read_text()
    assert text.count(BEGIN) == 1 and "old script" not in text
    assert text.startswith("before\n" + BEGIN) and text.endswith(END + "\nafter\n")


def test_asks_on_a_terminal(home: dict[str, str]) -> None:
    rc = Path(home["HOME"]) / ".bashrc"
    code, _, err = run(["completion", "install"], home, answer="n\n")
    assert code == 2 and "cancelled" in err and "Proceed? [y/N]" in err
    assert not rc.exists()
    code, _, err = run(["completion", "install"], home, answer="y\n")
    assert code == 0, err
    assert BEGIN in rc.read_text()


def test_follows_a_symlinked_rc_file(home: dict[str, str], tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "bashrc"
    real.parent.mkdir()
    real.write_text("# managed\n")
    link = Path(home["HOME"]) / ".bashrc"
    link.symlink_to(real)
    assert run(["completion", "install", "-y"], home)[0] == 0
    assert link.is_symlink() and BEGIN in real.read_text()


def test_shell_from_dollar_shell_zsh_and_fish(home: dict[str, str], tmp_path: Path) -> None:
    zdot = tmp_path / "zdot"
    zdot.mkdir()
    environ = {**home, "SHELL": "/usr/bin/zsh", "ZDOTDIR": str(zdot)}
    assert run(["completion", "install", "-y"], environ)[0] == 0
    zshrc = (zdot / ".zshrc").read_text()
    assert "compdef _moncompte_completion moncompte" in zshrc and "compinit" in zshrc

    environ = {**home, "SHELL": "/opt/homebrew/bin/fish"}
    code, out, _ = run(["completion", "install", "-y", "-o", "json"], environ)
    assert code == 0
    fish = Path(home["XDG_CONFIG_HOME"]) / "fish" / "completions" / "moncompte.fish"
    assert json.loads(out) == {"shell": "fish", "path": str(fish), "changed": True}
    assert "complete --command moncompte" in fish.read_text()
    assert run(["completion", "install", "-y"], environ)[2].startswith("fish completion is already")


def test_unknown_shell_is_a_usage_error(home: dict[str, str]) -> None:
    code, _, err = run(["completion", "install"], {**home, "SHELL": "/bin/tcsh"})
    assert code == 2 and "bash|zsh|fish" in err
    code, _, err = run(["completion", "install", "-y"], {**home, "SHELL": "/usr/bin/pwsh"})
    assert code == 2 and "completion powershell >> $PROFILE" in err
    assert run(["completion", "install", "ksh"], home)[0] == 2


def test_printing_a_script_still_works(home: dict[str, str]) -> None:
    code, out, _ = run(["completion", "bash"], home)
    assert code == 0 and out == script("bash")
    assert run(["completion", "tcsh"], home)[0] == 2


# --- the ID cache ------------------------------------------------------------------------------


def test_list_commands_remember_the_ids_they_show(run_cli: Any, sandbox: Any) -> None:
    assert run_cli("contracts").exit_code == 0
    assert run_cli("invoices", "--limit", "2", "-o", "ndjson").exit_code == 0
    cache = complete.load(complete.cache_path())
    section = cache[complete.account_key("default", sandbox.url)]
    assert [i for i, _ in section["contracts"]][:2] == ["CT-0000001", "CT-0000002"]
    assert len(section["invoices"]) == 2
    assert os.environ["XDG_CACHE_HOME"] in str(complete.cache_path())


def test_merge_keeps_newest_first_and_bounded() -> None:
    old = [("A", ""), ("B", "")]
    assert complete.merge(old, [("C", "c"), ("A", "a")]) == [("C", "c"), ("A", "a"), ("B", "")]
    assert len(complete.merge([], [(str(n), "") for n in range(900)])) == complete.MAX_IDS


def test_a_corrupt_or_unwritable_cache_never_fails_a_command(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = complete.cache_path()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert run_cli("contracts").exit_code == 0
    assert "CT-0000001" in path.read_text()
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    result = run_cli("contracts")
    assert result.exit_code == 0 and "CT-0000001" in result.stdout


def test_completion_reads_the_cache_and_never_the_network(tmp_path: Path) -> None:
    """The API URL points at a socket that accepts nothing and answers nothing: a network
    call would hang until the timeout. Completion answers at once, and nobody connected."""
    blackhole = socket.socket()
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(8)
    blackhole.setblocking(False)
    url = f"http://127.0.0.1:{blackhole.getsockname()[1]}"
    cache = tmp_path / "cache"
    environ = {
        **os.environ,
        "XDG_CACHE_HOME": str(cache),
        "MONCOMPTE_CONFIG_DIR": str(tmp_path / "config"),
        "MONCOMPTE_API_URL": url,
        "_MONCOMPTE_COMPLETE": "complete_bash",
    }
    complete.save(
        cache / "moncompte" / "ids.json",
        complete.account_key("default", url),
        "invoices",
        [("INV-000000010", ""), ("INV-000000009", ""), ("INV-000000001", "")],
    )
    try:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "cli.app"],
            env={
                **environ,
                "COMP_WORDS": "moncompte invoices show INV-00000001",
                "COMP_CWORD": "3",
            },
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=20,
        )
        elapsed = time.monotonic() - started
        with pytest.raises(BlockingIOError):
            blackhole.accept()  # no connection was ever attempted
    finally:
        blackhole.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["INV-000000010"]
    assert elapsed < 5


def test_completion_sections_by_profile_and_api(tmp_path: Path) -> None:
    path = tmp_path / "moncompte" / "ids.json"
    complete.save(path, complete.account_key("default", None), "contracts", [("CT-1", "")])
    complete.save(path, complete.account_key("work", None), "contracts", [("CT-9", "")])
    environ = {"XDG_CACHE_HOME": str(tmp_path)}
    assert complete.cached_ids(
        "contracts", "CT", profile="default", api_url=None, environ=environ
    ) == [("CT-1", "")]
    assert complete.cached_ids("contracts", "", profile="work", api_url=None, environ=environ) == [
        ("CT-9", "")
    ]
    assert complete.cached_ids("contracts", "", profile="x", api_url=None, environ=environ) == []
