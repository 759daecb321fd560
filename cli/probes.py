"""The probes behind `moncompte diagnose`: local files and settings, and the network path to
the API (DNS, TCP, TLS, latency, clock), each returning a `Finding`.

Probes measure; `domain.diagnose` judges where the judgement is more than "it failed".
Every probe is bounded by a timeout and never raises for a condition it is meant to
detect: a refused connection is a finding, not an exception. The caller runs them in
threads with a deadline of its own, for what no socket timeout bounds (getaddrinfo).

The proxy decision mirrors httpx's (the API client's) reading of HTTP(S)_PROXY, ALL_PROXY
and NO_PROXY, so what is reported is what the client really does; a unit test compares
the two.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import ipaddress
import os
import re
import shutil
import socket
import ssl
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from domain.diagnose import (
    CMD_CLEAR_CACHE,
    CMD_LOGIN,
    Finding,
    evaluate_cache,
    evaluate_clock,
    evaluate_latency,
    evaluate_tls,
    human_bytes,
)

if TYPE_CHECKING:
    from cli.config import ConfigFile
    from cli.context import Env

CACHE_APP = "moncompte"
LATENCY_REQUESTS = 5
STATUS_PATH = "/v1/status"


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
    problem: str | None = None

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
        problem = f"unsupported proxy scheme {parts.scheme!r} in {variable}"
    else:
        try:
            parts.port  # noqa: B018 - parsing is the check
        except ValueError:
            problem = f"{variable} has an invalid port"
        if not parts.hostname:
            problem = f"{variable} names no host"
    return ProxyChoice(proxy=proxy, variable=variable, problem=problem)


def check_proxy(url: str, environ: Mapping[str, str]) -> Finding:
    target = Target.parse(url)
    choice = proxy_for(url, environ)
    details = {"proxy": choice.shown, "variable": choice.variable, "bypass": choice.bypass}
    if choice.problem:
        return Finding(
            "local.proxy",
            "warn",
            f"{choice.problem}: {choice.shown}",
            remedy=f"fix or unset {choice.variable}",
            details=details,
        )
    if choice.proxy is None:
        if choice.bypass:
            text = f"direct to {target.host} (NO_PROXY entry {choice.bypass!r})"
        else:
            text = f"direct to {target.host} (no proxy set for {target.scheme})"
        return Finding("local.proxy", "ok", text, details=details)
    if target.is_loopback:
        # A proxy cannot reach this machine's loopback: almost always a forgotten NO_PROXY.
        return Finding(
            "local.proxy",
            "warn",
            f"requests to {target.host} go through the proxy {choice.shown} "
            f"({choice.variable}), which cannot reach this machine's loopback",
            remedy=f"add {target.host} to NO_PROXY",
            details=details,
        )
    return Finding(
        "local.proxy",
        "ok",
        f"through the proxy {choice.shown} ({choice.variable}); {target.host} is not in NO_PROXY",
        details=details,
    )


# --- DNS, TCP, TLS -------------------------------------------------------------------------


def probe_dns(target: Target, choice: ProxyChoice) -> Finding:
    if target.is_ip:
        return Finding("net.dns", "ok", f"{target.host} is an IP address: no lookup needed")
    started = time.monotonic()
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        if choice.proxy:
            return Finding(
                "net.dns",
                "warn",
                f"{target.host} does not resolve here ({reason}); the proxy "
                f"{choice.shown} resolves it, so this may be fine",
            )
        return Finding(
            "net.dns",
            "fail",
            f"cannot resolve {target.host}: {reason}",
            remedy="check the API URL (moncompte config get api_url) and the DNS or network "
            "connection",
        )
    ms = (time.monotonic() - started) * 1000
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    shown = ", ".join(addresses[:4]) + (
        f" and {len(addresses) - 4} more" if len(addresses) > 4 else ""
    )
    return Finding(
        "net.dns",
        "ok",
        f"{target.host} resolves to {shown} ({ms:.0f} ms)",
        details={"addresses": addresses, "ms": round(ms, 1)},
    )


def _endpoint(target: Target, choice: ProxyChoice) -> tuple[str, int, str]:
    """Where the TCP connection goes: the proxy when one is used, else the API."""
    if choice.proxy:
        parts = urlsplit(choice.proxy)
        default = (
            443 if parts.scheme == "https" else 1080 if parts.scheme.startswith("socks") else 80
        )
        return parts.hostname or "", parts.port or default, f"proxy {choice.shown}"
    return target.host, target.port, f"{target.host}:{target.port}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message or str(exc)
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def probe_tcp(target: Target, choice: ProxyChoice, timeout: float) -> Finding:
    host, port, what = _endpoint(target, choice)
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            ms = (time.monotonic() - started) * 1000
    except OSError as exc:
        return Finding(
            "net.tcp",
            "fail",
            f"cannot connect to {what}: {_reason(exc)}",
            remedy="check the API URL (moncompte config get api_url), the network and any "
            "firewall; if the service is down, try again later",
            details={"host": host, "port": port},
        )
    return Finding(
        "net.tcp",
        "ok",
        f"connected to {what} in {ms:.0f} ms",
        details={"host": host, "port": port, "ms": round(ms, 1)},
    )


def ssl_context(environ: Mapping[str, str]) -> ssl.SSLContext:
    """The trust store the API client uses: SSL_CERT_FILE / SSL_CERT_DIR, else certifi's."""
    cafile = environ.get("SSL_CERT_FILE")
    capath = environ.get("SSL_CERT_DIR")
    if cafile:
        return ssl.create_default_context(cafile=cafile)
    if capath:
        return ssl.create_default_context(capath=capath)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _connect_tunnel(sock: socket.socket, target: Target, choice: ProxyChoice) -> None:
    """HTTP CONNECT through the proxy, so TLS is checked end to end as the client sees it."""
    parts = urlsplit(choice.proxy or "")
    request = (
        f"CONNECT {target.host}:{target.port} HTTP/1.1\r\nHost: {target.host}:{target.port}\r\n"
    )
    if parts.username:
        from urllib.parse import unquote

        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        request += f"Proxy-Authorization: Basic {base64.b64encode(pair).decode()}\r\n"
    sock.sendall((request + "\r\n").encode("latin-1"))
    answer = b""
    while b"\r\n\r\n" not in answer and len(answer) < 16384:
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    status_line = answer.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    fields = status_line.split(" ", 2)
    if len(fields) < 2 or fields[1] != "200":
        raise ConnectionError(f"the proxy refused the tunnel ({status_line or 'no answer'})")


