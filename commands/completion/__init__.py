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

The package: `command` (the Typer app: one command per shell, and `install`), `scripts`
(the scripts as Typer generates them, and the committed copies), `installer` (where
`install` puts a script and how it rewrites the file) and `__main__` (the regeneration).
"""

from __future__ import annotations

from commands.completion.command import app, completion

__all__ = ["app", "completion"]
