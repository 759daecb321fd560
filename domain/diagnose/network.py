"""Evaluations of probe measurements: latency, clock, TLS, maintenance, local cache.

The probes (`commands.diagnose.probes`) measure; these functions judge the figures they return.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from domain.diagnose.findings import CMD_CLEAR_CACHE, Finding, minute, ok, parse_stamp, plural

# Thresholds. Each is a choice of this project ([ours]) unless it cites a rule.
CLOCK_WARN_S = 60.0
CLOCK_FAIL_S = 300.0
LATENCY_WARN_MS = 1000.0
LATENCY_FAIL_MS = 3000.0
LATENCY_SPREAD_MIN_MS = 250.0  # below this, jitter is noise whatever the median
TLS_WARN_DAYS = 14
CACHE_WARN_BYTES = 100 * 1024 * 1024
MAINTENANCE_SOON = timedelta(days=7)


# --- evaluation of probe measurements -----------------------------------------------------------


def evaluate_latency(
    samples_ms: Sequence[float | None], errors: Sequence[str] = (), planned: int | None = None
) -> Finding:
    """`samples_ms`: one entry per request sent, None when it got no answer; `planned`
    requests were meant to be sent (fewer when time ran out: the API is slow)."""
    answered = sorted(s for s in samples_ms if s is not None)
    sent = len(samples_ms)
    lost = sent - len(answered)
    unsent = max((planned or sent) - sent, 0)
    details: dict[str, Any] = {"requests": sent, "lost": lost, "not_sent": unsent}
    if not answered:
        why = f": {errors[-1]}" if errors else ""
        return Finding(
            "net.latency",
            "fail",
            f"no answer to {plural(sent, 'request', 'requests')}{why}",
            remedy="check the network connection and the API URL (see net.tcp)",
            details=details,
        )
    mid = median(answered)
    spread = answered[-1] - answered[0]
    details.update(
        median_ms=round(mid, 1),
        min_ms=round(answered[0], 1),
        max_ms=round(answered[-1], 1),
        spread_ms=round(spread, 1),
    )
    text = (
        f"median {mid:.0f} ms over {plural(sent, 'request', 'requests')} (min "
        f"{answered[0]:.0f}, max {answered[-1]:.0f} ms), {f'{lost} lost' if lost else 'none lost'}"
    )
    if unsent:
        text += f", {unsent} not sent for lack of time"
    problems = []
    if mid > LATENCY_FAIL_MS:
        problems.append("fail")
    elif mid > LATENCY_WARN_MS:
        problems.append("slow")
    if unsent and not problems:
        problems.append("slow")
    if lost:
        problems.append("loss")
    # Jitter without the extremes: one slow request (the first one opens the connection) is
    # not instability; several are.
    jitter = answered[-2] - answered[1] if len(answered) >= 4 else spread
    if jitter > max(LATENCY_SPREAD_MIN_MS, 2 * mid):
        problems.append("unstable")
    if not problems:
        return Finding("net.latency", "ok", text, details=details)
    return Finding(
        "net.latency",
        "fail" if "fail" in problems else "warn",
        text + f" ({', '.join(p for p in problems if p != 'fail') or 'too slow'})",
        remedy="the connection is slow or unstable: try a wired connection or another "
        "network, and retry later",
        details=details,
    )


def evaluate_clock(skew_s: float, uncertainty_s: float = 1.0) -> Finding:
    """`skew_s` > 0: the local clock is behind the server. Within the uncertainty (the
    Date header's 1-second resolution plus half the round trip) it is not a skew."""
    size = abs(skew_s)
    way = "behind" if skew_s > 0 else "ahead of"
    details = {"skew_s": round(skew_s, 1), "uncertainty_s": round(uncertainty_s, 1)}
    if size <= CLOCK_WARN_S:
        return Finding(
            "net.clock",
            "ok",
            f"local clock within {max(size, uncertainty_s):.0f} s of the server",
            details=details,
        )
    text = f"local clock {_duration(size)} {way} the server"
    return Finding(
        "net.clock",
        "fail" if size > CLOCK_FAIL_S else "warn",
        text + (" (tokens and one-time codes may be refused)" if size > CLOCK_FAIL_S else ""),
        remedy="synchronise the system clock (turn on automatic time / NTP)",
        details=details,
    )


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 120:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 120:
        return f"{minutes} min {sec} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def evaluate_tls(
    protocol: str | None, not_after: datetime, now: datetime, issuer: str | None = None
) -> Finding:
    """A verified handshake; how long the certificate still has to live."""
    days = (not_after - now).total_seconds() / 86400
    details = {"protocol": protocol, "not_after": not_after.isoformat(), "days_left": int(days)}
    who = f", issued by {issuer}" if issuer else ""
    if days < 0:
        return Finding(
            "net.tls",
            "fail",
            f"certificate expired on {not_after.date().isoformat()}",
            remedy="do not continue; tell support the certificate has expired",
            details=details,
        )
    until = not_after.date().isoformat()
    text = f"{protocol or 'TLS'}, certificate valid until {until} ({int(days)} days{who})"
    if days < TLS_WARN_DAYS:
        return Finding(
            "net.tls",
            "warn",
            text,
            remedy="nothing to do on your side; mention it to support if it expires",
            details=details,
        )
    return Finding("net.tls", "ok", text, details=details)


