"""Bash completion for real: bash sources the committed `completions/moncompte.bash`, gets
COMP_WORDS/COMP_CWORD as readline would set them, and calls the completion function, which
runs the installed `moncompte` (first on PATH). Subcommands come from the app; contract and
invoice IDs from the cache a list command wrote, with no server running at TAB time.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TODAY, _start_sandbox

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "completions" / "moncompte.bash"
BIN_DIR = Path(sys.executable).parent
BINARY = shutil.which("moncompte", path=str(BIN_DIR))
BASH = shutil.which("bash")
pytestmark = [
    pytest.mark.skipif(BINARY is None, reason="moncompte is not installed in this venv"),
    pytest.mark.skipif(BASH is None, reason="no bash on this machine"),
]


def environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONCOMPTE_", "COMP_"))}
    env.update(
        PATH=f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}",
        MONCOMPTE_CONFIG_DIR=str(tmp_path / "config"),
        MONCOMPTE_TODAY=TODAY.isoformat(),
        LANG="C.UTF-8",
    )
    env.update(extra)
    return env  # XDG_* (the cache among them) come from the autouse fixture


def tab(line: str, env: dict[str, str]) -> list[str]:
    """What bash offers for TAB at the end of `line` (a trailing space: a new word)."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    if line.endswith(" "):
        words.append("")
    program = "\n".join(
        [
            f"source {shlex.quote(str(SCRIPT))}",
            f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})",
            f"COMP_CWORD={cword}",
            f"COMP_LINE={shlex.quote(line)}",
            f"COMP_POINT={len(line)}",
            "_moncompte_completion moncompte",
            'printf "%s\\n" "${COMPREPLY[@]}"',
        ]
    )
    assert BASH is not None
    result = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", program],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return [w for w in result.stdout.splitlines() if w]


def test_script_is_the_one_the_app_prints() -> None:
    from commands.completion.scripts import script

    assert SCRIPT.read_text() == script("bash")


def test_subcommands(tmp_path: Path) -> None:
    env = environ(tmp_path)
    assert tab("moncompte invoices sh", env) == ["show"]
    assert tab("moncompte conf", env) == ["config"]
    assert set(tab("moncompte invoices ", env)) >= {"list", "show", "download"}
    assert tab("moncompte completion ins", env) == ["install"]


def test_ids_from_the_cache_with_the_server_gone(tmp_path: Path) -> None:
    """`invoices` and `contracts` fill the cache; the server then stops, and TAB still
    offers the IDs: completion reads only the cache."""
    assert BINARY is not None
    box, running = _start_sandbox(tmp_path / "sandbox.db")
    try:
        env = environ(tmp_path, MONCOMPTE_API_URL=box.url, MONCOMPTE_TOKEN=box.customer_token)
        for command in (["invoices"], ["contracts", "-o", "csv"]):
            listed = subprocess.run(
                [BINARY, *command], env=env, capture_output=True, text=True, timeout=60
            )
            assert listed.returncode == 0, listed.stderr
    finally:
        running.stop()  # the API is gone from here on

    offered = tab("moncompte invoices show INV-00000001", env)
    assert "INV-000000014" in offered and all(w.startswith("INV-00000001") for w in offered)
    assert tab("moncompte invoices download INV-000000009", env) == ["INV-000000009"]
    assert tab("moncompte terminate CT-0000003", env) == ["CT-0000003"]
    assert set(tab("moncompte schedule ", env)) == {f"CT-000000{n}" for n in range(1, 5)}
    # Another profile has seen nothing: the demo IDs are not offered for it.
    assert tab("moncompte --profile work contracts show ", env) == []
