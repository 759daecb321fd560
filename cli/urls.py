"""Which API URLs the client accepts, and whether the environment names a proxy.

Plain http:// only on loopback: a token must never cross a network in clear text.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from cli.errors import UsageError


def env_proxy() -> bool:
    """Whether the environment names a proxy (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, any case)."""
    import urllib.request

    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """Refuse anything but https://, or http:// on a loopback host (tokens in clear text)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"invalid API URL {url!r}: expected https://host[/path]")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(
            f"refusing plain http:// for {parts.hostname}: tokens would travel in clear text",
            hint="use https://, or http:// only with 127.0.0.1, ::1 or localhost",
        )
    return url.rstrip("/")