def evaluate_maintenance(status: Mapping[str, Any], now: datetime) -> Finding:
    """Maintenance in progress fails; one starting within 7 days warns."""
    windows = []
    for w in status.get("maintenance") or []:
        start, end = parse_stamp(w.get("start")), parse_stamp(w.get("end"))
        if start is not None and end is not None:
            windows.append((start, end, str(w.get("description") or "").strip()))
    windows.sort(key=lambda w: w[0])
    for start, end, what in windows:
        if start <= now < end:
            return Finding(
                "service.maintenance",
                "fail",
                f"maintenance in progress until {minute(end)}" + (f": {what}" if what else ""),
                remedy=f"wait until {minute(end)}, then try again",
                details={"start": start.isoformat(), "end": end.isoformat()},
            )
    if status.get("status") == "maintenance":
        return Finding(
            "service.maintenance",
            "fail",
            "the service reports a maintenance in progress",
            remedy="try again later",
        )
    upcoming = [w for w in windows if w[0] > now]
    if upcoming and upcoming[0][0] - now <= MAINTENANCE_SOON:
        start, end, what = upcoming[0]
        days = (start - now).total_seconds() / 86400
        when = "in less than a day" if days < 1 else f"in {int(days)} days"
        return Finding(
            "service.maintenance",
            "warn",
            f"maintenance announced from {minute(start)} to {minute(end)} ({when})"
            + (f": {what}" if what else ""),
            remedy="plan around it: the service may be unavailable then",
            details={"start": start.isoformat(), "end": end.isoformat()},
        )
    if upcoming:
        return ok(
            "service.maintenance",
            f"no maintenance in the next 7 days (next on {minute(upcoming[0][0])})",
        )
    return ok("service.maintenance", "no maintenance announced")


def evaluate_cache(path: str, files: int, size: int, *, exists: bool = True) -> Finding:
    details = {"path": path, "files": files, "bytes": size}
    if not exists:
        return Finding("local.cache", "ok", f"no cache ({path})", details=details)
    text = f"cache {path}: {plural(files, 'file', 'files')}, {human_bytes(size)}"
    if size > CACHE_WARN_BYTES:
        return Finding(
            "local.cache",
            "warn",
            text + f" (over {human_bytes(CACHE_WARN_BYTES)})",
            remedy=CMD_CLEAR_CACHE,
            details=details,
        )
    return Finding("local.cache", "ok", text, details=details)


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns
