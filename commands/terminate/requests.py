"""The requests of `terminate`: the contract and its quote, and rule refusals named with
their code (also used by `claim`)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from cli.context import Env
from cli.errors import RuleError
from cli.i18n import _
from commands.terminate.view import d


def fetch(
    env: Env, contract_id: str, effective: dt.date | None, *, check_withdrawal: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The contract and its termination quote; with `check_withdrawal`, refuse (exit 5)
    when the withdrawal period is over — checked here for a clear message naming the
    deadline; the server checks again and has the last word."""
    client = env.api()
    contract = client.get(f"/v1/contracts/{contract_id}")
    params = {"date": effective.isoformat()} if effective else None
    with rule_refusals():
        quote = client.get(f"/v1/contracts/{contract['id']}/termination-quote", params)
    if check_withdrawal and not quote.get("withdrawal_possible"):
        raise RuleError(
            _(
                "refused by rule withdrawal.period (withdrawal_period_over): the withdrawal "
                "period of {contract} ended on {deadline}; terminate it instead "
                "(moncompte terminate {contract} --quote shows the cost)"
            ).format(contract=contract["id"], deadline=d(env, quote.get("withdrawal_deadline"))),
            rule="withdrawal.period",
            code="withdrawal_period_over",
        )
    return contract, quote


@contextlib.contextmanager
def rule_refusals() -> Iterator[None]:
    """Re-raise a server rule refusal so that its message names both the rule and the code.

    The server's `code` (e.g. `already_terminated`) is what scripts and support search
    for; `cli.errors` names only the rule.
    """
    try:
        yield
    except RuleError as exc:
        if not exc.code:
            raise
        raise RuleError(
            _("refused by rule {rule} ({code}): {detail}").format(
                rule=exc.rule or "-", code=exc.code, detail=exc.detail or exc.message
            ),
            hint=exc.hint,
            status=exc.status,
            code=exc.code,
            rule=exc.rule,
            detail=exc.detail,
        ) from exc
