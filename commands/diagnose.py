"""`moncompte diagnose`: the checks support asks for before you call, and a support file.

The local checks (config, credentials, proxy, cache) need neither network nor account; the
network checks probe the path to the API; the account checks are evaluated by
`domain.diagnose` on data fetched once. Every check runs in its own daemon thread and all
share one deadline (`--check-timeout`), so a stuck check (a DNS lookup has no timeout of
its own) is reported as timed out while the others still report. Daemon threads rather
than a ThreadPoolExecutor for the checks: an executor joins its workers when the
interpreter exits, so a lookup stuck in getaddrinfo would hold the process after the
results were printed. The account fetch fans out with an executor: every request it
makes has a timeout.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib
import json
import platform
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar, cast

import typer

from cli import __version__
from cli.bulk import NO_BULK, BulkSpec, bulk_options
from cli.context import Env
from cli.errors import MoncompteError, UsageError, scrub
from cli.i18n import _
from cli.output import Column
from domain.diagnose import (
    ACCOUNT_EVALUATORS,
    BY_ID,
    CHECK_IDS,
    CHECKS,
    EXIT_CHECKS_FAILED,
    AccountData,
    Finding,
    build_report,
    counts,
    evaluate_maintenance,
    exit_code,
    report_markdown,
    summary_line,
)

if TYPE_CHECKING:
    from cli.bulk import Transport
    from cli.http import ApiClient, Params

    Getter = Callable[[str, Params | None], Any]  # GET a path with a query: the JSON
    from cli.probes import StatusProbe, Target

T = TypeVar("T")
FailOn = Literal["warn", "fail"]
DEFAULT_CHECK_TIMEOUT = 5.0
REPORT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".json": "json"}
MARKS = {"ok": "✓", "warn": "⚠", "fail": "✗", "skip": "-"}
NET_ROOTS = ("net.tcp", "net.dns", "net.tls", "net.latency")
UNAVAILABLE_REMEDIES = {
    "network": "check the connection to the API: moncompte diagnose --check net.tcp",
    "auth": "moncompte login (or check MONCOMPTE_TOKEN / --token-file)",
    "usage": "check the API URL: moncompte config get api_url",
    "other": "try again; if it persists, send the support file (moncompte diagnose "
    "--report support.md)",
}


class Unavailable(Exception):
    """The data a check needs could not be had; `kind` says why (network, auth, scope,
    usage, other), so the command can point at the check that explains it."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class Once(Generic[T]):
    """A value computed by the first thread that asks, shared by all the others."""

    def __init__(self, compute: Callable[[], T]) -> None:
        self._compute = compute
        self._lock = threading.Lock()
        self._done = False
        self._value: T | None = None
        self._error: tuple[str, str] | None = None

    def get(self) -> T:
        with self._lock:
            if not self._done:
                try:
                    self._value = self._compute()
                except Unavailable as exc:
                    self._error = (exc.kind, exc.message)
                except MoncompteError as exc:
                    self._error = (_kind_of(exc), exc.message)
                except Exception as exc:
                    self._error = ("other", f"{type(exc).__name__}: {scrub(str(exc))}")
                self._done = True
        if self._error is not None:
            raise Unavailable(*self._error)  # a fresh exception per thread
        return cast(T, self._value)

    @property
    def error(self) -> tuple[str, str] | None:
        return self._error if self._done else None

    def peek(self) -> T | None:
        """The value if it was computed and succeeded (for the report), else None."""
        return self._value if self._done and self._error is None else None


def _kind_of(exc: MoncompteError) -> str:
    from cli.errors import AuthError, NetworkError

    if isinstance(exc, NetworkError):
        return "network"
    if isinstance(exc, AuthError):
        return "auth"
    if isinstance(exc, UsageError):
        return "usage"
    return "other"


# --- what a run needs ------------------------------------------------------------------------


@dataclass
class Run:
    """One diagnose run: the Env, the target, and the data shared between checks."""

    env: Env
    target_url: str | None
    target_error: str | None
    timeout: float
    today: dt.date
    status: Once[StatusProbe]
    account: Once[AccountData]
    client: ApiClient | None = None
    deadline: float = 0.0  # time.monotonic() by which every check must have answered

    def budget(self) -> float:
        """What a probe may still spend: a little under the time left, so a silent server
        is reported with its reason ("timed out") by the probe rather than by the runner."""
        left = self.deadline - time.monotonic() if self.deadline else self.timeout
        # The margin covers what happens around the request (building a client loads
        # the CA bundle, the threads share one interpreter).
        return max(0.05, min(left * 0.9, left - 0.3))

    @property
    def target(self) -> Target:
        from cli.probes import Target

        if self.target_url is None:
            raise Unavailable("usage", self.target_error or "no API URL")
        # The background sandbox answers only requests that carry its secret.
        headers = self.env.sandbox().headers if self.env.sandbox_mode else None
        try:
            return Target.parse(self.target_url, headers)
        except ValueError as exc:
            raise Unavailable("usage", str(exc)) from None


