"""`moncompte completion SHELL | completion install [SHELL] [--yes]`: shell completion.

The scripts come from Typer's own completion support (`typer.completion.shell_complete`
with the `source_<shell>` instruction), so they follow Typer's protocol; at TAB time the
shell runs `moncompte` with `_MONCOMPTE_COMPLETE=complete_<shell>`, which `cli.app.main`
answers with every command registered (contract and invoice IDs come from the local cache
of `cli.complete`, never from the network). Committed copies live in `completions/`; a
test fails when they are stale (regenerate with `python -m commands.completion completions`,
which also refreshes the copies the wheel ships, `cli/data/completions/`).

`install` puts the script where the shell reads it: a marked block in ~/.bashrc or
${ZDOTDIR:-~}/.zshrc (replaced in place on a second run, never appended twice), or fish's
completions file. It shows what it will change and asks first; without a terminal it
needs `--yes`. The rc file is rewritten through a temporary file beside it (a symlinked
rc file is followed, so dotfile managers keep their link) and keeps its permissions.
"""

from __future__ import annotations

import contextlib
import enum
import io
import json
import os
import stat
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from cli.context import Env
from cli.errors import UsageError

FILES = {
    "bash": "moncompte.bash",
    "zsh": "_moncompte",
    "fish": "moncompte.fish",
    "powershell": "moncompte.ps1",
}

BEGIN = "# >>> moncompte completion >>>"
END = "# <<< moncompte completion <<<"


