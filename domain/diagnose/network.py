"""Evaluations of probe measurements: latency, clock, TLS, maintenance, local cache.

The probes (`commands.diagnose.probes`) measure; these functions judge the figures they return.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from domain.diagnose.findings import CMD_CLEAR_CACHE, Finding, minute, ok, parse_stamp
from domain.i18n import N_, Text, ngettext

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
        requests = ngettext("{n} request", "{n} requests", sent)
        return Finding(
            "net.latency",
            "fail",
            # The error is the HTTP library's: shown as it is.
            Text(N_("no answer to {requests}: {error}"), requests=requests, error=errors[-1])
            if errors
            else Text(N_("no answer to {requests}"), requests=requests),
            remedy=Text(N_("check the network connection and the API URL (see net.tcp)")),
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
    text = Text(
        N_("median {median} ms over {requests} (min {min}, max {max} ms), {lost}"),
        median=_ms(mid),
        requests=ngettext("{n} request", "{n} requests", sent),
        min=_ms(answered[0]),
        max=_ms(answered[-1]),
        lost=Text(N_("{n} lost"), n=lost) if lost else Text(N_("none lost")),
    )
    if unsent:
        text = Text(N_("{latency}, {n} not sent for lack of time"), latency=text, n=unsent)
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
    named = [Text(_PROBLEMS[p]) for p in problems if p != "fail"]
    return Finding(
        "net.latency",
        "fail" if "fail" in problems else "warn",
        Text.joined(
            [text, " (", Text.joined(named, ", ") if named else Text(N_("too slow")), ")"], ""
        ),
        remedy=Text(
            N_(
                "the connection is slow or unstable: try a wired connection or another "
                "network, and retry later"
            )
        ),
        details=details,
    )


_PROBLEMS = {"slow": N_("slow"), "loss": N_("loss"), "unstable": N_("unstable")}


def _ms(value: float) -> int:
    """Milliseconds as shown: whole ones (no format spec in a template)."""
    return int(f"{value:.0f}")


def evaluate_clock(skew_s: float, uncertainty_s: float = 1.0) -> Finding:
    """`skew_s` > 0: the local clock is behind the server. Within the uncertainty (the
    Date header's 1-second resolution plus half the round trip) it is not a skew."""
    size = abs(skew_s)
    details = {"skew_s": round(skew_s, 1), "uncertainty_s": round(uncertainty_s, 1)}
    if size <= CLOCK_WARN_S:
        return Finding(
            "net.clock",
            "ok",
            Text(
                N_("local clock within {seconds} s of the server"),
                seconds=_ms(max(size, uncertainty_s)),
            ),
            details=details,
        )
    if skew_s > 0:
        text = Text(N_("local clock {duration} behind the server"), duration=_duration(size))
    else:
        text = Text(N_("local clock {duration} ahead of the server"), duration=_duration(size))
    if size > CLOCK_FAIL_S:
        text = Text(N_("{clock} (tokens and one-time codes may be refused)"), clock=text)
    return Finding(
        "net.clock",
        "fail" if size > CLOCK_FAIL_S else "warn",
        text,
        remedy=Text(N_("synchronise the system clock (turn on automatic time / NTP)")),
        details=details,
    )


def _duration(seconds: float) -> str:
    # Units are symbols (s, min, h), the same in French.
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
    if days < 0:
        return Finding(
            "net.tls",
            "fail",
            Text(N_("certificate expired on {date}"), date=not_after.date()),
            remedy=Text(N_("do not continue; tell support the certificate has expired")),
            details=details,
        )
    # English says "days" even for one (the JSON's sentence is kept as it was).
    left = ngettext("{n} days", "{n} days", int(days))
    args = {"protocol": protocol or "TLS", "date": not_after.date(), "days": left}
    if issuer:
        text = Text(
            N_("{protocol}, certificate valid until {date} ({days}, issued by {issuer})"),
            issuer=issuer,
            **args,
        )
    else:
        text = Text(N_("{protocol}, certificate valid until {date} ({days})"), **args)
    if days < TLS_WARN_DAYS:
        return Finding(
            "net.tls",
            "warn",
            text,
            remedy=Text(N_("nothing to do on your side; mention it to support if it expires")),
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
            text = Text(N_("maintenance in progress until {end}"), end=minute(end))
            return Finding(
                "service.maintenance",
                "fail",
                _described(text, what),
                remedy=Text(N_("wait until {end}, then try again"), end=minute(end)),
                details={"start": start.isoformat(), "end": end.isoformat()},
            )
    if status.get("status") == "maintenance":
        return Finding(
            "service.maintenance",
            "fail",
            Text(N_("the service reports a maintenance in progress")),
            remedy=Text(N_("try again later")),
        )
    upcoming = [w for w in windows if w[0] > now]
    if upcoming and upcoming[0][0] - now <= MAINTENANCE_SOON:
        start, end, what = upcoming[0]
        days = (start - now).total_seconds() / 86400
        # English says "days" even for one (the JSON's sentence is kept as it was).
        when = (
            Text(N_("in less than a day"))
            if days < 1
            else ngettext("in {n} days", "in {n} days", int(days))
        )
        text = Text(
            N_("maintenance announced from {start} to {end} ({when})"),
            start=minute(start),
            end=minute(end),
            when=when,
        )
        return Finding(
            "service.maintenance",
            "warn",
            _described(text, what),
            remedy=Text(N_("plan around it: the service may be unavailable then")),
            details={"start": start.isoformat(), "end": end.isoformat()},
        )
    if upcoming:
        return ok(
            "service.maintenance",
            Text(
                N_("no maintenance in the next 7 days (next on {start})"),
                start=minute(upcoming[0][0]),
            ),
        )
    return ok("service.maintenance", Text(N_("no maintenance announced")))


def _described(text: Text, description: str) -> Text:
    """The finding and the service's own description of the maintenance, shown as sent."""
    if not description:
        return text
    return Text(N_("{maintenance}: {description}"), maintenance=text, description=description)


def evaluate_cache(path: str, files: int, size: int, *, exists: bool = True) -> Finding:
    details = {"path": path, "files": files, "bytes": size}
    if not exists:
        return Finding(
            "local.cache", "ok", Text(N_("no cache ({path})"), path=path), details=details
        )
    text = Text(
        N_("cache {path}: {files}, {size}"),
        path=path,
        files=ngettext("{n} file", "{n} files", files),
        size=human_bytes(size),
    )
    if size > CACHE_WARN_BYTES:
        return Finding(
            "local.cache",
            "warn",
            Text(N_("{cache} (over {size})"), cache=text, size=human_bytes(CACHE_WARN_BYTES)),
            remedy=CMD_CLEAR_CACHE,
            details=details,
        )
    return Finding("local.cache", "ok", text, details=details)


_UNITS = {"KiB": N_("{n} KiB"), "MiB": N_("{n} MiB"), "GiB": N_("{n} GiB")}


def human_bytes(size: int) -> Text:
    """`976 B`, `1.5 MiB` (French: `976 o`, `1,5 Mio`)."""
    value = float(size)
    if value < 1024:
        return Text(N_("{n} B"), n=size)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return Text(_UNITS[unit], n=round(value, 1))