def _http_timeout(run: Run) -> float:
    try:
        configured = run.env.timeout
    except UsageError:  # an invalid timeout in the config: local.config reports it
        configured = run.timeout
    return min(configured, run.budget())


def _make_client(run: Run) -> ApiClient:
    from cli.http import ApiClient

    if run.target_url is None:
        raise Unavailable("usage", run.target_error or "no API URL")
    env = run.env
    # Our own client rather than env.api(): a timeout within the checks' deadline and no
    # retry, so an unreachable API is reported with its reason and instability not hidden.
    run.client = ApiClient(
        run.target_url,
        store=env.credentials(),
        profile=env.profile,
        timeout=_http_timeout(run),
        log=env.debug if env.verbose else None,
        max_retries=0,
    )
    return run.client


def fetch_account(run: Run) -> AccountData:
    """Everything the account checks read, fetched once, independent requests in parallel."""
    client = _make_client(run)
    me = client.get("/v1/me")
    if not isinstance(me, dict) or not isinstance(me.get("customer"), dict):
        raise Unavailable(
            "scope", "this credential has no customer account (a staff token?): nothing to check"
        )

    def status_body() -> dict[str, Any] | None:
        try:
            body = run.status.get().body
        except Unavailable:
            return None
        return dict(body) if body is not None else None

    return fetch_account_data(client.get, me, "/v1", run.today, status_body)


def fetch_account_data(
    get: Getter,
    me: dict[str, Any],
    prefix: str,
    today: dt.date,
    status_body: Callable[[], dict[str, Any] | None],
    *,
    workers: int = 6,
) -> AccountData:
    """The account's resources under `prefix` (`/v1` for the caller's own account,
    `/v1/customers/{id}` for staff), read with `get(path, params)`; `workers` requests at
    once (1 in a bulk run, whose --concurrency already bounds the load)."""

    def items(path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {**(params or {}), "limit": 500}
        out: list[dict[str, Any]] = []
        while True:
            page = get(prefix + path, query)
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise MoncompteError(f"GET {prefix}{path} did not answer a paginated list")
            out += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return out
            query["cursor"] = cursor

    def one(path: str, params: dict[str, Any] | None = None) -> Any:
        return get(prefix + path, params)

    def optional(path: str) -> Any:
        try:
            return one(path)
        except MoncompteError:
            return None

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="diagnose-fetch") as pool:
        f_status = pool.submit(status_body)
        f_contracts = pool.submit(items, "/contracts")
        f_invoices = pool.submit(items, "/invoices", {"status": "all"})
        f_claims = pool.submit(items, "/claims")
        f_payment = pool.submit(optional, "/payment-method")
        contracts = f_contracts.result()
        schedules = {
            str(c["id"]): pool.submit(one, f"/contracts/{c['id']}/schedule")
            for c in contracts
            if c.get("kind") in ("installments", "partwork")
        }
        quoted = [
            c
            for c in contracts
            if c.get("status") in ("active", "pending_activation")
            and (c.get("kind") == "internet" or int(c.get("commitment_months") or 0) > 0)
        ]
        quotes = {
            str(c["id"]): pool.submit(
                one, f"/contracts/{c['id']}/termination-quote", {"date": today.isoformat()}
            )
            for c in quoted
        }
        quote_values: dict[str, dict[str, Any]] = {}
        quote_errors: dict[str, str] = {}
        for cid, future in quotes.items():
            try:
                quote_values[cid] = future.result()
            except MoncompteError as exc:
                quote_errors[cid] = exc.message
        return AccountData(
            me=me,
            status=f_status.result(),
            contracts=contracts,
            invoices=f_invoices.result(),
            claims=f_claims.result(),
            schedules={cid: f.result() for cid, f in schedules.items()},
            quotes=quote_values,
            quote_errors=quote_errors,
            payment_method=f_payment.result(),
        )


