"""`moncompte completion SHELL`: print the shell's completion script.

The scripts come from Typer's own completion support (`typer.completion.shell_complete`
with the `source_<shell>` instruction), so they follow Typer's protocol; at TAB time the
shell runs `moncompte` with `_MONCOMPTE_COMPLETE=complete_<shell>`, which `cli.app.main`
answers with every command registered. Committed copies live in `completions/`; a test
fails when they are stale (regenerate with `python -m commands.completion completions`).
"""

from __future__ import annotations

import contextlib
import enum
import io
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.context import Env

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


def completion(
    ctx: typer.Context,
    shell: Annotated[Shell, typer.Argument(metavar="SHELL", help="bash, zsh, fish or powershell.")],
) -> None:
    """Print the completion script; e.g. `moncompte completion bash >> ~/.bashrc`."""
    env = Env.of(ctx)
    env.out.text(script(shell.value))


def write_all(directory: Path) -> list[Path]:
    """Regenerate the committed scripts under `directory`."""
    written = []
    for shell, name in FILES.items():
        path = directory / name
        path.write_text(script(shell), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m commands.completion completions
    for p in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "completions")):
        print(p)
