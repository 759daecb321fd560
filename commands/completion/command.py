"""The `completion` command: one subcommand per shell printing its script, and `install`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli.context import Env
from cli.errors import UsageError
from cli.files import cannot_write
from cli.i18n import _
from commands.completion.installer import RcShell, detect_shell, plan, tilde, write
from commands.completion.scripts import Shell, script

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
    shown = tilde(todo.path, environ)
    reload = (
        _("open a new terminal")
        if chosen is RcShell.fish
        else _("open a new terminal, or: . {path}").format(path=shown)
    )
    if not todo.changed:
        env.out.notice(
            _("{shell} completion is already installed in {path}").format(
                shell=chosen.value, path=shown
            )
        )
    else:
        what = {
            "create": _("create {path} with the completion script"),
            "add": _("add a 'moncompte completion' block at the end of {path}"),
            "update": _("update the 'moncompte completion' block in {path}"),
        }[todo.action].format(path=shown)
        if not yes:
            if not env.can_prompt:
                raise UsageError(
                    _(
                        "not editing {path} without asking, and there is no terminal to ask on"
                    ).format(path=shown),
                    hint=_("add --yes to install without asking"),
                )
            if not env.confirm(_("This will {what}. Proceed? [y/N] ").format(what=what)):
                raise UsageError(_("cancelled: {path} was not changed").format(path=shown))
        try:
            write(todo.path, todo.new)
        except OSError as exc:
            raise cannot_write(shown, exc) from None
        env.out.notice(
            _("{shell} completion installed in {path}; {reload}").format(
                shell=chosen.value, path=shown, reload=reload
            )
        )

    if env.out.fmt in ("json", "ndjson"):
        result = {"shell": chosen.value, "path": str(todo.path), "changed": todo.changed}
        env.out.text(json.dumps(result))