# --- the checks as jobs ------------------------------------------------------------------


def _jobs(
    run: Run, selected: list[str], offline: bool, config_finding: Finding
) -> dict[str, Callable[[], Finding]]:
    from cli import probes

    env = run.env

    def choice() -> probes.ProxyChoice:
        return probes.proxy_for(run.target.url, env.environ)

    def maintenance() -> Finding:
        probe = run.status.get()
        if probe.status_code == 503:
            return Finding(
                "service.maintenance",
                "fail",
                "the service answers 503: maintenance or overload",
                remedy="try again later",
            )
        if probe.body is None:
            raise Unavailable("network", f"cannot read the service status: {probe.error}")
        return evaluate_maintenance(probe.body, env.now())

    def account_check(check_id: str) -> Callable[[], Finding]:
        evaluate = ACCOUNT_EVALUATORS[check_id]
        return lambda: evaluate(run.account.get(), run.today)

    def proxy() -> Finding:
        # Offline in sandbox mode there is no URL yet: the sandbox listens on loopback.
        url = run.target_url or "http://127.0.0.1"
        return probes.check_proxy(url, env.environ)

    def cache() -> Finding:
        return probes.inspect_cache(probes.cache_dir())

    table: dict[str, Callable[[], Finding]] = {
        "local.config": lambda: config_finding,
        "local.credentials": lambda: probes.check_credentials(env, run.target_url, env.now()),
        "local.proxy": proxy,
        "local.cache": cache,
        "net.dns": lambda: probes.probe_dns(run.target, choice()),
        "net.tcp": lambda: probes.probe_tcp(run.target, choice(), run.budget()),
        "net.tls": lambda: probes.probe_tls(
            run.target, choice(), run.budget(), env.environ, dt.datetime.now(dt.UTC)
        ),
        "net.latency": lambda: probes.probe_latency(run.target, run.budget()),
        "net.clock": lambda: probes.clock_finding(run.status.get()),
        "service.maintenance": maintenance,
    }
    for check_id in ACCOUNT_EVALUATORS:
        table[check_id] = account_check(check_id)
    jobs: dict[str, Callable[[], Finding]] = {}
    for check_id in selected:
        if offline and BY_ID[check_id].needs != "local":
            jobs[check_id] = _constant(
                Finding(check_id, "skip", "offline (--offline): not checked")
            )
        else:
            jobs[check_id] = table[check_id]
    return jobs


def _constant(finding: Finding) -> Callable[[], Finding]:
    return lambda: finding


def _execute(check_id: str, job: Callable[[], Finding], now: Callable[[], dt.datetime]) -> Finding:
    started = time.monotonic()
    try:
        finding = job()
    except Unavailable as exc:
        finding = Finding(
            check_id,
            "fail",
            f"not checked: {exc.message}",
            remedy=UNAVAILABLE_REMEDIES.get(exc.kind, UNAVAILABLE_REMEDIES["other"]),
            details={"unavailable": exc.kind},
        )
    except Exception as exc:  # a bug in one check must not hide the others
        finding = Finding(
            check_id,
            "fail",
            f"the check failed unexpectedly: {type(exc).__name__}: {scrub(str(exc))}",
            remedy=UNAVAILABLE_REMEDIES["other"],
        )
    return replace(
        finding,
        checked_at=now().isoformat(timespec="seconds"),
        duration_ms=round((time.monotonic() - started) * 1000, 1),
    )


def run_checks(
    jobs: dict[str, Callable[[], Finding]],
    timeout: float,
    now: Callable[[], dt.datetime],
    progress: Callable[[int, int], None] = lambda done, total: None,
    deadline: float | None = None,
) -> dict[str, Finding]:
    """Run every job in its own daemon thread; whatever has not answered by the deadline
    is a failure "timed out after N s"."""
    results: queue.Queue[Finding] = queue.Queue()
    for check_id, job in jobs.items():
        threading.Thread(
            target=lambda c=check_id, j=job: results.put(_execute(c, j, now)),
            name=f"diagnose-{check_id}",
            daemon=True,
        ).start()
    done: dict[str, Finding] = {}
    deadline = deadline if deadline is not None else time.monotonic() + timeout
    while len(done) < len(jobs):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            finding = results.get(timeout=remaining)
        except queue.Empty:
            break
        done[finding.id] = finding
        progress(len(done), len(jobs))
    stamp = now().isoformat(timespec="seconds")
    for check_id in jobs:
        if check_id not in done:
            done[check_id] = Finding(
                check_id,
                "fail",
                f"timed out after {timeout:g} s",
                remedy="retry with a longer --check-timeout; a slow network or a stuck "
                "lookup is the usual cause",
                checked_at=stamp,
                duration_ms=round(timeout * 1000, 1),
            )
    return done


