"""Where tokens live: the OS keyring (bounded), an explicit 0600 file, or read-only sources.

Every store answers `describe()` so `login`/`whoami` can say where the credential is; the
file store says "(insecure)" so the user is never surprised by a plaintext token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from cli.errors import AuthError, UsageError, register_secret
from cli.files import atomic_write_text, os_reason
from cli.i18n import N_, _, localized, translated
from domain.i18n import Text

SERVICE = "moncompte"
KEYRING_TIMEOUT = 3.0

T = TypeVar("T")


@dataclass
class Tokens:
    """The stored record; only `access_token` is required (a pasted token has nothing else)."""

    access_token: str
    refresh_token: str | None = None
    expires_at: str | None = None  # ISO 8601, UTC
    api_url: str | None = None
    username: str | None = None
    scope: str | None = None

    def __post_init__(self) -> None:
        register_secret(self.access_token, self.refresh_token)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Tokens:
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise ValueError("no access_token")

        def opt(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and value else None

        return cls(
            access_token=access,
            refresh_token=opt("refresh_token"),
            expires_at=opt("expires_at"),
            api_url=opt("api_url"),
            username=opt("username"),
            scope=opt("scope"),
        )

    def expires_soon(self, now: dt.datetime, margin: float = 30.0) -> bool:
        if not self.expires_at:
            return False
        try:
            expires = dt.datetime.fromisoformat(self.expires_at)
        except ValueError:
            return False
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        return now >= expires - dt.timedelta(seconds=margin)


def expires_at_from(expires_in: object, now: dt.datetime) -> str | None:
    if isinstance(expires_in, int | float) and expires_in > 0:
        return (now + dt.timedelta(seconds=float(expires_in))).isoformat(timespec="seconds")
    return None


class CredentialStore(Protocol):
    kind: str  # keyring | file | env | token-file | sandbox | memory
    writable: bool

    def get(self, profile: str) -> Tokens | None: ...

    def set(self, profile: str, tokens: Tokens) -> None: ...

    def delete(self, profile: str) -> bool: ...

    def describe(self) -> str: ...


# --- keyring ---------------------------------------------------------------------------------

_KEYRING_HINT = N_(
    "unlock the keyring, choose a backend with PYTHON_KEYRING_BACKEND, "
    "or use 'moncompte login --insecure-storage' (0600 file) or MONCOMPTE_TOKEN"
)


def _keyring_hint() -> str:
    return translated(_KEYRING_HINT)


class KeyringStore:
    """The OS keyring, each call bounded by a timeout so a hung backend cannot hang us.

    A call runs in a daemon thread; if it does not finish in time we give up on it and the
    thread is left to die with the process. keyring is imported inside that thread too: the
    first backend lookup scans every plugin and may itself block.
    """

    kind = "keyring"
    writable = True

    def __init__(self, *, timeout: float = KEYRING_TIMEOUT, service: str = SERVICE) -> None:
        self.timeout = timeout
        self.service = service
        self._backend_name: str | None = None

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # re-raised in the caller's thread
                box["error"] = exc

        thread = threading.Thread(target=run, name=f"moncompte-keyring-{what}", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            raise AuthError(
                _("the keyring did not answer within {seconds} s ({operation})").format(
                    seconds=f"{self.timeout:g}", operation=_operation(what)
                ),
                hint=_keyring_hint(),
            )
        if "error" in box:
            raise _translate(box["error"], what) from box["error"]
        value: T = box["value"]
        return value

    def _backend(self) -> Any:
        import keyring
        import keyring.backends.fail
        import keyring.backends.null

        backend = keyring.get_keyring()
        name = str(getattr(backend, "name", type(backend).__name__)).removesuffix(" Keyring")
        self._backend_name = name
        if isinstance(backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring):
            raise _Unusable(_("no usable keyring backend ({name})").format(name=name))
        return backend

    def check(self) -> None:
        """Fail now, with a clear message, if there is no usable keyring."""
        self._call("inspect", self._backend)

    def get(self, profile: str) -> Tokens | None:
        raw = self._call("read", lambda: self._backend().get_password(self.service, profile))
        if raw is None:
            return None
        try:
            return Tokens.from_mapping(json.loads(raw))
        except (ValueError, TypeError, AttributeError):
            raise AuthError(
                _(
                    "the credential stored in the keyring for profile {profile} is unreadable"
                ).format(profile=repr(profile)),
                hint=_("run 'moncompte login' again"),
            ) from None

    def set(self, profile: str, tokens: Tokens) -> None:
        payload = tokens.to_json()
        self._call("write", lambda: self._backend().set_password(self.service, profile, payload))

    def delete(self, profile: str) -> bool:
        def run() -> bool:
            import keyring.errors

            try:
                self._backend().delete_password(self.service, profile)
            except keyring.errors.PasswordDeleteError:
                return False
            return True

        return self._call("delete", run)

    def describe(self) -> str:
        if self._backend_name is None:
            with contextlib.suppress(AuthError):
                self._call("inspect", self._backend)
        if self._backend_name is None:
            return Text(N_("keyring (unavailable)"))
        return Text(N_("keyring ({backend})"), backend=self._backend_name)


class _Unusable(Exception):
    pass


def _translate(exc: BaseException, what: str) -> BaseException:
    """Turn keyring's exceptions into one clear AuthError; let the rest through."""
    if isinstance(exc, _Unusable):
        return AuthError(str(exc), hint=_keyring_hint())
    try:
        import keyring.errors as kerr
    except ImportError:
        return exc
    first_line = (str(exc).splitlines() or [""])[0]
    if isinstance(exc, kerr.NoKeyringError):
        return AuthError(
            _("no usable keyring: {reason}").format(reason=first_line), hint=_keyring_hint()
        )
    if isinstance(exc, kerr.KeyringLocked):
        return AuthError(
            _("the keyring is locked and cannot be unlocked here"), hint=_keyring_hint()
        )
    if isinstance(exc, kerr.InitError):
        return AuthError(
            _("the keyring failed to start: {reason}").format(reason=first_line),
            hint=_keyring_hint(),
        )
    if isinstance(exc, kerr.KeyringError):
        return AuthError(
            _("keyring error during {operation}: {reason}").format(
                operation=_operation(what), reason=first_line
            ),
            hint=_keyring_hint(),
        )
    return exc


