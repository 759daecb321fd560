"""The probes behind `moncompte diagnose`: local files and settings, and the network path to
the API (DNS, TCP, TLS, latency, clock), each returning a `Finding`.

Probes measure; `domain.diagnose` judges where the judgement is more than "it failed".
Every probe is bounded by a timeout and never raises for a condition it is meant to
detect: a refused connection is a finding, not an exception. The caller runs them in
threads with a deadline of its own, for what no socket timeout bounds (getaddrinfo).

The package: `local` (cache, config, credentials), `network` (the target, the proxy, DNS,
TCP), `tls` (the TLS handshake) and `http` (latency, the status request, the clock).
httpx, certifi and platformdirs load only when a probe needs them.
"""

from __future__ import annotations

from commands.diagnose.probes.http import StatusProbe, clock_finding, fetch_status, probe_latency
from commands.diagnose.probes.local import (
    cache_dir,
    check_config,
    check_credentials,
    clear_cache,
    cleared_finding,
    inspect_cache,
)
from commands.diagnose.probes.network import (
    ProxyChoice,
    Target,
    check_proxy,
    probe_dns,
    probe_tcp,
    proxy_for,
    redact_url,
)
from commands.diagnose.probes.tls import probe_tls, ssl_context
from domain.diagnose import CMD_CLEAR_CACHE

__all__ = [
    "CMD_CLEAR_CACHE",
    "ProxyChoice",
    "StatusProbe",
    "Target",
    "cache_dir",
    "check_config",
    "check_credentials",
    "check_proxy",
    "clear_cache",
    "cleared_finding",
    "clock_finding",
    "fetch_status",
    "inspect_cache",
    "probe_dns",
    "probe_latency",
    "probe_tcp",
    "probe_tls",
    "proxy_for",
    "redact_url",
    "ssl_context",
]
