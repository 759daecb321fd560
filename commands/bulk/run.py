"""The bulk run: IDs read lazily, batches in flight on a thread pool, results delivered in
order, failures reported (and kept with --errors), Ctrl-C handled between writes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from cli.errors import Interrupted, PartialFailure, UsageError
from cli.files import cannot_write
from cli.i18n import _, localized, ngettext
from cli.output import Column, number
from commands.bulk.fetch import Fetcher, Gate, Outcome, Stopped, Transport
from commands.bulk.options import BulkSpec
from commands.bulk.output import (
    HUMAN_FORMATS,
    PROGRESS_EVERY,
    Progress,
    RowsOf,
    Writer,
    list_rows,
)

if TYPE_CHECKING:
    from cli.context import Env
    from cli.http import ApiClient
    from commands.bulk.ids import RawId

TABLE_MAX_CUSTOMERS = 100  # a table needs every row before it prints: small runs only


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
    return [
        Column("customer_id", _("customer")),
        *(c for c in columns if c.key != "customer_id"),
    ]


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
    from commands.bulk.ids import IdSource

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
                _("a {format} is for up to {max} customers").format(
                    format=fmt, max=number(TABLE_MAX_CUSTOMERS, env.locale)
                ),
                hint=_("use -o ndjson or -o csv, which stream"),
            )
        ids = iter(head)
    show_progress = bool(env.stderr_isatty) and not env.quiet
    total = source.count() if show_progress else None
    runner = _Runner(env, spec, fetcher, Writer(env.stdout, fmt, cols), rows_of, total)
    summary = runner.run(ids)
    return _conclude(env, spec, summary)


def _take(values: Iterator[RawId], n: int) -> Iterator[RawId]:
    for _i, value in zip(range(n), values, strict=False):
        yield value


def _conclude(env: Env, spec: BulkSpec, s: Summary) -> int:
    locale = env.locale
    what = ngettext("{n} customer", "{n} customers", s.processed).format(
        n=number(s.processed, locale)
    )
    detail = _("{done} answered, {failed} failed, {rows} rows, {seconds} s").format(
        done=number(s.done, locale),
        failed=number(s.failed, locale),
        rows=number(s.rows, locale),
        seconds=number(s.elapsed, locale, 1),
    )
    if s.interrupted:
        env.out.warn(
            _("interrupted after {what} ({detail}); the output so far is complete").format(
                what=what, detail=detail
            )
        )
        raise Interrupted(_("interrupted"), hint=_rerun_hint(spec, s))
    env.out.notice(_("looked up {what}: {detail}").format(what=what, detail=detail))
    if s.failed:
        raise PartialFailure(
            ngettext(
                "{failed} of {n} customers failed", "{failed} of {n} customers failed", s.failed
            ).format(failed=number(s.failed, locale), n=number(s.processed, locale)),
            hint=_rerun_hint(spec, s),
        )
    return 0


def _rerun_hint(spec: BulkSpec, s: Summary) -> str | None:
    if not s.failed:
        return None
    if spec.errors:
        return _("rerun the failed ones with --customers-file {file}").format(file=spec.errors)
    return _("add --errors FILE to keep the failed IDs, then rerun with --customers-file FILE")


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
        self.progress = Progress(
            env.stderr, bool(env.stderr_isatty) and not env.quiet, total=total, locale=env.locale
        )
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
            raise UsageError(_("--errors must not be the file the IDs are read from"))
        try:
            self._errors = open(self.spec.errors, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise cannot_write(self.spec.errors, exc) from None

    def _loop(self, api: ApiClient, ids: Iterator[RawId]) -> None:
        from collections import deque
        from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

        from commands.bulk.ids import chunks

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
        # The errors file keeps the reason as a machine reads it (ours in English).
        line = _("failed: {id}{status}: {reason}").format(
            id=outcome.customer_id, status=status, reason=localized(reason)
        )
        self.env.stderr.write(line + "\n")

        self.env.stderr.flush()
        if self._errors is not None:
            record = {"id": outcome.customer_id, "status": outcome.status, "reason": reason}
            self._errors.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._errors.flush()
