"""The checks over HTTP: the latency of GET /v1/status (net.latency), and one GET
/v1/status whose body the service check reads and whose Date header gives the clock skew
(net.clock).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from commands.diagnose.probes.network import Target
from domain.diagnose import Finding, evaluate_clock, evaluate_latency
from domain.i18n import N_, Text

LATENCY_REQUESTS = 5
STATUS_PATH = "/v1/status"


# --- HTTP: latency, clock ----------------------------------------------------------------------


def _http_client(target: Target, timeout: float) -> Any:
    from cli.http import USER_AGENT
    from cli.httpx_lite import httpx

    # Built like the API client's (cli.http): trust_env for the same proxies and trust
    # store, no CA bundle for plain http (loopback only). No retries: a retry would hide
    # exactly the loss this is meant to measure.
    trust_env = not target.headers
    transport = (
        httpx.HTTPTransport(verify=False, trust_env=trust_env) if target.scheme == "http" else None
    )
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        trust_env=trust_env,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **target.headers},
        transport=transport,
    )


def probe_latency(target: Target, timeout: float, requests: int = LATENCY_REQUESTS) -> Finding:
    """Sequential GET /v1/status on one keep-alive connection, as the CLI's requests are.

    The requests share 90 % of the check's time: each may use what is left, so a slow API
    is measured as slow (fewer requests) and a dead one ends as "no answer" with its
    reason, rather than as the whole check timing out.
    """
    from cli.httpx_lite import httpx

    samples: list[float | None] = []
    errors: list[str] = []
    deadline = time.monotonic() + timeout * 0.9
    with _http_client(target, timeout) as client:
        for _ in range(requests):
            remaining = deadline - time.monotonic()
            if remaining < 0.05:
                break
            started = time.monotonic()
            try:
                response = client.get(target.url + STATUS_PATH, timeout=remaining)
                response.read()
            except httpx.HTTPError as exc:
                samples.append(None)
                errors.append(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                continue
            samples.append((time.monotonic() - started) * 1000)
            if response.status_code >= 500:
                errors.append(f"HTTP {response.status_code}")
    finding = evaluate_latency(samples, errors, planned=requests)
    server_errors = [e for e in errors if e.startswith("HTTP ")]
    if server_errors and finding.status == "ok":
        return Finding(
            "net.latency",
            "warn",
            Text(
                N_("{latency}; {n} answered {error}"),
                latency=finding.finding,
                n=len(server_errors),
                error=server_errors[-1],
            ),
            remedy=Text(N_("the service answers with errors: try again later")),
            details=finding.details,
        )
    return finding


@dataclass(frozen=True)
class StatusProbe:
    """One GET /v1/status: its JSON, its Date header and when it was sent and answered
    (wall clock, for the skew)."""

    body: Mapping[str, Any] | None
    date_header: str | None
    sent: float
    received: float
    status_code: int
    error: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def fetch_status(target: Target, timeout: float, clock: Any = time.time) -> StatusProbe:
    from cli.httpx_lite import httpx

    sent = clock()
    try:
        with _http_client(target, timeout) as client:
            response = client.get(target.url + STATUS_PATH)
    except httpx.HTTPError as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return StatusProbe(None, None, sent, clock(), 0, error=text)
    received = clock()
    try:
        body = response.json()
    except ValueError:
        body = None
    return StatusProbe(
        body if isinstance(body, dict) else None,
        response.headers.get("Date"),
        sent,
        received,
        response.status_code,
        None if response.status_code < 400 else f"HTTP {response.status_code}",
    )


def clock_finding(probe: StatusProbe) -> Finding:
    """The skew between this machine's wall clock and the server's Date header.

    The server stamped the header somewhere between sending and answering; the midpoint
    is the best guess, and the header's whole seconds (truncated) add up to one second.
    """
    if probe.error and probe.date_header is None:
        return Finding(
            "net.clock",
            "fail",
            Text(N_("cannot ask the server for its time: {error}"), error=probe.error),
            remedy=Text(N_("see net.tcp")),
        )
    if not probe.date_header:
        return Finding("net.clock", "skip", Text(N_("the server sent no Date header")))
    try:
        server = email.utils.parsedate_to_datetime(probe.date_header)
    except (TypeError, ValueError):
        return Finding(
            "net.clock",
            "skip",
            Text(N_("unreadable Date header {header}"), header=repr(probe.date_header)),
        )
    if server.tzinfo is None:
        server = server.replace(tzinfo=dt.UTC)
    midpoint = (probe.sent + probe.received) / 2
    skew = server.timestamp() + 0.5 - midpoint
    uncertainty = 0.5 + (probe.received - probe.sent) / 2
    return evaluate_clock(skew, uncertainty)
