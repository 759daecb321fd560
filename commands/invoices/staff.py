"""Staff: `invoices --customer/--customers-file` lists the invoices of many customers
through the bulk runner, with the list's filters applied to each customer's list."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from cli.context import Env
from commands.bulk import BulkSpec, Lookup, list_rows, run_bulk
from commands.invoices.columns import machine_columns
from commands.invoices.options import Status


def bulk_list(
    env: Env,
    bulk: BulkSpec,
    status: Status,
    start: dt.date | None,
    end: dt.date | None,
    contract: str | None,
    limit: int | None,
) -> None:
    """Staff, many customers: `POST /v1/lookup` filters on the status; the dates, the
    contract and the per-customer --limit are applied here to each customer's list."""
    since, until = (start.isoformat() if start else None), (end.isoformat() if end else None)

    def rows_of(_customer_id: str, data: Any) -> Iterable[Mapping[str, Any]]:
        kept = (
            r
            for r in list_rows(_customer_id, data)
            if (since is None or str(r.get("issue_date")) >= since)
            and (until is None or str(r.get("issue_date")) <= until)
            and (contract is None or r.get("contract_id") == contract)
        )
        return list(itertools.islice(kept, limit))

    run_bulk(env, bulk, Lookup("invoices", {"status": status.value}), machine_columns(), rows_of)
