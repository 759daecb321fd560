"""`moncompte reschedule CONTRACT INSTALMENT (--to DATE | --by DAYS)`: postpone an instalment.

The server decides (domain.reschedule's conditions: not yet due, not failed, at most 30
days after the original due date and before the plan's end + 30 days, one postponement
per instalment and two per plan). The command asks it first for the options of this
instalment (`reschedule-options`): when no date is possible it stops with exit 5 and the
server's reason, before anything is asked or sent; otherwise it shows the window and the
suggested dates. Then `--dry-run` stops, a terminal confirms or `--yes` does, and the POST
is made; a refusal then (a date out of the window) is exit 5 naming the rule too.

The package: `command` (the command: options, the calls, the summary shown) and `refusals`
(why a postponement is refused: the server's reason, or the domain rule a date breaks).
"""

from __future__ import annotations

from commands.reschedule.command import reschedule

# cli/app.py names this command's attribute "app" and falls back to `reschedule`, the command
# function (one command, not a group), which it registers with `app.command("reschedule")`.
__all__ = ["reschedule"]
