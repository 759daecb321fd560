"""Bulk lookups for support staff: one read command run for thousands of customers.

A read command opts in with two lines (see `commands/customers.py`)::

    @bulk_options                                   # adds --customer, --customers-file, ...
    def list_(ctx: typer.Context, ..., bulk: BulkSpec = NO_BULK) -> None:
        if bulk.active:
            return run_bulk(Env.of(ctx), bulk, Lookup("invoices", {...}), columns)

How it runs (architecture: "Bulk lookups"):
- IDs are read lazily (`cli.ids`), deduplicated, checked, cut into batches of 100 for
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

from __future__ import annotations

import functools
import inspect
import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from cli.errors import (
    AuthError,
    Interrupted,
    MoncompteError,
    NetworkError,
    NotFoundError,
    PartialFailure,
    UsageError,
)
from cli.output import Column, lookup, raw

if TYPE_CHECKING:
    from cli.context import Env
    from cli.http import ApiClient
    from cli.ids import RawId

LOOKUP_PATH = "/v1/lookup"
LOOKUP_BATCH = 100  # the API's maximum per call
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 32
TABLE_MAX_CUSTOMERS = 100  # a table needs every row before it prints: small runs only
MAX_ATTEMPTS = 5  # per batch, for transport errors and 5xx answers
MAX_THROTTLED = 10  # per batch, for 429/503 (the server said when to come back)
RETRY_AFTER_CAP = 30.0
BACKOFF_BASE = 0.2
BACKOFF_CAP = 5.0
PROGRESS_EVERY = 0.1  # seconds between progress redraws

HUMAN_FORMATS = ("table", "markdown")

# --- the options -----------------------------------------------------------------------------

CustomerOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--customer",
        metavar="ID",
        help="Staff: run for this customer (repeatable); see also --customers-file.",
        show_default=False,
    ),
]
CustomersFileOpt = Annotated[
    str | None,
    typer.Option(
        "--customers-file",
        metavar="FILE",
        help="Staff: run for the customer IDs in FILE (- for stdin), one a line; blank "
        "lines and # comments skipped, duplicates looked up once. Results stream with "
        "the customer ID on each row.",
        show_default=False,
    ),
]
ConcurrencyOpt = Annotated[
    int,
    typer.Option(
        "--concurrency",
        min=1,
        max=MAX_CONCURRENCY,
        metavar="N",
        help="Bulk: requests in flight at once (each answers up to 100 customers).",
    ),
]
RateOpt = Annotated[
    float | None,
    typer.Option(
        "--rate",
        min=0.01,
        metavar="PER_SECOND",
        help="Bulk: at most this many requests started per second.",
        show_default=False,
    ),
]
ErrorsOpt = Annotated[
    str | None,
    typer.Option(
        "--errors",
        metavar="FILE",
        help="Bulk: also write each failed customer to FILE as a JSON line (id, status, "
        "reason); rerun them with --customers-file FILE.",
        show_default=False,
    ),
]


@dataclass(frozen=True)
class BulkSpec:
    """The bulk options of one invocation; `active` when any customer was given."""

    customers: tuple[str, ...] = ()
    customers_file: str | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    rate: float | None = None
    errors: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.customers) or self.customers_file is not None

    def __bool__(self) -> bool:
        return self.active


NO_BULK = BulkSpec()

_OPTION_PARAMS: tuple[tuple[str, Any, Any], ...] = (
    ("bulk_customer", CustomerOpt, None),
    ("bulk_customers_file", CustomersFileOpt, None),
    ("bulk_concurrency", ConcurrencyOpt, DEFAULT_CONCURRENCY),
    ("bulk_rate", RateOpt, None),
    ("bulk_errors", ErrorsOpt, None),
)

F = TypeVar("F", bound=Callable[..., Any])


def bulk_options(func: F) -> F:
    """Add the bulk options to a Typer command whose last parameter is `bulk: BulkSpec`.

    The options reach the function as one `BulkSpec`, so a command adds two lines: this
    decorator and `if bulk.active: return run_bulk(...)`.
    """
    signature = inspect.signature(func, eval_str=True)
    if "bulk" not in signature.parameters:
        raise TypeError(f"{func.__qualname__} needs a `bulk: BulkSpec = NO_BULK` parameter")
    params = [p for p in signature.parameters.values() if p.name != "bulk"]
    params += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=ann)
        for name, ann, default in _OPTION_PARAMS
    ]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        spec = BulkSpec(
            customers=tuple(kwargs.pop("bulk_customer", None) or ()),
            customers_file=kwargs.pop("bulk_customers_file", None),
            concurrency=int(kwargs.pop("bulk_concurrency", DEFAULT_CONCURRENCY)),
            rate=kwargs.pop("bulk_rate", None),
            errors=kwargs.pop("bulk_errors", None),
        )
        return func(*args, bulk=spec, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    wrapper.__annotations__["return"] = signature.return_annotation
    return wrapper  # type: ignore[return-value]


# --- what a batch gives back -------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One customer's answer: `data` when status is 200, else a `reason`."""

    customer_id: str
    status: int
    data: Any = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


