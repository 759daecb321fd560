"""The TLS check (net.tls): the handshake with the API, through the proxy's CONNECT tunnel
when one is used, against the trust store the API client uses.
"""

from __future__ import annotations

import base64
import datetime as dt
import socket
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from commands.diagnose.probes.network import ProxyChoice, Target, endpoint, reason
from domain.diagnose import Finding, evaluate_tls
from domain.i18n import N_, Text


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
        raise ConnectionError(
            Text(
                N_("the proxy refused the tunnel ({answer})"),
                answer=status_line or Text(N_("no answer")),
            )
        )


def probe_tls(
    target: Target,
    choice: ProxyChoice,
    timeout: float,
    environ: Mapping[str, str],
    now: dt.datetime,
) -> Finding:
    if target.scheme != "https":
        if target.is_loopback:
            text = Text(N_("plain http on loopback: no TLS to check"))
        else:
            text = Text(N_("plain http (refused by the client off loopback): no TLS to check"))
        return Finding("net.tls", "skip", text)
    if choice.proxy and urlsplit(choice.proxy).scheme.startswith("socks"):
        return Finding(
            "net.tls",
            "skip",
            Text(N_("through the SOCKS proxy {proxy}: not probed"), proxy=str(choice.shown)),
        )
    host, port, what = endpoint(target, choice)
    try:
        context = ssl_context(environ)
    except (OSError, ssl.SSLError) as exc:
        return Finding(
            "net.tls",
            "fail",
            Text(N_("cannot load the trust store: {reason}"), reason=reason(exc)),
            remedy=Text(N_("check SSL_CERT_FILE / SSL_CERT_DIR")),
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
            Text(
                N_("certificate of {host} not trusted: {reason}"),
                host=target.host,
                reason=reason(exc),
            ),
            remedy=Text(
                N_(
                    "behind a TLS-inspecting proxy, point SSL_CERT_FILE at its CA bundle; "
                    "otherwise do not continue: the connection may be intercepted"
                )
            ),
        )
    except (OSError, ssl.SSLError) as exc:
        return Finding(
            "net.tls",
            "fail",
            Text(N_("TLS handshake with {what} failed: {reason}"), what=what, reason=reason(exc)),
            remedy=Text(N_("check the API URL (is it really https?) and any proxy in between")),
        )
    not_after_text = cert.get("notAfter")
    if not isinstance(not_after_text, str):
        return Finding(
            "net.tls",
            "ok",
            Text(N_("{protocol}: certificate verified (no expiry date given)"), protocol=protocol),
        )
    not_after = dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after_text), dt.UTC)
    issuer = _issuer(cert)
    return evaluate_tls(protocol, not_after, now, issuer)


def _issuer(cert: Mapping[str, Any]) -> str | None:
    for rdn in cert.get("issuer") or ():
        for key, value in rdn:
            if key in ("organizationName", "commonName"):
                return str(value)
    return None