def probe_tls(
    target: Target,
    choice: ProxyChoice,
    timeout: float,
    environ: Mapping[str, str],
    now: dt.datetime,
) -> Finding:
    if target.scheme != "https":
        why = "on loopback" if target.is_loopback else "(refused by the client off loopback)"
        return Finding("net.tls", "skip", f"plain http {why}: no TLS to check")
    if choice.proxy and urlsplit(choice.proxy).scheme.startswith("socks"):
        return Finding("net.tls", "skip", f"through the SOCKS proxy {choice.shown}: not probed")
    host, port, what = _endpoint(target, choice)
    try:
        context = ssl_context(environ)
    except (OSError, ssl.SSLError) as exc:
        return Finding(
            "net.tls",
            "fail",
            f"cannot load the trust store: {_reason(exc)}",
            remedy="check SSL_CERT_FILE / SSL_CERT_DIR",
        )
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            if choice.proxy:
                _connect_tunnel(raw, target, choice)
            with context.wrap_socket(raw, server_hostname=target.host) as tls:
                cert = tls.getpeercert() or {}
                protocol = tls.version()
    except ssl.SSLCertVerificationError as exc:
        return Finding(
            "net.tls",
            "fail",
            f"certificate of {target.host} not trusted: {_reason(exc)}",
            remedy="behind a TLS-inspecting proxy, point SSL_CERT_FILE at its CA bundle; "
            "otherwise do not continue: the connection may be intercepted",
        )
    except (OSError, ssl.SSLError) as exc:
        return Finding(
            "net.tls",
            "fail",
            f"TLS handshake with {what} failed: {_reason(exc)}",
            remedy="check the API URL (is it really https?) and any proxy in between",
        )
    not_after_text = cert.get("notAfter")
    if not isinstance(not_after_text, str):
        return Finding("net.tls", "ok", f"{protocol}: certificate verified (no expiry date given)")
    not_after = dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after_text), dt.UTC)
    issuer = _issuer(cert)
    return evaluate_tls(protocol, not_after, now, issuer)