def explain_unavailable(findings: dict[str, Finding]) -> dict[str, Finding]:
    """A check that could not get its data fails, unless a selected check already failed
    for that cause: then it is skipped and points there, so one cause is one failure."""
    net_root = next((i for i in NET_ROOTS if i in findings and findings[i].status == "fail"), None)
    creds = findings.get("local.credentials")
    creds_failed = creds is not None and creds.status == "fail"
    out = dict(findings)
    for check_id, f in findings.items():
        kind = f.details.get("unavailable")
        if kind == "scope":
            out[check_id] = replace(f, status="skip", remedy=None)
        elif kind == "network" and net_root:
            out[check_id] = replace(
                f, status="skip", finding=f"{f.finding} (see {net_root})", remedy=None
            )
        elif kind == "auth" and creds_failed:
            out[check_id] = replace(
                f, status="skip", finding=f"{f.finding} (see local.credentials)", remedy=None
            )
    return out


# --- output --------------------------------------------------------------------------------


def _table_columns() -> list[Column]:
    return [
        Column("status", ""),
        Column("id", _("check")),
        Column("finding", _("finding")),
        Column("remedy", _("what to do")),
    ]


MACHINE_COLUMNS = [
    Column("id", "id"),
    Column("status", "status"),
    Column("finding", "finding"),
    Column("remedy", "remedy"),
    Column("refs", "refs"),
    Column("checked_at", "checked_at"),
    Column("duration_ms", "duration_ms"),
]


def _render(env: Env, findings: list[Finding], summary: dict[str, Any]) -> None:
    fmt = env.output
    rows = [f.to_dict() for f in findings]
    if fmt == "json":
        env.out.json({"checks": rows, "summary": summary})
        return
    if fmt == "ndjson":
        for row in rows:  # one check per line, every field, as -o json has them
            env.out.text(json.dumps(row, ensure_ascii=False))
    elif fmt in ("csv", "tsv"):
        env.out.render(rows, MACHINE_COLUMNS)
    else:
        symbols = fmt == "table" and bool(env.stdout_isatty)
        shown = [dict(r, status=MARKS[r["status"]] if symbols else r["status"]) for r in rows]
        env.out.render(shown, _table_columns())
    env.out.notice(summary["text"])


@contextlib.contextmanager
def _progress(env: Env, total: int) -> Iterator[Callable[[int, int], None]]:
    """A spinner on stderr, only on a terminal (nothing at all when piped or in CI)."""
    if not env.stderr_isatty or env.quiet:
        yield lambda done, total: None
        return
    from rich.console import Console

    console = Console(file=env.stderr, force_terminal=True, no_color=not env.color, highlight=False)
    label = _("running checks")
    with console.status(f"{label} (0/{total})…") as status:
        yield lambda done, total: status.update(f"{label} ({done}/{total})…")


# --- the command ---------------------------------------------------------------------------


def _select(checks: list[str] | None, account_only: bool) -> list[str]:
    if checks:
        unknown = [c for c in checks if c not in BY_ID]
        if unknown:
            raise UsageError(
                f"unknown check {', '.join(repr(c) for c in unknown)}",
                hint=f"valid checks: {', '.join(CHECK_IDS)} (moncompte diagnose --list-checks)",
            )
    wanted = set(checks) if checks else set(CHECK_IDS)
    if account_only:
        wanted = {c for c in wanted if BY_ID[c].needs == "account"}
        if not wanted:
            raise UsageError("--account-only leaves none of the checks given with --check")
    return [c for c in CHECK_IDS if c in wanted]


def _report_format(path: Path | None) -> str | None:
    if path is None:
        return None
    fmt = REPORT_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(
            f"--report {path}: the file name must end in .md or .json (the format follows it)"
        )
    return fmt


