"""The confirmation of `terminate`: the contract reference typed back at a prompt."""

from __future__ import annotations

from cli.context import Env
from cli.errors import UsageError
from cli.i18n import _


def confirm(env: Env, contract_id: str, question: str) -> None:
    """The contract reference typed back: harder to do by reflex than answering "y"."""
    # End of input (Ctrl-D) propagates: it aborts like Ctrl-C, as every prompt does.
    typed = env.prompt(question, flag="--yes")
    if typed.strip().upper() != contract_id.upper():
        raise UsageError(
            _("the reference typed ({typed}) is not {contract}: nothing was changed").format(
                typed=typed.strip() or _("nothing"), contract=contract_id
            )
        )
