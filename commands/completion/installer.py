"""The rc-file installer of `completion install`: which file a shell reads, the marked block
in it, and rewriting it in place (atomically, following a symlink, keeping its mode)."""

from __future__ import annotations

import contextlib
import enum
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cli.errors import UsageError
from cli.files import cannot_read
from cli.i18n import _
from commands.completion.scripts import script

BEGIN = "# >>> moncompte completion >>>"
END = "# <<< moncompte completion <<<"


class RcShell(enum.StrEnum):
    """The shells `install` knows where to put the script for."""

    bash = "bash"
    zsh = "zsh"
    fish = "fish"


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
            _("install does not edit PowerShell profiles"),
            hint=_("add it yourself: moncompte completion powershell >> $PROFILE"),
        )
    for shell in RcShell:
        if name == shell.value or name.startswith(shell.value + "-"):  # bash-5.2, zsh-5.9
            return shell
    shown = f"SHELL={environ.get('SHELL')!r}" if environ.get("SHELL") else _("SHELL is not set")
    raise UsageError(
        _("cannot tell which shell to install for ({shell})").format(shell=shown),
        hint=_("name it: moncompte completion install bash|zsh|fish"),
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
        raise UsageError(_("{path} is not UTF-8 text: not editing it").format(path=path)) from None
    except OSError as exc:
        raise cannot_read(path, exc) from None

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


def tilde(path: Path, environ: Mapping[str, str]) -> str:
    home = str(_home(environ))
    text = str(path)
    return "~" + text[len(home) :] if text.startswith(home + os.sep) else text