def _load_config(env: Env) -> Finding:
    """Check the config file first; if it is unusable, run on defaults (and say so) rather
    than letting every later setting lookup fail on it."""
    from cli.config import CONFIG_NAME, ConfigFile
    from cli.probes import check_config

    explicit = bool(env.options.profile or env.environ.get("MONCOMPTE_PROFILE"))
    path = env.config_dir / CONFIG_NAME
    try:
        profile = env.profile
    except UsageError as exc:
        return Finding(
            "local.config", "fail", exc.message, remedy="fix --profile / MONCOMPTE_PROFILE"
        )
    finding, config = check_config(path, profile, explicit)
    if finding.status == "fail":
        # Env has no public way to swap its config; this is the one place that needs it.
        env._config = ConfigFile(path)
    elif config is not None:
        env._config = config
    return finding


def _target(env: Env, needs_network: bool) -> tuple[str | None, str | None]:
    """The API URL, starting the built-in sandbox when none is configured (never offline)."""
    try:
        url = env.api_url
    except MoncompteError as exc:
        return None, exc.message
    if url is not None or not needs_network:
        return url, None
    try:
        return env.sandbox().url, None
    except MoncompteError as exc:
        return None, f"cannot start the built-in sandbox: {exc.message}"
    except Exception as exc:
        return None, f"cannot start the built-in sandbox: {type(exc).__name__}: {scrub(str(exc))}"


def _write_report(env: Env, path: Path, fmt: str, report: dict[str, Any]) -> None:
    from cli.files import atomic_write_text

    text = (
        json.dumps(report, indent=2, ensure_ascii=False) + "\n"
        if fmt == "json"
        else report_markdown(report)
    )
    try:
        # Scrubbed again as a last guard: the report copies only listed fields already.
        atomic_write_text(path, scrub(text), mode=0o600)
    except OSError as exc:
        raise UsageError(f"cannot write the support file {path}: {exc.strerror or exc}") from None
    env.out.notice(_("support file written to {path}").format(path=path))


@bulk_options
def diagnose(
    ctx: typer.Context,
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check", metavar="ID", help="Run only this check (repeatable; see --list-checks)."
        ),
    ] = None,
    list_checks: Annotated[
        bool, typer.Option("--list-checks", help="List the checks and exit.")
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Local checks only; the others are skipped.")
    ] = False,
    account_only: Annotated[
        bool, typer.Option("--account-only", help="Only the account checks.")
    ] = False,
    fail_on: Annotated[
        str,
        typer.Option(
            "--fail-on", metavar="warn|fail", help="Lowest status that makes the exit code 8."
        ),
    ] = "fail",
    check_timeout: Annotated[
        float,
        typer.Option("--check-timeout", metavar="SECONDS", help="Time allowed to every check."),
    ] = DEFAULT_CHECK_TIMEOUT,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="FILE.md|FILE.json",
            help="Write a support file (no secrets) for the support team.",
        ),
    ] = None,
    clear_cache: Annotated[
        bool, typer.Option("--clear-cache", help="Empty the local cache first.")
    ] = False,
    bulk: BulkSpec = NO_BULK,
) -> None:
    """Check the configuration, the network path and the account for known problems.

    Each check has a stable id, a status (ok, warn, fail, skip), a one-line finding and,
    when not ok, what to do. Exit codes: 0 when no check reached --fail-on (default: fail),
    8 when one did, 2 for bad usage, 1 when the tool itself failed.

    Staff: --account-only with --customer/--customers-file runs the account checks for
    each customer, one row per customer and check; exit 7 when a customer failed.
    """
    env = Env.of(ctx)
    if list_checks:
        env.out.render(
            [{"id": c.id, "needs": c.needs, "title": c.title} for c in CHECKS],
            [
                Column("id", _("check")),
                Column("needs", _("needs")),
                Column("title", _("what it checks")),
            ],
        )
        return
    if fail_on not in ("warn", "fail"):
        raise UsageError(f"invalid --fail-on {fail_on!r}", hint="choose warn or fail")
    if not check_timeout > 0 or check_timeout == float("inf"):
        raise UsageError(f"invalid --check-timeout {check_timeout!r}: expected seconds above 0")
    if bulk:
        if not account_only:
            raise UsageError(
                _("--customer and --customers-file need --account-only"),
                hint=_("only the account checks run for other customers"),
            )
        if offline or clear_cache or report is not None:
            raise UsageError(
                _("--offline, --clear-cache and --report cannot be combined with --customer")
            )
        _diagnose_customers(env, bulk, _select(check, True), cast(FailOn, fail_on))
        return
    selected = _select(check, account_only)
    report_fmt = _report_format(report)

    config_finding = _load_config(env)
    cleared: Finding | None = None
    if clear_cache:
        cleared = _clear_cache()
    needs_network = not offline and any(BY_ID[c].needs != "local" for c in selected)
    url, target_error = _target(env, needs_network)
    if needs_network:
        # Imported here, once: in the check threads a cold import of httpx would eat into
        # the deadline of whichever check gets there first.
        importlib.import_module("cli.http")
    run = Run(
        env=env,
        target_url=url,
        target_error=target_error,
        timeout=check_timeout,
        today=env.today(),
        status=Once(lambda: _fetch_status(run)),
        account=Once(lambda: fetch_account(run)),
    )
    jobs = _jobs(run, selected, offline, config_finding)
    if cleared is not None and "local.cache" in jobs:
        jobs["local.cache"] = _constant(cleared)
    try:
        with _progress(env, len(jobs)) as progress:
            run.deadline = time.monotonic() + check_timeout
            results = run_checks(jobs, check_timeout, env.now, progress, run.deadline)
    finally:
        if run.client is not None:
            with contextlib.suppress(Exception):
                run.client.close()
    findings = sorted(explain_unavailable(results).values(), key=lambda f: CHECK_IDS.index(f.id))

    code = exit_code(findings, cast(FailOn, fail_on))
    summary: dict[str, Any] = {
        **counts(findings),
        "text": summary_line(findings),
        "fail_on": fail_on,
        "exit_code": code,
        "generated_at": env.now().isoformat(timespec="seconds"),
    }
    _render(env, findings, summary)
    if report is not None and report_fmt is not None:
        if not offline and url is not None:
            # The support file names the customer and the support channels even when
            # no account or network check was selected: fetch them now, bounded alike.
            run.deadline = time.monotonic() + check_timeout
            _settle([run.account, run.status], run.deadline)
        _write_report(env, report, report_fmt, _report(run, findings, summary))
    if code:
        raise typer.Exit(code)


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


