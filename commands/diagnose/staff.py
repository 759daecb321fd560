"""Staff: `diagnose --account-only --customer/--customers-file` runs the account checks for
each customer through the staff routes and the bulk machinery, one row per customer and
check.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any

import typer

from cli.context import Env
from cli.errors import MoncompteError
from cli.i18n import localized
from cli.output import Column
from commands.bulk import BulkSpec
from commands.diagnose.fetch import fetch_account_data
from commands.diagnose.runner import FailOn, execute
from domain.diagnose import ACCOUNT_EVALUATORS, EXIT_CHECKS_FAILED, Finding, exit_code

if TYPE_CHECKING:
    from commands.bulk import Transport


# --- staff: the account checks of many customers ------------------------------------------


BULK_COLUMNS = [
    Column("id", "id"),
    Column("status", "status"),
    Column("finding", "finding"),
]


class _SharedStatus:
    """`GET /v1/status` once for a whole bulk run (the current terms version)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False
        self._body: dict[str, Any] | None = None

    def get(self, transport: Transport) -> dict[str, Any] | None:
        with self._lock:
            if not self._done:
                try:
                    body = transport.get_json("/v1/status")
                except MoncompteError:
                    body = None
                self._body = dict(body) if isinstance(body, dict) else None
                self._done = True
        return self._body


def diagnose_customers(env: Env, spec: BulkSpec, selected: list[str], fail_on: FailOn) -> None:
    """Each customer's data through the staff routes, the account checks on it, streamed by
    the bulk machinery (failed customers: stderr, --errors, exit 7); else 8 when a check
    reached --fail-on."""
    from commands.bulk import PerCustomer, run_bulk

    today = env.today()
    status = _SharedStatus()

    def check_customer(transport: Transport, customer_id: str) -> list[Finding]:
        prefix = f"/v1/customers/{customer_id}"
        customer = transport.get_json(prefix)
        data = fetch_account_data(
            transport.get_json,
            {"customer": customer},
            prefix,
            today,
            lambda: status.get(transport),
            workers=1,
        )
        return [
            execute(c, functools.partial(ACCOUNT_EVALUATORS[c], data, today), env.now)
            for c in selected
        ]

    reached = False

    def rows_of(_customer_id: str, findings: list[Finding]) -> list[dict[str, Any]]:
        nonlocal reached  # rows_of runs on the main thread only
        reached = reached or bool(exit_code(findings, fail_on))
        rows = [f.to_dict() for f in findings]
        if env.output in ("table", "markdown"):  # a person reads it: their language
            for row, f in zip(rows, findings, strict=True):
                row["finding"] = localized(f.finding)
        return rows

    run_bulk(env, spec, PerCustomer(check_customer), BULK_COLUMNS, rows_of)
    if reached:
        raise typer.Exit(EXIT_CHECKS_FAILED)
