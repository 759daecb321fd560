"""A batch of customer IDs in, one outcome per customer out: the batch endpoint or one
request per customer, with the bulk retry policy and a pool-wide pause (`Gate`).

Runs in worker threads; nothing here writes output.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cli.errors import AuthError, Interrupted, MoncompteError, NetworkError, NotFoundError
from cli.i18n import _
from domain.i18n import N_, Text

if TYPE_CHECKING:
    from cli.context import Env
    from cli.http import ApiClient

LOOKUP_PATH = "/v1/lookup"
LOOKUP_BATCH = 100  # the API's maximum per call
MAX_ATTEMPTS = 5  # per batch, for transport errors and 5xx answers
MAX_THROTTLED = 10  # per batch, for 429/503 (the server said when to come back)
RETRY_AFTER_CAP = 30.0
BACKOFF_BASE = 0.2
BACKOFF_CAP = 5.0


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
                raise not_staff() from None
            raise
        if isinstance(answer, list):  # the whole batch failed: one outcome per id already
            return answer
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list):
            return [Outcome(i, 502, reason=Text(N_("the server answered no results"))) for i in ids]
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
                by_id[cid] = Outcome(cid, code, reason=reason_of(item.get("error"), code))
        for i in ids:
            missing = Outcome(i, 502, reason=Text(N_("missing from the answer")))
            outcomes.append(by_id.get(i) or missing)
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
            raise not_staff()


def not_staff() -> AuthError:
    return AuthError(
        _("--customer and --customers-file need a staff login"),
        hint=_("log in as a support agent ('moncompte login'), or set MONCOMPTE_TOKEN"),
    )


def reason_of(problem: Any, status: int) -> str:
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
                    not_json = Text(N_("the answer was not JSON"))
                    return [Outcome(i, 502, reason=not_json) for i in ids]
            if status in (429, 503):
                throttled += 1
                delay = retry_after_seconds(response.headers.get("Retry-After"), time.time())
                if throttled >= MAX_THROTTLED:
                    gave_up = Text(
                        N_("rate limited (gave up)")
                        if status == 429
                        else N_("service unavailable (gave up)")
                    )
                    return [Outcome(i, status, reason=gave_up) for i in ids]

                wait = min(delay, RETRY_AFTER_CAP) if delay is not None else None
                if wait is None:
                    wait = self._backoff(throttled)
                self.gate.pause(wait)  # everyone waits: the server asked for less load
                continue
            if status >= 500:
                attempts += 1
                if attempts >= MAX_ATTEMPTS:
                    reason = reason_of(_json_or_none(response), status)
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
