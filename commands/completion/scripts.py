"""The completion scripts, as Typer generates them, and the committed copies of them."""

from __future__ import annotations

import contextlib
import enum
import io
from pathlib import Path

FILES = {
    "bash": "moncompte.bash",
    "zsh": "_moncompte",
    "fish": "moncompte.fish",
    "powershell": "moncompte.ps1",
}


class Shell(enum.StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"
    powershell = "powershell"


def script(shell: str) -> str:
    """The completion script for `shell`, as Typer generates it."""
    import typer.completion
    import typer.main

    from cli.app import COMPLETE_VAR, PROG, build_app

    # Building the command registers Typer's shell classes (bash, zsh, fish, powershell).
    command = typer.main.get_command(build_app(stubs=True))
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = typer.completion.shell_complete(command, {}, PROG, COMPLETE_VAR, f"source_{shell}")
    if code != 0:
        raise RuntimeError(f"no completion script for {shell}")
    return buffer.getvalue()


def write_all(directory: Path) -> list[Path]:
    """Regenerate the committed scripts under `directory`."""
    written = []
    for shell, name in FILES.items():
        path = directory / name
        path.write_text(script(shell), encoding="utf-8")
        written.append(path)
    return written
