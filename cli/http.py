"""The API client: one keep-alive connection pool per run, auth, retries, problem -> error.

Retry policy (architecture.md, "Reliability"):
- GET/HEAD are retried on transport errors and 429/502/503/504;
- mutations always carry an Idempotency-Key and are retried only on errors where the
  server provably did not answer (connection failures) and on 429/503, reusing that key,
  so a retried POST is replayed by the server instead of done twice;
- waits are exponential with full jitter (base 0.2 s, cap 5 s, 3 retries), or the server's
  Retry-After; a Retry-After beyond 30 s is not waited for: we stop and say when to retry,
  because a CLI that sleeps for minutes looks hung.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from cli.credentials import CredentialStore, Tokens, expires_at_from
from cli.errors import AuthError, MoncompteError, NetworkError, UsageError, from_problem
from cli.httpx_lite import httpx
from cli.i18n import _, localized
from cli.retry import (
    IDEMPOTENT,
    MAYBE_DONE,
    MUTATIONS,
    NOT_CARRIED_OUT,
    RETRY_STATUS_IDEMPOTENT,
    RETRY_STATUS_MUTATION,
    TOKEN_PATH,
    USER_AGENT,
    expired,
    has_effect,
    json_or_none,
    qs,
    retry_after_seconds,
    say_outcome,
    transport_error,
    why,
)
from cli.urls import check_base_url, check_path, env_proxy, is_loopback

# Importers of cli.http get these from here too.
__all__ = [
    "USER_AGENT",
    "ApiClient",
    "accept_language",
    "Params",
    "check_base_url",
    "is_loopback",
    "retry_after_seconds",
]

Params = Mapping[str, str | int | float | bool | None]
Log = Callable[[str], None]


def accept_language(language: str) -> str:
    """The Accept-Language header for the CLI's language: French first with English as the
    fallback a server without French may still honour, or English alone."""
    return "fr-FR, fr;q=0.9, en;q=0.5" if language == "fr" else "en"


class ApiClient:
    """Talks to the API for one run; commands get it from `env.api()`."""

    def __init__(
        self,
        base_url: str,
        *,
        store: CredentialStore | None = None,
        profile: str = "default",
        timeout: float = 15.0,
        log: Log | None = None,
        max_retries: int = 3,
        backoff_base: float = 0.2,
        backoff_cap: float = 5.0,
        retry_after_cap: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        trust_env: bool = True,
        lost: Callable[[NetworkError], NetworkError] | None = None,
        language: str = "en",
    ) -> None:
        """`headers` go with every request (the background sandbox's secret);
        `language` ("fr" or "en") is sent as Accept-Language, so that the server words its
        problem details in the user's language;
        `trust_env=False` ignores proxies and CA settings of the environment (a private
        loopback server); `lost` rewrites a network error (the sandbox that went away)."""
        self.base_url = check_base_url(base_url)
        self._lost = lost
        self.host = urlsplit(self.base_url).netloc
        self.store = store
        self.profile = profile
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_after_cap = retry_after_cap
        self._log = log
        self._sleep = sleep
        self._clock = clock
        self._tokens: Tokens | None = None
        self._tokens_loaded = False
        self._refresh_lock = threading.Lock()
        plain = urlsplit(self.base_url).scheme == "http"
        if transport is None and plain and (not trust_env or not env_proxy()):
            # Plain http:// is allowed on loopback only (check_base_url), where there is no
            # TLS to verify: a transport without a certificate store spares loading the CA
            # bundle (about 20 ms a run). Not when a proxy is set in the environment: httpx
            # ignores those once given a transport, and a proxy may speak TLS.
            transport = httpx.HTTPTransport(verify=False, trust_env=trust_env)
        # trust_env: HTTPS_PROXY/NO_PROXY/SSL_CERT_FILE apply, as users of proxies expect.
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                "Accept-Language": accept_language(language),
                **(headers or {}),
            },
            trust_env=trust_env,
            follow_redirects=False,  # a redirect could carry the token elsewhere
            transport=transport,
        )

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- tokens ------------------------------------------------------------------------

    def use_tokens(self, tokens: Tokens | None) -> None:
        """Use these tokens for this run instead of the store's (login, tests)."""
        self._tokens = tokens
        self._tokens_loaded = True

    @property
    def tokens(self) -> Tokens | None:
        return self._load_tokens()

    def _load_tokens(self) -> Tokens | None:
        if not self._tokens_loaded:
            self._tokens = self.store.get(self.profile) if self.store else None
            self._tokens_loaded = True
            issued_for = self._tokens.api_url if self._tokens else None
            if issued_for and issued_for.rstrip("/") != self.base_url:
                # Never send a token to a server it was not issued by.
                raise AuthError(
                    _("the credential of profile {profile} is for {issued_for}, not {url}").format(
                        profile=repr(self.profile), issued_for=issued_for, url=self.base_url
                    ),
                    hint=_(
                        "run 'moncompte login --api-url {url}' or choose another --profile"
                    ).format(url=self.base_url),
                )
        return self._tokens

    def _access_token(self) -> str:
        tokens = self._load_tokens()
        if tokens is None:
            where = localized(self.store.describe()) if self.store else _("no credential store")
            raise AuthError(
                _("not logged in (profile {profile}, {store})").format(
                    profile=repr(self.profile), store=where
                ),
                hint=_("run 'moncompte login', or set MONCOMPTE_TOKEN"),
            )
        now = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        if tokens.refresh_token and tokens.expires_soon(now):
            self._debug("access token expires soon: refreshing")
            tokens = self._refresh(tokens)
        token = tokens.access_token
        if not (token.isascii() and token.isprintable()):
            # Could not even go into a header (httpx raised UnicodeEncodeError).
            raise AuthError(
                _("the access token is malformed (not printable ASCII)"),
                hint=_("run 'moncompte login' (or check MONCOMPTE_TOKEN / --token-file)"),
            )
        return token

    def _refresh(self, tokens: Tokens) -> Tokens:
        """Renew the access token, once for all threads sharing this client.

        A refresh token works once (rotation): when the access token expires in the middle
        of a bulk run, every worker sees it at about the same moment and a second refresh
        would be refused. Refreshes are serialised, and a caller whose stale tokens were
        already renewed by another thread takes the new ones.
        """
        with self._refresh_lock:
            current = self._tokens
            if current is not None and current.access_token != tokens.access_token:
                return current
            return self._refresh_now(tokens)

    def _refresh_now(self, tokens: Tokens) -> Tokens:
        assert tokens.refresh_token
        response = self.send(
            "POST",
            TOKEN_PATH,
            json={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
            auth=False,
        )
        if response.status_code >= 400:
            problem = json_or_none(response)
            detail = problem.get("detail") if isinstance(problem, dict) else None
            raise AuthError(
                _("the session has expired and could not be renewed ({detail})").format(
                    detail=detail or _("refused")
                ),
                hint=_("run 'moncompte login' again"),
                status=response.status_code,
            )
        body = json_or_none(response)
        if not isinstance(body, dict):
            raise AuthError(_("the server answered the token refresh without a token"))
        now = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        fresh = Tokens(
            access_token=str(body["access_token"]),
            refresh_token=str(body.get("refresh_token") or tokens.refresh_token),
            expires_at=expires_at_from(body.get("expires_in"), now),
            api_url=tokens.api_url,
            username=tokens.username,
            scope=str(body.get("scope") or tokens.scope or "") or None,
        )
        self._tokens = fresh
        if self.store is not None and self.store.writable:
            try:
                self.store.set(self.profile, fresh)
            except MoncompteError as exc:  # still usable for this run
                self._debug(f"could not save the renewed token: {exc.message}")
        self._debug("access token renewed")
        return fresh

    # -- the request loop --------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        auth: bool = True,
        retry: bool = True,
    ) -> httpx.Response:
        """Send with auth, refresh and retries; return the final response whatever its status."""
        method = method.upper()
        url = check_path(path)
        hdrs = dict(headers or {})
        if method in MUTATIONS:
            hdrs["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        if content is not None:
            hdrs.setdefault("Content-Type", "application/json")
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        quiet_body = path.startswith(("/v1/auth/",))
        refreshed = False
        effect = has_effect(method, url)
        maybe_done = False  # for an effect: whether an attempt may have been carried out
        attempt = 0
        while True:
            if auth:
                hdrs["Authorization"] = f"Bearer {self._access_token()}"
            started = time.monotonic()
            self._debug(f"> {method} {self.base_url}{url}" + qs(clean_params))
            try:
                response = self._http.request(
                    method, url, params=clean_params, json=json, content=content, headers=hdrs
                )
            except httpx.TransportError as exc:
                elapsed = (time.monotonic() - started) * 1000
                self._debug(f"< {method} {url} failed after {elapsed:.0f} ms: {why(exc)}")
                if effect and not isinstance(
                    exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
                ):
                    maybe_done = True  # sent, and no answer: it may have been done
                if retry and attempt < self.max_retries and self._retryable_error(method, exc):
                    attempt += 1
                    self._wait(self._backoff(attempt), attempt, why(exc))
                    continue
                error = self._network_error(exc)
                if effect:
                    say_outcome(error, method, url, maybe_done)
                raise error from exc
            elapsed = (time.monotonic() - started) * 1000
            self._debug(
                f"< {response.status_code} {method} {url} {elapsed:.0f} ms"
                + (" (body not logged)" if quiet_body else "")
            )
            if effect:
                if response.status_code >= 500 and response.status_code not in NOT_CARRIED_OUT:
                    maybe_done = True
                response.extensions[MAYBE_DONE] = maybe_done
            if response.status_code == 401 and auth and not refreshed:
                tokens = self._tokens
                if tokens is not None and tokens.refresh_token and expired(response):
                    refreshed = True
                    self._refresh(tokens)
                    continue
            retry_on = RETRY_STATUS_IDEMPOTENT if method in IDEMPOTENT else RETRY_STATUS_MUTATION
            if retry and response.status_code in retry_on and attempt < self.max_retries:
                delay = retry_after_seconds(response.headers.get("Retry-After"), self._clock())
                if delay is not None and delay > self.retry_after_cap:
                    self._debug(f"Retry-After {delay:.0f} s is over the cap: not retrying")
                    return response
                attempt += 1
                self._wait(
                    delay if delay is not None else self._backoff(attempt),
                    attempt,
                    f"HTTP {response.status_code}",
                )
                continue
            return response

    def _retryable_error(self, method: str, exc: httpx.TransportError) -> bool:
        if method in IDEMPOTENT:
            return True
        # A mutation is retried only when the request cannot have been processed, or the
        # idempotency key makes a replay safe and the server surely answered nothing yet.
        return isinstance(
            exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.RemoteProtocolError
        )

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))

    def _wait(self, delay: float, attempt: int, why: str) -> None:
        self._debug(f"retry {attempt}/{self.max_retries} in {delay:.2f} s after {why}")
        self._sleep(delay)

    def _network_error(self, exc: httpx.TransportError) -> NetworkError:
        error = transport_error(exc, self.host)
        if self._lost is not None and not isinstance(exc, httpx.TimeoutException):
            # Refused or cut off, not merely slow: the server is gone.
            return self._lost(error)
        return error

    def _debug(self, message: str) -> None:
        if self._log is not None:
            self._log(message)

    # -- conveniences that raise typed errors -------------------------------------------

    def check(self, response: httpx.Response) -> httpx.Response:
        """Raise the typed error for a non-2xx answer."""
        if 300 <= response.status_code < 400:
            # Redirects are not followed (they could carry the token elsewhere), and the
            # API never redirects a valid request: a wrong --api-url, or an odd ID.
            where = response.headers.get("Location", "")
            raise UsageError(
                _("the server answered {status} (redirect to {where}) to {request}").format(
                    status=response.status_code,
                    where=repr(where),
                    request=f"{response.request.method} {response.request.url.path}",
                ),
                hint=_("check the ID and --api-url (redirects are not followed)"),
                status=response.status_code,
            )
        if response.status_code < 400:
            return response
        retry_after = response.headers.get("Retry-After")
        error = from_problem(
            response.status_code,
            json_or_none(response),
            method=response.request.method,
            url=response.request.url.path,
            host=self.host,
        )
        if retry_after and response.status_code in (429, 503):
            seconds = retry_after_seconds(retry_after, self._clock())
            if seconds is not None:
                error.hint = _("try again in {seconds} s").format(seconds=f"{seconds:.0f}")
        method, path = response.request.method, response.request.url.path
        if isinstance(error, NetworkError) and has_effect(method, path):
            maybe_done = response.extensions.get(
                MAYBE_DONE, response.status_code not in NOT_CARRIED_OUT
            )
            say_outcome(error, method, path, bool(maybe_done))
        raise error

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send and return the decoded JSON body (None when empty); errors raise."""
        response = self.check(self.send(method, path, **kwargs))
        return json_or_none(response)

    def get(self, path: str, params: Params | None = None, *, auth: bool = True) -> Any:
        return self.request("GET", path, params=params, auth=auth)

    def post(
        self,
        path: str,
        json: Any = None,
        *,
        idempotency_key: str | None = None,
        auth: bool = True,
    ) -> Any:
        return self.request("POST", path, json=json, idempotency_key=idempotency_key, auth=auth)

    def put(self, path: str, json: Any = None, *, idempotency_key: str | None = None) -> Any:
        return self.request("PUT", path, json=json, idempotency_key=idempotency_key)

    def delete(self, path: str, *, idempotency_key: str | None = None) -> Any:
        return self.request("DELETE", path, idempotency_key=idempotency_key)

    def get_bytes(self, path: str, params: Params | None = None) -> bytes:
        return self.check(self.send("GET", path, params=params)).content

    def paginate(
        self, path: str, params: Params | None = None, *, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield items across pages lazily, following `next_cursor`."""
        query: dict[str, str | int | float | bool | None] = dict(params or {})
        if limit is not None:
            query["limit"] = limit
        while True:
            page = self.get(path, query)
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise MoncompteError(
                    _("{request} did not answer a paginated list").format(request=f"GET {path}")
                )

            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return
            query["cursor"] = cursor