def _issuer(cert: Mapping[str, Any]) -> str | None:
    for rdn in cert.get("issuer") or ():
        for key, value in rdn:
            if key in ("organizationName", "commonName"):
                return str(value)
    return None


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
            finding.finding + f"; {len(server_errors)} answered {server_errors[-1]}",
            remedy="the service answers with errors: try again later",
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
            f"cannot ask the server for its time: {probe.error}",
            remedy="see net.tcp",
        )
    if not probe.date_header:
        return Finding("net.clock", "skip", "the server sent no Date header")
    try:
        server = email.utils.parsedate_to_datetime(probe.date_header)
    except (TypeError, ValueError):
        return Finding("net.clock", "skip", f"unreadable Date header {probe.date_header!r}")
    if server.tzinfo is None:
        server = server.replace(tzinfo=dt.UTC)
    midpoint = (probe.sent + probe.received) / 2
    skew = server.timestamp() + 0.5 - midpoint
    uncertainty = 0.5 + (probe.received - probe.sent) / 2
    return evaluate_clock(skew, uncertainty)


# --- local: cache, config, credentials -----------------------------------------------------


def cache_dir() -> Path:
    """The user cache dir (platformdirs: XDG_CACHE_HOME on Linux)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(CACHE_APP))


def _walk(path: Path, limit: int = 200_000) -> tuple[int, int]:
    """(files, bytes) under `path`, symlinks not followed, at most `limit` entries."""
    files = size = seen = 0
    stack = [path]
    while stack and seen < limit:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                else:
                    files += 1
                    size += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return files, size


def inspect_cache(path: Path) -> Finding:
    if not path.exists():
        return evaluate_cache(str(path), 0, 0, exists=False)
    files, size = _walk(path)
    return evaluate_cache(str(path), files, size)


def clear_cache(path: Path) -> tuple[int, int]:
    """Delete the cache dir's contents; (files, bytes) removed.

    Refuses anything but a real directory named after the tool, so a misconfigured
    XDG_CACHE_HOME can never turn this into `rm -rf $HOME`.
    """
    if not path.exists():
        return 0, 0
    if path.is_symlink() or not path.is_dir() or path.name.lower() != CACHE_APP:
        raise OSError(f"{path} is not a moncompte cache directory; not clearing it")
    files, size = _walk(path)
    for entry in path.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    return files, size


def cleared_finding(path: Path, files: int, size: int) -> Finding:
    return Finding(
        "local.cache",
        "ok",
        f"cache {path} cleared: {files} files ({human_bytes(size)}) removed",
        details={
            "path": str(path),
            "files": 0,
            "bytes": 0,
            "removed_files": files,
            "removed_bytes": size,
        },
    )


def check_config(
    path: Path, profile: str, explicit_profile: bool
) -> tuple[Finding, ConfigFile | None]:
    """Read and validate the config file; also return it when usable."""
    from cli.config import KEYS, ConfigFile
    from cli.errors import UsageError

    try:
        config = ConfigFile.load(path)
    except UsageError as exc:
        return (
            Finding(
                "local.config",
                "fail",
                exc.message,
                remedy=f"fix or remove {path} (moncompte config set recreates it)",
                refs=(),
            ),
            None,
        )
    if not path.exists():
        return Finding("local.config", "ok", f"no config file ({path}): defaults apply"), config
    problems: list[str] = []
    invalid: list[str] = []
    for name, table in config.profiles.items():
        for key, value in table.items():
            spec = KEYS.get(key)
            if spec is None:
                problems.append(f"unknown key {name}.{key}")
                continue
            try:
                spec.parse(str(value).lower() if isinstance(value, bool) else str(value))
            except ValueError as exc:
                invalid.append(f"{name}.{key} = {value!r}: {exc}")
    if config.other:
        problems.append(f"unknown tables {', '.join(sorted(config.other))}")
    if explicit_profile and profile not in config.profiles:
        problems.append(f"profile {profile!r} is not in the file (defaults apply)")
    mode = path.stat().st_mode
    if mode & stat.S_IWOTH:
        problems.append(f"writable by anyone (mode {stat.S_IMODE(mode):o})")
    head = f"{path}: {len(config.profiles)} profile(s), using {profile!r}"
    if invalid:
        return (
            Finding(
                "local.config",
                "fail",
                f"{head}; invalid " + "; ".join(invalid),
                remedy="fix it with moncompte config set KEY VALUE",
            ),
            config,
        )
    if problems:
        return (
            Finding(
                "local.config",
                "warn",
                f"{head}; " + "; ".join(problems),
                remedy=f"check {path} (moncompte config list)",
            ),
            config,
        )
    return Finding("local.config", "ok", head), config


def check_credentials(env: Env, base_url: str | None, now: dt.datetime) -> Finding:
    """Where the credential comes from and whether it is still usable, without the network.

    Tokens are opaque: expiry comes from the `expires_at` stored beside them at login.
    """
    from cli.errors import MoncompteError

    if env.sandbox_mode:
        return Finding(
            "local.credentials",
            "ok",
            "built-in sandbox: the demo login is minted locally, nothing is stored",
        )
    try:
        store = env.credentials()
        where = store.describe()
        tokens = store.get(env.profile)
    except MoncompteError as exc:
        return Finding(
            "local.credentials",
            "fail",
            exc.message,
            remedy=exc.hint or CMD_LOGIN,
        )
    if tokens is None:
        return Finding(
            "local.credentials",
            "fail",
            f"not logged in (profile {env.profile!r}, {where})",
            remedy=f"{CMD_LOGIN}, or set MONCOMPTE_TOKEN",
        )
    details: dict[str, Any] = {"store": store.kind, "where": where, "expires_at": tokens.expires_at}
    if tokens.api_url and base_url and tokens.api_url.rstrip("/") != base_url.rstrip("/"):
        return Finding(
            "local.credentials",
            "fail",
            f"the credential in {where} is for {tokens.api_url}, not {base_url}",
            remedy=f"{CMD_LOGIN} --api-url {base_url}",
            details=details,
        )
    file_warning = _file_store_mode(store, env.profile)
    expires = _parse_expiry(tokens.expires_at)
    if expires is None:
        text = f"token from {where} (no expiry recorded)"
    elif expires <= now:
        if not tokens.refresh_token:
            return Finding(
                "local.credentials",
                "fail",
                f"the token in {where} expired on {expires.isoformat(timespec='minutes')}",
                remedy=CMD_LOGIN,
                details=details,
            )
        text = (
            f"token in {where} expired on {expires.isoformat(timespec='minutes')}; "
            "it is renewed with the refresh token at the next request"
        )
    elif expires - now < dt.timedelta(days=1) and not tokens.refresh_token:
        return Finding(
            "local.credentials",
            "warn",
            f"the token in {where} expires on {expires.isoformat(timespec='minutes')} "
            "and cannot be renewed",
            remedy=CMD_LOGIN,
            details=details,
        )
    else:
        text = f"token in {where}, valid until {expires.isoformat(timespec='minutes')}"
    if file_warning:
        problem, path = file_warning
        return Finding(
            "local.credentials",
            "warn",
            f"{text}; {problem}",
            remedy=f"chmod 600 {path}",
            details=details,
        )
    return Finding("local.credentials", "ok", text, details=details)


def _parse_expiry(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _file_store_mode(store: Any, profile: str) -> tuple[str, Path] | None:
    """The plaintext credential file must stay private (0600): (problem, path) if not."""
    if getattr(store, "kind", None) != "file":
        return None
    try:
        path = Path(store.path(profile))
        mode = stat.S_IMODE(path.stat().st_mode)
    except (OSError, AttributeError):
        return None
    if mode & 0o077:
        return f"the credential file is readable by others (mode {mode:o})", path
    return None


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
