"""`moncompte sandbox start|stop|status|reset|token|serve`: the built-in sandbox.

`command` holds the Typer commands; `local` what they do with databases and processes.
"""

from commands.sandbox.command import app

__all__ = ["app"]