class Fetcher:
    """Turns a batch of IDs into one outcome per ID (runs in a worker thread)."""

    @property
    def batch_size(self) -> int:
        return 1

    def fetch(self, client: Transport, ids: list[str]) -> list[Outcome]:  # pragma: no cover
        raise NotImplementedError

    def preflight(self, env: Env) -> None:
        """Checks before the first batch (e.g. a staff login)."""


@dataclass
class Lookup(Fetcher):
    """`POST /v1/lookup`: one resource for up to 100 customers per request."""

    resource: str
    filters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def batch_size(self) -> int:
        return LOOKUP_BATCH

    def fetch(self, client: Transport, ids: list[str]) -> list[Outcome]:
        body = {"customer_ids": ids, "resource": self.resource, "filters": dict(self.filters)}
        try:
            answer = client.call("POST", LOOKUP_PATH, json=body, ids=ids)
        except NotFoundError as exc:
            if exc.status == 403:  # a customer's token on a staff endpoint
                raise _not_staff() from None
            raise
        if isinstance(answer, list):  # the whole batch failed: one outcome per id already
            return answer
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list):
            return [Outcome(i, 502, reason="the server answered no results") for i in ids]
        outcomes = []
        by_id: dict[str, Outcome] = {}
        for item in results:
            if not isinstance(item, dict):
                continue
            cid = str(item.get("customer_id"))
            status = item.get("status")
            code = status if isinstance(status, int) else 502
            if code == 200:
                by_id[cid] = Outcome(cid, 200, item.get("data"))
            else:
                by_id[cid] = Outcome(cid, code, reason=_reason(item.get("error"), code))
        for i in ids:
            outcomes.append(by_id.get(i) or Outcome(i, 502, reason="missing from the answer"))
        return outcomes


@dataclass
class PerCustomer(Fetcher):
    """One customer at a time, for what the batch endpoint does not serve: `get(client,
    id)` returns the data or raises a MoncompteError carrying the HTTP status."""

    get: Callable[[Transport, str], Any]

    def fetch(self, client: Transport, ids: list[str]) -> list[Outcome]:
        outcomes = []
        for cid in ids:
            try:
                outcomes.append(Outcome(cid, 200, self.get(client, cid)))
            except (AuthError, Interrupted):
                raise
            except MoncompteError as exc:
                outcomes.append(Outcome(cid, exc.status or 0, reason=exc.detail or exc.message))
        return outcomes

    def preflight(self, env: Env) -> None:
        me = env.api().get("/v1/me")
        if not isinstance(me, dict) or me.get("scope") != "staff":
            raise _not_staff()


def _not_staff() -> AuthError:
    return AuthError(
        "--customer and --customers-file need a staff login",
        hint="log in as a support agent ('moncompte login'), or set MONCOMPTE_TOKEN",
    )


def _reason(problem: Any, status: int) -> str:
    if isinstance(problem, dict):
        detail = problem.get("detail") or problem.get("title")
        if isinstance(detail, str) and detail:
            return detail
    return f"HTTP {status}"


# --- the shared clock of the pool: Retry-After pauses and --rate --------------------------------