class Shell(enum.StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"
    powershell = "powershell"


class RcShell(enum.StrEnum):
    """The shells `install` knows where to put the script for."""

    bash = "bash"
    zsh = "zsh"
    fish = "fish"


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


app = typer.Typer(
    help="Shell completion: print the script for a shell, or install it.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
completion = app  # the name cli.app's COMMANDS table looks up


def _printer(shell: Shell) -> None:
    def command(ctx: typer.Context) -> None:
        env = Env.of(ctx)
        env.out.text(script(shell.value))

    command.__doc__ = f"Print the {shell.value} completion script."
    app.command(shell.value)(command)


for _shell in Shell:
    _printer(_shell)


# --- install -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What `install` would write: the whole new content of one file."""

    shell: str
    path: Path
    old: str | None  # None: the file does not exist
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new

    @property
    def action(self) -> str:
        if self.old is None:
            return "create"
        if not self.changed:
            return "none"
        return "update" if BEGIN in self.old or self.shell == "fish" else "add"


def detect_shell(environ: Mapping[str, str]) -> RcShell:
    """The login shell named by $SHELL (bash, zsh, fish)."""
    name = Path(environ.get("SHELL", "")).name
    if name in ("pwsh", "powershell"):
        raise UsageError(
            "install does not edit PowerShell profiles",
            hint="add it yourself: moncompte completion powershell >> $PROFILE",
        )
    for shell in RcShell:
        if name == shell.value or name.startswith(shell.value + "-"):  # bash-5.2, zsh-5.9
            return shell
    shown = f"SHELL={environ.get('SHELL')!r}" if environ.get("SHELL") else "SHELL is not set"
    raise UsageError(
        f"cannot tell which shell to install for ({shown})",
        hint="name it: moncompte completion install bash|zsh|fish",
    )


def _home(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME")
    return Path(home) if home else Path.home()


def target(shell: RcShell, environ: Mapping[str, str]) -> Path:
    """The file `install` edits for `shell`."""
    home = _home(environ)
    if shell is RcShell.bash:
        return home / ".bashrc"
    if shell is RcShell.zsh:
        return Path(environ.get("ZDOTDIR") or home) / ".zshrc"
    config = environ.get("XDG_CONFIG_HOME")
    base = Path(config) if config and os.path.isabs(config) else home / ".config"
    return base / "fish" / "completions" / "moncompte.fish"


def block(shell: RcShell) -> str:
    """The marked block for an rc file: the script itself, so a new shell pays no start-up
    cost (no `eval "$(moncompte ...)"`, which would run Python at every prompt)."""
    lines = [BEGIN, "# Added by `moncompte completion install`; delete this block to remove it."]
    if shell is RcShell.zsh:  # compdef exists only once compinit has run
        lines.append("(( $+functions[compdef] )) || { autoload -Uz compinit && compinit; }")
    lines.append(script(shell.value).strip("\n"))
    lines.append(END)
    return "\n".join(lines) + "\n"


def with_block(old: str, new_block: str) -> str:
    """`old` with the marked block replaced in place, or appended once when absent."""
    start = old.find(BEGIN)
    if start != -1:
        end = old.find(END, start)
        if end != -1:
            stop = end + len(END)
            if old[stop : stop + 1] == "\n":
                stop += 1
            return old[:start] + new_block + old[stop:]
    if not old:
        return new_block
    separator = "" if old.endswith("\n\n") else ("\n" if old.endswith("\n") else "\n\n")
    return old + separator + new_block


def plan(shell: RcShell, environ: Mapping[str, str]) -> Plan:
    path = target(shell, environ)
    try:
        old: str | None = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text: not editing it") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if shell is RcShell.fish:  # a file of its own in fish's completions dir
        new = f"{BEGIN}\n{script('fish').strip()}\n{END}\n"
    else:
        new = with_block(old or "", block(shell))
    return Plan(shell.value, path, old, new)


def write(path: Path, content: str) -> None:
    """Replace `path` atomically, following a symlink and keeping the file's mode."""
    real = path.resolve() if path.is_symlink() else path
    real.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(real.stat().st_mode)
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode if mode is not None else 0o644)
        os.replace(tmp, real)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _tilde(path: Path, environ: Mapping[str, str]) -> str:
    home = str(_home(environ))
    text = str(path)
    return "~" + text[len(home) :] if text.startswith(home + os.sep) else text


@app.command("install")
def install(
    ctx: typer.Context,
    shell: Annotated[
        RcShell | None,
        typer.Argument(
            metavar="SHELL",
            help="bash, zsh or fish (default: the one $SHELL names).",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Install completion: a marked block in ~/.bashrc or ~/.zshrc, or fish's completions
    file. Asks first; running it again updates the block instead of adding another."""
    env = Env.of(ctx)
    environ = env.environ
    chosen = shell or detect_shell(environ)
    todo = plan(chosen, environ)
    shown = _tilde(todo.path, environ)
    reload = (
        "open a new terminal" if chosen is RcShell.fish else f"open a new terminal, or: . {shown}"
    )
    if not todo.changed:
        env.out.notice(f"{chosen.value} completion is already installed in {shown}")
    else:
        what = {
            "create": f"create {shown} with the completion script",
            "add": f"add a 'moncompte completion' block at the end of {shown}",
            "update": f"update the 'moncompte completion' block in {shown}",
        }[todo.action]
        if not yes:
            if not env.can_prompt:
                raise UsageError(
                    f"not editing {shown} without asking, and there is no terminal to ask on",
                    hint="add --yes to install without asking",
                )
            if not env.confirm(f"This will {what}. Proceed? [y/N] "):
                raise UsageError(f"cancelled: {shown} was not changed")
        try:
            write(todo.path, todo.new)
        except OSError as exc:
            raise UsageError(f"cannot write {shown}: {exc.strerror or exc}") from None
        env.out.notice(f"{chosen.value} completion installed in {shown}; {reload}")
    if env.out.fmt in ("json", "ndjson"):
        result = {"shell": chosen.value, "path": str(todo.path), "changed": todo.changed}
        env.out.text(json.dumps(result))


def write_all(directory: Path) -> list[Path]:
    """Regenerate the committed scripts under `directory`."""
    written = []
    for shell, name in FILES.items():
        path = directory / name
        path.write_text(script(shell), encoding="utf-8")
        written.append(path)
    return written


# The copies shipped in the wheel (package data), beside the man page.
SHIPPED = Path(__file__).resolve().parent.parent / "cli" / "data" / "completions"

if __name__ == "__main__":  # python -m commands.completion completions
    targets = [Path(a) for a in sys.argv[1:]] or [Path("completions")]
    if Path("completions") in targets and SHIPPED.parent.is_dir():
        targets.append(SHIPPED)
    for directory in targets:
        directory.mkdir(parents=True, exist_ok=True)
        for p in write_all(directory):
            print(p)