def _diagnose_customers(env: Env, spec: BulkSpec, selected: list[str], fail_on: FailOn) -> None:
    """Each customer's data through the staff routes, the account checks on it, streamed by
    the bulk machinery (failed customers: stderr, --errors, exit 7); else 8 when a check
    reached --fail-on."""
    from cli.bulk import PerCustomer, run_bulk

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
            _execute(c, functools.partial(ACCOUNT_EVALUATORS[c], data, today), env.now)
            for c in selected
        ]

    reached = False

    def rows_of(_customer_id: str, findings: list[Finding]) -> list[dict[str, Any]]:
        nonlocal reached  # rows_of runs on the main thread only
        reached = reached or bool(exit_code(findings, fail_on))
        return [f.to_dict() for f in findings]

    run_bulk(env, spec, PerCustomer(check_customer), BULK_COLUMNS, rows_of)
    if reached:
        raise typer.Exit(EXIT_CHECKS_FAILED)


def _settle(values: list[Once[Any]], deadline: float) -> None:
    """Compute what is not yet computed, each in a daemon thread, until `deadline`."""
    threads = [
        threading.Thread(target=_quietly, args=(once,), daemon=True)
        for once in values
        if once.error is None and once.peek() is None
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def _quietly(once: Once[Any]) -> None:
    with contextlib.suppress(Unavailable):
        once.get()


def _fetch_status(run: Run) -> StatusProbe:
    from cli.probes import fetch_status

    return fetch_status(run.target, _http_timeout(run))


def _clear_cache() -> Finding:
    from cli import probes

    path = probes.cache_dir()
    try:
        files, size = probes.clear_cache(path)
    except OSError as exc:
        return Finding(
            "local.cache",
            "fail",
            f"cannot clear the cache {path}: {exc.strerror or exc}",
            remedy=f"remove {path} by hand",
        )
    return probes.cleared_finding(path, files, size)


def _report(run: Run, findings: list[Finding], summary: dict[str, Any]) -> dict[str, Any]:
    from cli.probes import redact_url

    data = run.account.peek()
    error = run.account.error
    status = run.status.peek()
    service = (data.status if data is not None else None) or (status.body if status else None)
    return build_report(
        findings,
        data,
        service=service,
        generated_at=run.env.now(),
        tool={"name": "moncompte", "version": __version__},
        system={
            "platform": platform.platform(),
            "python": f"{platform.python_implementation()} {platform.python_version()}",
        },
        api_url=redact_url(run.target_url) if run.target_url else None,
        summary=summary,
        account_error=error[1] if error else ("account checks not run" if data is None else None),
    )
