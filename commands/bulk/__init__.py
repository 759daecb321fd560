"""Bulk lookups for support staff: one read command run for thousands of customers.

The package: `options` (the command-line options and `BulkSpec`), `ids` (reading the IDs),
`fetch` (batches, retries, the pool-wide gate), `output` (streaming rows, progress) and
`run` (the runner). Importing it is cheap: the heavy parts load when a run starts.

A read command opts in with two lines (see `commands/customers.py`)::

    @bulk_options                                   # adds --customer, --customers-file, ...
    def list_(ctx: typer.Context, ..., bulk: BulkSpec = NO_BULK) -> None:
        if bulk.active:
            return run_bulk(Env.of(ctx), bulk, Lookup("invoices", {...}), columns)

How it runs (architecture: "Bulk lookups"):
- IDs are read lazily (`commands.bulk.ids`), deduplicated, checked, cut into batches of 100 for
  `POST /v1/lookup` (one request answers 100 customers), or of 1 for commands the batch
  endpoint does not serve (`PerCustomer`);
- `--concurrency N` batches are in flight at once (default 8) on the run's one keep-alive
  connection pool (`env.api()`), from worker threads; the main thread alone writes, in
  the order of the input, so output lines are always whole and the window of pending
  results (2 x N batches) bounds memory whatever the length of the list;
- 429/503 with `Retry-After` pause the whole pool, not one worker; `--rate R` caps the
  requests started per second; transport errors and 502/504 are retried with jittered
  backoff; a batch that still fails fails its customers, never the run;
- a failed customer is reported on stderr (and, with `--errors FILE`, as a JSON line
  `{"id", "status", "reason"}` that `--customers-file FILE` reads back); unknown IDs
  (404) are failures too; exit 7 when any failed;
- a progress line on stderr when it is a terminal (done, failed, rate, ETA);
- Ctrl-C stops cleanly: the signal only sets a flag, the writer finishes its line (and
  closes a JSON array), and a summary says how far the run got (exit 130).

Heavy imports (httpx, concurrent.futures) happen when a bulk run starts, never at import:
this module is imported by every read command.
"""

from commands.bulk.fetch import Fetcher, Gate, Lookup, Outcome, PerCustomer, Stopped, Transport
from commands.bulk.options import NO_BULK, BulkSpec, bulk_options
from commands.bulk.output import list_rows, single_row
from commands.bulk.run import bulk_columns, choose_format, run_bulk

__all__ = [
    "NO_BULK",
    "BulkSpec",
    "Fetcher",
    "Gate",
    "Lookup",
    "Outcome",
    "PerCustomer",
    "Stopped",
    "Transport",
    "bulk_columns",
    "bulk_options",
    "choose_format",
    "list_rows",
    "run_bulk",
    "single_row",
]