def _operation(what: str) -> str:
    """A keyring call ("read", "write", "delete", "inspect") in words."""
    words = {"read": _("read"), "write": _("write"), "delete": _("delete"), "inspect": _("inspect")}
    return words.get(what, what)


# --- plain file (explicitly insecure) ----------------------------------------------------------


class FileStore:
    """A 0600 JSON file per profile, chosen only with `login --insecure-storage`."""

    kind = "file"
    writable = True

    def __init__(self, directory: Path, profile: str = "default") -> None:
        self.directory = directory
        self.profile = profile

    def path(self, profile: str) -> Path:
        return self.directory / f"credentials-{profile}.json"

    def get(self, profile: str) -> Tokens | None:
        path = self.path(profile)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Tokens.from_mapping(data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, AttributeError):
            raise AuthError(
                _("credential file {path} is unreadable").format(path=path),
                hint=_("run 'moncompte login' again"),
            ) from None

    def set(self, profile: str, tokens: Tokens) -> None:
        atomic_write_text(self.path(profile), tokens.to_json() + "\n", mode=0o600)

    def delete(self, profile: str) -> bool:
        try:
            self.path(profile).unlink()
        except FileNotFoundError:
            return False
        return True

    def describe(self) -> str:
        return Text(N_("file {path} (insecure)"), path=str(self.path(self.profile)))


# --- read-only sources ---------------------------------------------------------------------


class _ReadOnly:
    kind = "read-only"
    writable = False

    def set(self, profile: str, tokens: Tokens) -> None:
        raise UsageError(
            _("cannot store a credential in {store} (read-only)").format(
                store=localized(self.describe())
            )
        )

    def delete(self, profile: str) -> bool:
        raise UsageError(
            _("the credential comes from {store}; there is nothing stored to delete").format(
                store=localized(self.describe())
            )
        )

    def describe(self) -> str:  # pragma: no cover - overridden
        return self.kind


class EnvTokenStore(_ReadOnly):
    """`MONCOMPTE_TOKEN`, for CI: never written, never refreshed."""

    kind = "env"
    VAR = "MONCOMPTE_TOKEN"

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._token = environ.get(self.VAR, "").strip()

    def get(self, profile: str) -> Tokens | None:
        return Tokens(access_token=self._token) if self._token else None

    def describe(self) -> str:
        return Text(N_("environment {variable}"), variable=self.VAR)


class TokenFileStore(_ReadOnly):
    """`--token-file PATH`: a file holding only the token (surrounding whitespace ignored)."""

    kind = "token-file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, profile: str) -> Tokens | None:
        try:
            token = self.path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(
                _("cannot read token file {path}: {reason}").format(
                    path=self.path, reason=os_reason(exc)
                )
            ) from None
        if not token:
            raise UsageError(_("token file {path} is empty").format(path=self.path))
        return Tokens(access_token=token)

    def describe(self) -> str:
        return Text(N_("token file {path}"), path=str(self.path))


class SandboxStore(_ReadOnly):
    """The built-in sandbox's demo login, handed over by the sandbox; nothing is stored.

    `mint` gets the token on first use when it was not given (the background sandbox
    asks its server on the command's own connection)."""

    kind = "sandbox"

    def __init__(
        self,
        token: str | None,
        username: str = "demo",
        *,
        mint: Callable[[], str] | None = None,
    ) -> None:
        if token is None and mint is None:
            raise ValueError("a sandbox login needs a token or a way to mint one")
        self.username = username
        self._tokens = Tokens(access_token=token, username=username) if token else None
        self._mint = mint

    def get(self, profile: str) -> Tokens | None:
        if self._tokens is None:
            assert self._mint is not None
            self._tokens = Tokens(access_token=self._mint(), username=self.username)
        return self._tokens

    def describe(self) -> str:
        return Text(N_("sandbox ({username}, no login needed)"), username=self.username)


class MemoryStore:
    """In-memory store: tests, and anything that must not persist."""

    kind = "memory"
    writable = True

    def __init__(self, records: Mapping[str, Tokens] | None = None) -> None:
        self.records: dict[str, Tokens] = dict(records or {})

    def get(self, profile: str) -> Tokens | None:
        return self.records.get(profile)

    def set(self, profile: str, tokens: Tokens) -> None:
        self.records[profile] = tokens

    def delete(self, profile: str) -> bool:
        return self.records.pop(profile, None) is not None

    def describe(self) -> str:
        return "memory"
