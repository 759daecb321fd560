"""Which API URLs the client accepts, and whether the environment names a proxy.

Plain http:// only on loopback: a token must never cross a network in clear text.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from cli.errors import UsageError
from cli.i18n import _


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
        raise UsageError(
            _("invalid API URL {url}: expected https://host[/path]").format(url=repr(url))
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(
            _("refusing plain http:// for {host}: tokens would travel in clear text").format(
                host=parts.hostname
            ),
            hint=_("use https://, or http:// only with 127.0.0.1, ::1 or localhost"),
        )

    return url.rstrip("/")


def check_path(path: str) -> str:
    """An API path as given (`api GET ...`, or built from an ID), refused when it is a URL
    or holds a character or a segment that would make it name another route."""
    if "://" in path or path.startswith("//"):
        raise UsageError(
            _("expected a path such as /v1/me, not a URL: {path}").format(path=repr(path)),
            hint=_("the server is chosen with --api-url"),
        )
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or 0xD800 <= ord(c) < 0xE000 for c in path):
        # httpx would fail on these (InvalidURL, UnicodeEncodeError): an ID with a
        # control character or undecodable bytes in it is bad input, not a crash.
        raise UsageError(
            _("invalid character in {path}").format(path=repr(path)),
            hint=_("IDs are printable, e.g. CT-0000001"),
        )
    route = path.split("?", 1)[0]
    if route.endswith("/") or "//" in route:
        raise UsageError(
            _("an empty ID in {path}").format(path=repr(path)),
            hint=_("give the ID, e.g. CT-0000001"),
        )
    if any(part in (".", "..") for part in route.split("/")):
        # httpx would resolve them: `contracts show ../invoices` must not read another route.
        raise UsageError(
            _("invalid ID in {path}").format(path=repr(path)),
            hint=_("IDs look like CT-0000001"),
        )
    return path if path.startswith("/") else "/" + path