class Gate:
    """Where every worker waits before a request: a pool-wide pause (set by a 429 or 503
    with Retry-After) and an optional rate limit. Sleeps wake up on `stop`."""

    def __init__(
        self,
        stop: threading.Event,
        rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._stop = stop
        self._interval = 1.0 / rate if rate else 0.0
        self._next_slot = 0.0
        self._resume_at = 0.0
        self._clock = clock
        self.pauses = 0

    def pause(self, seconds: float) -> None:
        with self._lock:
            until = self._clock() + seconds
            if until > self._resume_at:
                self._resume_at = until
                self.pauses += 1

    def wait_turn(self) -> bool:
        """Block until this worker may send; False when the run is stopping."""
        while not self._stop.is_set():
            with self._lock:
                now = self._clock()
                start = max(now, self._resume_at)
                if self._interval:
                    start = max(start, self._next_slot)
                if start <= now:
                    if self._interval:
                        self._next_slot = now + self._interval
                    return True
            self._stop.wait(min(start - now, 1.0))
        return False

    def sleep(self, seconds: float) -> bool:
        """A worker's own backoff; False when the run is stopping."""
        return not self._stop.wait(seconds)


class Stopped(Exception):
    """The run is stopping (Ctrl-C or a fatal error): a worker gives up its batch."""


class Transport:
    """What workers send through: the run's ApiClient (one connection pool), with the
    bulk retry policy on top (the pool-wide pause is the `Gate`'s)."""

    def __init__(self, api: ApiClient, gate: Gate, *, sleep_jitter: bool = True) -> None:
        self.api = api
        self.gate = gate
        self._jitter = sleep_jitter
        self.requests = 0
        self._count_lock = threading.Lock()

    def _backoff(self, attempt: int) -> float:
        cap = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
        return random.uniform(cap / 2, cap) if self._jitter else cap

    def call(self, method: str, path: str, *, json: Any = None, ids: Sequence[str] = ()) -> Any:
        """The decoded JSON of a 2xx answer; for a batch that could not be answered, one
        failed Outcome per id. Auth failures and refused requests stop the run."""
        from cli.http import retry_after_seconds

        attempts = throttled = 0
        while True:
            if not self.gate.wait_turn():
                raise Stopped
            with self._count_lock:
                self.requests += 1
            try:
                response = self.api.send(method, path, json=json, retry=False)
            except NetworkError as exc:
                attempts += 1
                if attempts >= MAX_ATTEMPTS:
                    return [Outcome(i, 0, reason=exc.message) for i in ids]
                if not self.gate.sleep(self._backoff(attempts)):
                    raise Stopped from None
                continue
            status = response.status_code
            if status < 300:
                try:
                    return response.json()
                except ValueError:
                    return [Outcome(i, 502, reason="the answer was not JSON") for i in ids]
            if status in (429, 503):
                throttled += 1
                delay = retry_after_seconds(response.headers.get("Retry-After"), time.time())
                if throttled >= MAX_THROTTLED:
                    reason = "rate limited" if status == 429 else "service unavailable"
                    return [Outcome(i, status, reason=f"{reason} (gave up)") for i in ids]
                wait = min(delay, RETRY_AFTER_CAP) if delay is not None else None
                if wait is None:
                    wait = self._backoff(throttled)
                self.gate.pause(wait)  # everyone waits: the server asked for less load
                continue
            if status >= 500:
                attempts += 1
                if attempts >= MAX_ATTEMPTS:
                    reason = _reason(_json_or_none(response), status)
                    return [Outcome(i, status, reason=reason) for i in ids]
                if not self.gate.sleep(self._backoff(attempts)):
                    raise Stopped
                continue
            self.api.check(response)  # 401, 403, 404, 422 ...: raise the typed error
            return None

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET one resource for `PerCustomer`: the JSON, or the typed error (with its
        status) of an answer that stayed a failure after the retries."""
        query = "&".join(f"{k}={v}" for k, v in (params or {}).items() if v is not None)
        answer = self.call("GET", path + (f"?{query}" if query else ""), ids=["-"])
        if isinstance(answer, list):
            failed = answer[0]
            raise MoncompteError(failed.reason or "failed", status=failed.status)
        return answer


def _json_or_none(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


# --- output ----------------------------------------------------------------------------------

RowsOf = Callable[[str, Any], Iterable[Mapping[str, Any]]]


def single_row(_customer_id: str, data: Any) -> Iterable[Mapping[str, Any]]:
    """The rows of a resource that is one object per customer (the customer itself)."""
    return [data] if isinstance(data, Mapping) else []


def list_rows(_customer_id: str, data: Any) -> Iterable[Mapping[str, Any]]:
    """The rows of a resource that is a list per customer (invoices, contracts)."""
    return [r for r in data if isinstance(r, Mapping)] if isinstance(data, list) else []


class Writer:
    """Streams rows to stdout, a batch at a time, from the main thread only."""

    def __init__(self, stream: IO[str], fmt: str, columns: Sequence[Column]) -> None:
        self.stream = stream
        self.fmt = fmt
        self.columns = list(columns)
        self.keys = [c.key for c in self.columns]
        self.rows = 0
        self._started = False
        self._table: list[dict[str, Any]] = []
        self._csv: Any = None
        self._buffer: Any = None

    def start(self) -> None:
        self._started = True
        if self.fmt in ("csv", "tsv"):
            import csv
            import io

            self._buffer = io.StringIO()
            self._csv = csv.writer(
                self._buffer, delimiter="," if self.fmt == "csv" else "\t", lineterminator="\n"
            )
            self._csv.writerow(self.keys)
            self._flush_csv()
        elif self.fmt == "json":
            self.stream.write("[")
            self.stream.flush()

    def _pick(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {k: lookup(row, k) for k in self.keys}

    def write(self, rows: Iterable[Mapping[str, Any]]) -> None:
        fmt = self.fmt
        if fmt == "ndjson":
            lines = [json.dumps(self._pick(r), ensure_ascii=False) for r in rows]
            if lines:
                self.stream.write("\n".join(lines) + "\n")
                self.stream.flush()
                self.rows += len(lines)
        elif fmt in ("csv", "tsv"):
            n = 0
            for r in rows:
                self._csv.writerow([raw(lookup(r, k)) for k in self.keys])
                n += 1
            if n:
                self._flush_csv()
                self.rows += n
        elif fmt == "json":
            parts = []
            for r in rows:
                item = json.dumps(self._pick(r), ensure_ascii=False)
                parts.append(("," if self.rows else "") + "\n" + item)
                self.rows += 1
            if parts:
                self.stream.write("".join(parts))
                self.stream.flush()
        else:  # table / markdown: small runs only, rendered at the end
            for r in rows:
                self._table.append(dict(r))
                self.rows += 1

    def _flush_csv(self) -> None:
        self.stream.write(self._buffer.getvalue())
        self.stream.flush()
        self._buffer.seek(0)
        self._buffer.truncate()

    def finish(self, env: Env) -> None:
        if not self._started:
            return
        if self.fmt == "json":
            self.stream.write(("\n" if self.rows else "") + "]\n")
            self.stream.flush()
        elif self.fmt in HUMAN_FORMATS:
            env.out.render(self._table, self.columns, fmt=self.fmt)


# --- progress --------------------------------------------------------------------------------


class Progress:
    """`done 4,300/10,000 · failed 12 · 2,150/s · ETA 3 s` on a terminal's stderr."""

    def __init__(self, stream: IO[str], enabled: bool, total: int | None) -> None:
        self.stream = stream
        self.enabled = enabled
        self.total = total
        self.started = time.monotonic()
        self._drawn = 0.0
        self._shown = False

    def clear(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False

    def draw(self, done: int, failed: int, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn < PROGRESS_EVERY:
            return
        self._drawn = now
        elapsed = max(now - self.started, 1e-6)
        processed = done + failed
        rate = processed / elapsed
        parts = []
        if self.total:
            share = min(processed / self.total, 1.0)
            filled = int(share * 20)
            bar = "#" * filled + "." * (20 - filled)
            parts.append(f"[{bar}] {processed:,}/{self.total:,}")
        else:
            parts.append(f"{processed:,}")
        parts.append(f"done {done:,}")
        parts.append(f"failed {failed:,}")
        parts.append(f"{rate:,.0f}/s")
        if self.total and rate > 0 and processed < self.total:
            parts.append(f"ETA {_duration((self.total - processed) / rate)}")
        self.stream.write("\r\x1b[K" + " · ".join(parts))
        self.stream.flush()
        self._shown = True


def _duration(seconds: float) -> str:
    seconds = max(0, math.ceil(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Summary:
    done: int = 0
    failed: int = 0
    rows: int = 0
    interrupted: bool = False
    elapsed: float = 0.0

    @property
    def processed(self) -> int:
        return self.done + self.failed


def bulk_columns(columns: Sequence[Column]) -> list[Column]:
    """`customer_id` first, then the command's columns (without a second customer_id)."""
    return [Column("customer_id", "customer"), *(c for c in columns if c.key != "customer_id")]


def choose_format(env: Env, spec: BulkSpec) -> str:
    """The output format of a bulk run: ndjson unless one was asked for; a table only
    when asked and small (checked by the caller once the IDs are known)."""
    fmt = env.out.fmt
    if fmt in HUMAN_FORMATS:
        _, source = env.setting("output")
        if source == "default":
            return "ndjson"
    return fmt


def run_bulk(
    env: Env,
    spec: BulkSpec,
    fetcher: Fetcher,
    columns: Sequence[Column],
    rows_of: RowsOf = list_rows,
) -> int:
    """Run `fetcher` for every customer of `spec`, stream the rows, report failures.

    Returns 0 when every customer was answered; raises PartialFailure (exit 7) when some
    failed, Interrupted (130) on Ctrl-C, and the typed error of anything that makes the
    whole run pointless (not logged in, not staff, a refused filter).
    """
    from cli.ids import IdSource

    source = IdSource(spec.customers, spec.customers_file, env.stdin)
    source.check_readable()
    fmt = choose_format(env, spec)
    cols = bulk_columns(columns)
    if env.options.columns:
        cols = env.out.choose(cols)
    ids: Iterator[RawId] = iter(source)
    if fmt in HUMAN_FORMATS:
        head = list(_take(ids, TABLE_MAX_CUSTOMERS + 1))
        if len(head) > TABLE_MAX_CUSTOMERS:
            raise UsageError(
                f"a {fmt} is for up to {TABLE_MAX_CUSTOMERS} customers",
                hint="use -o ndjson or -o csv, which stream",
            )
        ids = iter(head)
    show_progress = bool(env.stderr_isatty) and not env.quiet
    total = source.count() if show_progress else None
    runner = _Runner(env, spec, fetcher, Writer(env.stdout, fmt, cols), rows_of, total)
    summary = runner.run(ids)
    return _conclude(env, spec, summary)


def _take(values: Iterator[RawId], n: int) -> Iterator[RawId]:
    for _, value in zip(range(n), values, strict=False):
        yield value


def _conclude(env: Env, spec: BulkSpec, s: Summary) -> int:
    what = f"{s.processed:,} customer{'s' if s.processed != 1 else ''}"
    detail = f"{s.done:,} answered, {s.failed:,} failed, {s.rows:,} rows, {s.elapsed:.1f} s"
    if s.interrupted:
        env.out.warn(f"interrupted after {what} ({detail}); the output so far is complete")
        raise Interrupted("interrupted", hint=_rerun_hint(spec, s))
    env.out.notice(f"looked up {what}: {detail}")
    if s.failed:
        raise PartialFailure(
            f"{s.failed:,} of {s.processed:,} customers failed", hint=_rerun_hint(spec, s)
        )
    return 0


def _rerun_hint(spec: BulkSpec, s: Summary) -> str | None:
    if not s.failed:
        return None
    if spec.errors:
        return f"rerun the failed ones with --customers-file {spec.errors}"
    return "add --errors FILE to keep the failed IDs, then rerun with --customers-file FILE"


class _Runner:
    def __init__(
        self,
        env: Env,
        spec: BulkSpec,
        fetcher: Fetcher,
        writer: Writer,
        rows_of: RowsOf,
        total: int | None,
    ) -> None:
        self.env = env
        self.spec = spec
        self.fetcher = fetcher
        self.writer = writer
        self.rows_of = rows_of
        self.summary = Summary()
        self.stop = threading.Event()
        self.interrupts = 0
        self.progress = Progress(env.stderr, bool(env.stderr_isatty) and not env.quiet, total=total)
        self._errors: IO[str] | None = None
        self.fatal: Exception | None = None
        self._fatal_lock = threading.Lock()

    # -- Ctrl-C: a flag, so that no write is ever cut in the middle ------------------------

    def _on_sigint(self, _signum: int, _frame: Any) -> None:
        self.interrupts += 1
        self.stop.set()
        if self.interrupts > 1:  # a second Ctrl-C: the user really wants out
            raise KeyboardInterrupt

    def run(self, ids: Iterator[RawId]) -> Summary:
        import signal

        previous: Any = None
        try:
            previous = signal.signal(signal.SIGINT, self._on_sigint)
        except ValueError:  # not the main thread (embedded use): Ctrl-C is someone else's
            previous = None
        try:
            self._open_errors()
            self.fetcher.preflight(self.env)
            api = self.env.api()
            api.tokens  # noqa: B018 - load the credential once, before the threads share it
            self.writer.start()
            self._loop(api, ids)
        except KeyboardInterrupt:
            self.stop.set()
            self.summary.interrupted = True
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            self.progress.clear()
            if self.interrupts:
                self.summary.interrupted = True
            self.writer.finish(self.env)
            if self._errors is not None:
                self._errors.close()
            self.summary.rows = self.writer.rows
            self.summary.elapsed = time.monotonic() - self.progress.started
        return self.summary

    def _open_errors(self) -> None:
        if self.spec.errors is None:
            return
        if self.spec.errors in (self.spec.customers_file,):
            raise UsageError("--errors must not be the file the IDs are read from")
        try:
            self._errors = open(self.spec.errors, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise UsageError(f"cannot write {self.spec.errors}: {exc.strerror or exc}") from None

    def _loop(self, api: ApiClient, ids: Iterator[RawId]) -> None:
        from collections import deque
        from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

        from cli.ids import chunks

        gate = Gate(self.stop, self.spec.rate)
        transport = Transport(api, gate)
        window: deque[Future[list[Outcome]]] = deque()
        limit = 2 * self.spec.concurrency  # queued + in flight: bounds memory
        pool = ThreadPoolExecutor(self.spec.concurrency, thread_name_prefix="moncompte-bulk")
        try:
            batches = chunks(ids, self.fetcher.batch_size)
            exhausted = False
            while not self.stop.is_set():
                while not exhausted and len(window) < limit:
                    batch = next(batches, None)
                    if batch is None:
                        exhausted = True
                        break
                    good = [r.value for r in batch if r.problem is None]
                    for bad in (r for r in batch if r.problem is not None):
                        self._fail(Outcome(bad.value, 400, reason=bad.problem))
                    if good:
                        window.append(pool.submit(self._fetch, transport, good))
                if not window:
                    break
                head = window[0]
                while not head.done() and not self.stop.is_set():
                    wait([head], timeout=PROGRESS_EVERY, return_when=FIRST_COMPLETED)
                    self.progress.draw(self.summary.done, self.summary.failed)
                if self.stop.is_set():
                    if self.interrupts:  # Ctrl-C: keep what has arrived, in order, then stop
                        while window and window[0].done() and not window[0].cancelled():
                            self._deliver(window.popleft().result())
                    break
                window.popleft()
                self._deliver(head.result())
                self.progress.draw(self.summary.done, self.summary.failed)
        finally:
            if window:  # leaving early: wake the workers' waits, drop what is queued
                self.stop.set()
                for future in window:
                    future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
        if self.fatal is not None:
            raise self.fatal

    def _fetch(self, transport: Transport, ids: list[str]) -> list[Outcome]:
        try:
            return self.fetcher.fetch(transport, ids)
        except Stopped:
            return []
        except Exception as exc:
            # Fatal for the run (not logged in, not staff, a refused filter): the first
            # one is raised by the main thread; the other workers stop.
            with self._fatal_lock:
                if self.fatal is None:
                    self.fatal = exc
            self.stop.set()
            return []

    def _deliver(self, outcomes: list[Outcome]) -> None:
        rows: list[Mapping[str, Any]] = []
        for outcome in outcomes:
            if outcome.ok:
                self.summary.done += 1
                cid = outcome.customer_id
                for row in self.rows_of(cid, outcome.data):
                    rows.append({"customer_id": cid, **row})
            else:
                self._fail(outcome)
        if rows:
            self.writer.write(rows)

    def _fail(self, outcome: Outcome) -> None:
        self.summary.failed += 1
        reason = outcome.reason or f"HTTP {outcome.status}"
        status = f" ({outcome.status})" if outcome.status else ""
        self.progress.clear()
        self.env.stderr.write(f"failed: {outcome.customer_id}{status}: {reason}\n")
        self.env.stderr.flush()
        if self._errors is not None:
            record = {"id": outcome.customer_id, "status": outcome.status, "reason": reason}
            self._errors.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._errors.flush()
