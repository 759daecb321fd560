"""Where the API is and how the client reaches it: the target, the proxy (local.proxy),
name resolution (net.dns) and the TCP connection (net.tcp).

The proxy decision mirrors httpx's (the API client's) reading of HTTP(S)_PROXY, ALL_PROXY
and NO_PROXY, so what is reported is what the client really does; a unit test compares
the two.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from domain.diagnose import Finding
from domain.i18n import N_, Text

# --- the target ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The API endpoint being diagnosed."""

    url: str
    scheme: str
    host: str
    port: int
    # Sent with every probe request: the background sandbox's secret. Such a target is
    # private: reached directly, never through a proxy of the environment.
    headers: Mapping[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def parse(cls, url: str, headers: Mapping[str, str] | None = None) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(url.rstrip("/"), parts.scheme, parts.hostname, port, dict(headers or {}))

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True

    @property
    def is_loopback(self) -> bool:
        if self.host.lower() in ("localhost", "localhost."):
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def redact_url(url: str) -> str:
    """A URL without its password (proxy URLs may carry `user:password@`)."""
    parts = urlsplit(url)
    if parts.password is None and "@" not in parts.netloc:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host += f":{parts.port}"
    user = f"{parts.username}:***@" if parts.username else "***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


# --- proxy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProxyChoice:
    """How the API client reaches `target`: directly, or through `proxy` (from `variable`)."""

    proxy: str | None = None  # the full URL, credentials included: never print it
    variable: str | None = None
    bypass: str | None = None  # the NO_PROXY entry that sends it direct
    problem: Text | None = None

    @property
    def shown(self) -> str | None:
        return redact_url(self.proxy) if self.proxy else None


def _environment_proxies(environ: Mapping[str, str]) -> tuple[dict[str, tuple[str, str]], str]:
    """{scheme: (url, variable)} and NO_PROXY, as urllib's getproxies_environment reads
    them: any case, the lowercase name wins (even empty, which removes the proxy), and
    HTTP_PROXY in upper case is ignored under CGI (REQUEST_METHOD set: "httpoxy")."""
    found: dict[str, tuple[str, str]] = {}
    for name, value in environ.items():
        lower = name.lower()
        if lower.endswith("_proxy") and value and name != lower:
            found[lower[:-6]] = (value, name)
    if "REQUEST_METHOD" in environ:
        found.pop("http", None)
    for name, value in environ.items():
        if name.endswith("_proxy") and name == name.lower():
            if value:
                found[name[:-6]] = (value, name)
            else:
                found.pop(name[:-6], None)
    no_proxy = found.pop("no", ("", ""))[0]
    return found, no_proxy


def _no_proxy_pattern(entry: str) -> str:
    """The URL pattern httpx builds from one NO_PROXY entry."""
    if "://" in entry:
        return entry
    try:
        ipaddress.IPv4Address(entry.split("/")[0])
        return f"all://{entry}"
    except ValueError:
        pass
    try:
        ipaddress.IPv6Address(entry.split("/")[0])
        return f"all://[{entry}]"
    except ValueError:
        pass
    if entry.lower() == "localhost":
        return f"all://{entry}"
    return f"all://*{entry}"


def _pattern_matches(pattern: str, target: Target, explicit_port: int | None) -> bool:
    parts = urlsplit(pattern)
    if parts.scheme not in ("all", "") and parts.scheme != target.scheme:
        return False
    try:
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:  # "127.0.0.0/8" and the like: httpx matches nothing with those
        return False
    if host and host != "*":
        name = target.host.lower()
        if host.startswith("*."):
            if not re.match(rf"^.+\.{re.escape(host[2:])}$", name):
                return False
        elif host.startswith("*"):
            if not re.match(rf"^(.+\.)?{re.escape(host[1:])}$", name):
                return False
        elif host != name:
            return False
    return port is None or port == explicit_port


def proxy_for(url: str, environ: Mapping[str, str]) -> ProxyChoice:
    """The proxy the API client uses for `url` (httpx with trust_env), and why."""
    target = Target.parse(url)
    proxies, no_proxy = _environment_proxies(environ)
    explicit_port = urlsplit(url).port
    for entry in (e.strip() for e in no_proxy.split(",")):
        if entry == "*":
            return ProxyChoice(bypass="*")
        if entry and _pattern_matches(_no_proxy_pattern(entry), target, explicit_port):
            return ProxyChoice(bypass=entry)
    chosen = proxies.get(target.scheme) or proxies.get("all")
    if chosen is None:
        return ProxyChoice()
    value, variable = chosen
    proxy = value if "://" in value else f"http://{value}"
    problem = None
    parts = urlsplit(proxy)
    if parts.scheme not in ("http", "https", "socks5", "socks5h"):
        problem = Text(
            N_("unsupported proxy scheme {scheme} in {variable}"),
            scheme=repr(parts.scheme),
            variable=variable,
        )
    else:
        try:
            parts.port  # noqa: B018 - parsing is the check
        except ValueError:
            problem = Text(N_("{variable} has an invalid port"), variable=variable)
        if not parts.hostname:
            problem = Text(N_("{variable} names no host"), variable=variable)
    return ProxyChoice(proxy=proxy, variable=variable, problem=problem)


def check_proxy(url: str, environ: Mapping[str, str]) -> Finding:
    target = Target.parse(url)
    choice = proxy_for(url, environ)
    details = {"proxy": choice.shown, "variable": choice.variable, "bypass": choice.bypass}
    if choice.problem:
        return Finding(
            "local.proxy",
            "warn",
            Text(N_("{problem}: {proxy}"), problem=choice.problem, proxy=str(choice.shown)),
            remedy=Text(N_("fix or unset {variable}"), variable=str(choice.variable)),
            details=details,
        )
    if choice.proxy is None:
        if choice.bypass:
            text = Text(
                N_("direct to {host} (NO_PROXY entry {entry})"),
                host=target.host,
                entry=repr(choice.bypass),
            )
        else:
            text = Text(
                N_("direct to {host} (no proxy set for {scheme})"),
                host=target.host,
                scheme=target.scheme,
            )
        return Finding("local.proxy", "ok", text, details=details)
    if target.is_loopback:
        # A proxy cannot reach this machine's loopback: almost always a forgotten NO_PROXY.
        return Finding(
            "local.proxy",
            "warn",
            Text(
                N_(
                    "requests to {host} go through the proxy {proxy} ({variable}), which "
                    "cannot reach this machine's loopback"
                ),
                host=target.host,
                proxy=str(choice.shown),
                variable=str(choice.variable),
            ),
            remedy=Text(N_("add {host} to NO_PROXY"), host=target.host),
            details=details,
        )
    return Finding(
        "local.proxy",
        "ok",
        Text(
            N_("through the proxy {proxy} ({variable}); {host} is not in NO_PROXY"),
            proxy=str(choice.shown),
            variable=str(choice.variable),
            host=target.host,
        ),
        details=details,
    )


# --- DNS, TCP -----------------------------------------------------------------------------


def probe_dns(target: Target, choice: ProxyChoice) -> Finding:
    if target.is_ip:
        return Finding(
            "net.dns",
            "ok",
            Text(N_("{host} is an IP address: no lookup needed"), host=target.host),
        )
    started = time.monotonic()
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        # The system's reason (getaddrinfo's) is shown as it is.
        reason = getattr(exc, "strerror", None) or str(exc)
        if choice.proxy:
            return Finding(
                "net.dns",
                "warn",
                Text(
                    N_(
                        "{host} does not resolve here ({reason}); the proxy {proxy} resolves "
                        "it, so this may be fine"
                    ),
                    host=target.host,
                    reason=reason,
                    proxy=str(choice.shown),
                ),
            )
        return Finding(
            "net.dns",
            "fail",
            Text(N_("cannot resolve {host}: {reason}"), host=target.host, reason=reason),
            remedy=Text(
                N_(
                    "check the API URL (moncompte config get api_url) and the DNS or network "
                    "connection"
                )
            ),
        )
    ms = (time.monotonic() - started) * 1000
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    shown: str | Text = ", ".join(addresses[:4])
    if len(addresses) > 4:
        shown = Text(N_("{addresses} and {n} more"), addresses=shown, n=len(addresses) - 4)
    return Finding(
        "net.dns",
        "ok",
        Text(
            N_("{host} resolves to {addresses} ({ms} ms)"),
            host=target.host,
            addresses=shown,
            ms=int(f"{ms:.0f}"),
        ),
        details={"addresses": addresses, "ms": round(ms, 1)},
    )


def endpoint(target: Target, choice: ProxyChoice) -> tuple[str, int, str | Text]:
    """Where the TCP connection goes: the proxy when one is used, else the API."""
    if choice.proxy:
        parts = urlsplit(choice.proxy)
        default = (
            443 if parts.scheme == "https" else 1080 if parts.scheme.startswith("socks") else 80
        )
        return (
            parts.hostname or "",
            parts.port or default,
            Text(N_("proxy {proxy}"), proxy=str(choice.shown)),
        )
    return target.host, target.port, f"{target.host}:{target.port}"


def reason(exc: BaseException) -> str:
    """Why a connection failed: the system's or the TLS library's words, shown as they are
    (a timeout is ours)."""
    if isinstance(exc, socket.timeout | TimeoutError):
        return Text(N_("timed out"))
    if len(exc.args) == 1 and isinstance(exc.args[0], Text):  # ours (str() would drop it)
        return exc.args[0]
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message or str(exc)
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def probe_tcp(target: Target, choice: ProxyChoice, timeout: float) -> Finding:
    host, port, what = endpoint(target, choice)
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            ms = (time.monotonic() - started) * 1000
    except OSError as exc:
        return Finding(
            "net.tcp",
            "fail",
            Text(N_("cannot connect to {what}: {reason}"), what=what, reason=reason(exc)),
            remedy=Text(
                N_(
                    "check the API URL (moncompte config get api_url), the network and any "
                    "firewall; if the service is down, try again later"
                )
            ),
            details={"host": host, "port": port},
        )
    return Finding(
        "net.tcp",
        "ok",
        Text(N_("connected to {what} in {ms} ms"), what=what, ms=int(f"{ms:.0f}")),
        details={"host": host, "port": port, "ms": round(ms, 1)},
    )
