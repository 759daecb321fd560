"""Running the checks: `Run` (what one run shares), `Once` (data fetched once for all the
checks), the checks as jobs, the runner with its deadline, and the progress spinner.

Every check runs in its own daemon thread and all share one deadline (`--check-timeout`),
so a stuck check (a DNS lookup has no timeout of its own) is reported as timed out while
the others still report. Daemon threads rather than a ThreadPoolExecutor for the checks:
an executor joins its workers when the interpreter exits, so a lookup stuck in getaddrinfo
would hold the process after the results were printed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast

from cli.context import Env
from cli.errors import MoncompteError, UsageError, scrub
from cli.i18n import _
from domain.diagnose import (
    ACCOUNT_EVALUATORS,
    BY_ID,
    AccountData,
    Finding,
    evaluate_maintenance,
)
from domain.i18n import N_, Text

if TYPE_CHECKING:
    from cli.http import ApiClient
    from commands.diagnose.probes.http import StatusProbe
    from commands.diagnose.probes.network import Target

T = TypeVar("T")
FailOn = Literal["warn", "fail"]
NET_ROOTS = ("net.tcp", "net.dns", "net.tls", "net.latency")
UNAVAILABLE_REMEDIES = {
    "network": N_("check the connection to the API: moncompte diagnose --check net.tcp"),
    "auth": N_("moncompte login (or check MONCOMPTE_TOKEN / --token-file)"),
    "usage": N_("check the API URL: moncompte config get api_url"),
    "other": N_(
        "try again; if it persists, send the support file (moncompte diagnose --report support.md)"
    ),
}


def _remedy(kind: str) -> Text:
    return Text(UNAVAILABLE_REMEDIES.get(kind, UNAVAILABLE_REMEDIES["other"]))


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
        from commands.diagnose.probes.network import Target

        if self.target_url is None:
            raise Unavailable("usage", self.target_error or Text(N_("no API URL")))
        # The background sandbox answers only requests that carry its secret.
        headers = self.env.sandbox().headers if self.env.sandbox_mode else None
        try:
            return Target.parse(self.target_url, headers)
        except ValueError as exc:
            raise Unavailable("usage", str(exc)) from None


# --- the checks as jobs ------------------------------------------------------------------


def check_jobs(
    run: Run, selected: list[str], offline: bool, config_finding: Finding
) -> dict[str, Callable[[], Finding]]:
    from commands.diagnose import probes

    env = run.env

    def choice() -> probes.ProxyChoice:
        return probes.proxy_for(run.target.url, env.environ)

    def maintenance() -> Finding:
        probe = run.status.get()
        if probe.status_code == 503:
            return Finding(
                "service.maintenance",
                "fail",
                Text(N_("the service answers 503: maintenance or overload")),
                remedy=Text(N_("try again later")),
            )
        if probe.body is None:
            raise Unavailable(
                "network",
                Text(N_("cannot read the service status: {error}"), error=str(probe.error)),
            )
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
            jobs[check_id] = constant(
                Finding(check_id, "skip", Text(N_("offline (--offline): not checked")))
            )
        else:
            jobs[check_id] = table[check_id]
    return jobs


def constant(finding: Finding) -> Callable[[], Finding]:
    return lambda: finding


def execute(check_id: str, job: Callable[[], Finding], now: Callable[[], dt.datetime]) -> Finding:
    started = time.monotonic()
    try:
        finding = job()
    except Unavailable as exc:
        finding = Finding(
            check_id,
            "fail",
            Text(N_("not checked: {reason}"), reason=exc.message),
            remedy=_remedy(exc.kind),
            details={"unavailable": exc.kind},
        )
    except Exception as exc:  # a bug in one check must not hide the others
        finding = Finding(
            check_id,
            "fail",
            Text(
                N_("the check failed unexpectedly: {error}"),
                error=f"{type(exc).__name__}: {scrub(str(exc))}",
            ),
            remedy=_remedy("other"),
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
            target=lambda c=check_id, j=job: results.put(execute(c, j, now)),
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
                Text(N_("timed out after {seconds} s"), seconds=_seconds(timeout)),
                remedy=Text(
                    N_(
                        "retry with a longer --check-timeout; a slow network or a stuck "
                        "lookup is the usual cause"
                    )
                ),
                checked_at=stamp,
                duration_ms=round(timeout * 1000, 1),
            )
    return done


def _seconds(value: float) -> int | float:
    """`5`, `0.5` as `{:g}` writes them (a number, so that French writes `0,5`)."""
    shown = float(f"{value:g}")
    return int(shown) if shown.is_integer() else shown


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
                f, status="skip", finding=_see(f.finding, net_root), remedy=None
            )
        elif kind == "auth" and creds_failed:
            out[check_id] = replace(
                f, status="skip", finding=_see(f.finding, "local.credentials"), remedy=None
            )
    return out


def _see(finding: str, check: str) -> Text:
    return Text(N_("{finding} (see {check})"), finding=finding, check=check)


@contextlib.contextmanager
def progress_spinner(env: Env, total: int) -> Iterator[Callable[[int, int], None]]:
    """A spinner on stderr, only on a terminal (nothing at all when piped or in CI)."""
    if not env.stderr_isatty or env.quiet:
        yield lambda done, total: None
        return
    from rich.console import Console

    console = Console(file=env.stderr, force_terminal=True, no_color=not env.color, highlight=False)
    label = _("running checks")
    with console.status(f"{label} (0/{total})…") as status:
        yield lambda done, total: status.update(f"{label} ({done}/{total})…")


def settle(values: list[Once[Any]], deadline: float) -> None:
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
