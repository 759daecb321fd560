"""`Env`: everything a command may touch, built once per invocation.

Streams, terminal facts, colour, the resolved profile and settings, the clock, and lazy
factories for the HTTP client and the credential store. Commands never look at sys.*,
os.environ, the keyring or httpx directly; tests build an `Env` with fake streams.

Precedence of settings: command-line flags > environment > profile > defaults.
Nothing here imports typer, httpx, keyring or rich at module level: `--help` and
`--version` must stay fast.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from cli.config import (
    CONFIG_NAME,
    DEFAULT_PROFILE,
    FORMATS,
    ConfigFile,
    Value,
    check_profile_name,
    config_dir,
)
from cli.errors import OutputClosed, UsageError, register_secret, scrub
from cli.i18n import N_, _, translated
from cli.options import GlobalOptions

if TYPE_CHECKING:
    from cli.credentials import CredentialStore
    from cli.http import ApiClient
    from cli.output import Renderer
    from cli.sandbox import Sandbox

DEFAULT_TIMEOUT = 15.0
# A day: far beyond any useful wait, and far below what a socket accepts (about 2**63 ns).
MAX_TIMEOUT_S = 86_400
SANDBOX_NOTICE = N_("sandbox: demo data — moncompte login to use a real account")


def source_label(source: str) -> str:
    """Where a setting comes from (`Env.setting`'s "flag", "env VAR", "profile NAME",
    "LANG", "default"), in the user's language: json and csv keep the machine value."""
    kind, _space, name = source.partition(" ")
    if kind == "flag":
        return _("flag")
    if kind == "default":
        return _("default")
    if kind == "env":
        return _("environment {variable}").format(variable=name)
    if kind == "profile":
        return _("profile {profile}").format(profile=name)
    return source


# Answers taken as yes at a confirmation, in English and in French.
YES_ANSWERS = frozenset({"y", "yes", "o", "oui"})


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class PipeGuard:
    """stdout, where a reader that went away (`| head`) becomes `OutputClosed` (exit 0).

    Click turns a BrokenPipeError into a bare exit 1; raised as our own error instead, it
    reaches the one place that maps errors to exit codes. `.buffer` (PDF bytes) is guarded
    the same way.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, data: Any) -> Any:
        try:
            return self._stream.write(data)
        except BrokenPipeError:
            raise OutputClosed("stdout closed") from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise OutputClosed("stdout closed") from None

    @property
    def buffer(self) -> Any:
        inner = getattr(self._stream, "buffer", None)
        return None if inner is None else PipeGuard(inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@dataclass
class Env:
    """One invocation's world. Build with `Env()` for the real process, or give streams."""

    stdin: IO[str] = field(default_factory=lambda: sys.stdin)
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    options: GlobalOptions = field(default_factory=GlobalOptions)
    # None: ask the stream (done here, at construction, never at import time).
    stdin_isatty: bool | None = None
    stdout_isatty: bool | None = None
    stderr_isatty: bool | None = None

    def __post_init__(self) -> None:
        self.stdout = cast(IO[str], PipeGuard(self.stdout))
        if self.stdin_isatty is None:
            self.stdin_isatty = _isatty(self.stdin)
        if self.stdout_isatty is None:
            self.stdout_isatty = _isatty(self.stdout)
        if self.stderr_isatty is None:
            self.stderr_isatty = _isatty(self.stderr)
        self._config: ConfigFile | None = None
        self._out: Renderer | None = None
        self._api: ApiClient | None = None
        self._store: CredentialStore | None = None
        self._sandbox: Sandbox | None = None

    @staticmethod
    def of(ctx: Any) -> Env:
        """The Env of a Typer context (`ctx.obj`), or one for the real process."""
        obj = getattr(ctx, "obj", None)
        if isinstance(obj, Env):
            return obj
        env = Env()
        if ctx is not None:
            ctx.obj = env
        return env

    # -- terminal facts -----------------------------------------------------------------

    @property
    def can_prompt(self) -> bool:
        """Prompts read stdin and are written on stderr: both must be a terminal."""
        return bool(self.stdin_isatty and self.stderr_isatty)

    @property
    def color(self) -> bool:
        if self.options.no_color or self.environ.get("NO_COLOR"):
            return False
        if self.environ.get("TERM") == "dumb":
            return False
        return bool(self.stdout_isatty)

    @property
    def verbose(self) -> bool:
        return self.options.verbose

    @property
    def quiet(self) -> bool:
        return self.options.quiet and not self.options.verbose

    # -- configuration ------------------------------------------------------------------

    @property
    def profile(self) -> str:
        name = self.options.profile or self.environ.get("MONCOMPTE_PROFILE") or DEFAULT_PROFILE
        return check_profile_name(name)

    @property
    def config_dir(self) -> Path:
        return config_dir(self.environ)

    @property
    def config(self) -> ConfigFile:
        """The config file, read on first use (a corrupt file is an error only then)."""
        if self._config is None:
            self._config = ConfigFile.load(self.config_dir / CONFIG_NAME)
        return self._config

    def setting(self, key: str) -> tuple[Value | None, str]:
        """The effective value of a config key and where it came from."""
        flags: dict[str, Value | None] = {
            "api_url": self.options.api_url,
            "output": self.options.output,
            "timeout": self.options.timeout,
        }
        flag = flags.get(key)
        if flag is not None:
            return flag, "flag"
        env_var = {"api_url": "MONCOMPTE_API_URL"}.get(key)
        if env_var and self.environ.get(env_var):
            return self.environ[env_var], f"env {env_var}"
        value = self.config.get(self.profile, key)
        if value is not None:
            return value, f"profile {self.profile}"
        if key == "locale":
            return self._ambient_locale(), "LANG"
        defaults: dict[str, Value] = {"output": "table", "timeout": DEFAULT_TIMEOUT}
        default = defaults.get(key)
        return default, "default"

    @property
    def api_url(self) -> str | None:
        """None means: no server configured, use the built-in sandbox."""
        value, _ = self.setting("api_url")
        return str(value).rstrip("/") if value else None

    @property
    def sandbox_mode(self) -> bool:
        return self.api_url is None

    @property
    def output(self) -> str:
        value, source = self.setting("output")
        if value not in FORMATS:
            raise UsageError(
                _("invalid output format {value} ({source})").format(
                    value=repr(value), source=source_label(source)
                )
            )
        return str(value)

    @property
    def timeout(self) -> float:
        value, source = self.setting("timeout")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value <= MAX_TIMEOUT_S
        ):
            raise UsageError(
                _(
                    "invalid timeout {value} ({source}): expected seconds above 0, at most {max}"
                ).format(value=repr(value), source=source_label(source), max=MAX_TIMEOUT_S)
            )
        return float(value)

    @property
    def locale(self) -> str:
        """ "fr" or "en". A profile's explicit `locale` beats the ambient LANG, which is a
        machine default rather than a choice made for this tool."""
        value, _ = self.setting("locale")
        return "fr" if str(value).lower().startswith("fr") else "en"

    def _ambient_locale(self) -> str:
        for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
            value = self.environ.get(var)
            if value:
                return "fr" if value.lower().startswith("fr") else "en"
        return "en"

    # -- clock ----------------------------------------------------------------------------

    def today(self) -> dt.date:
        fixed = self.environ.get("MONCOMPTE_TODAY")
        if fixed:
            try:
                return dt.date.fromisoformat(fixed)
            except ValueError:
                raise UsageError(
                    _("MONCOMPTE_TODAY={value} is not a YYYY-MM-DD date").format(value=repr(fixed))
                ) from None
        return dt.date.today()

    def now(self) -> dt.datetime:
        """Aware UTC now; on the fixed day when MONCOMPTE_TODAY is set."""
        current = dt.datetime.now(dt.UTC)
        if self.environ.get("MONCOMPTE_TODAY"):
            return dt.datetime.combine(self.today(), current.timetz())
        return current

    # -- output ---------------------------------------------------------------------------

    @property
    def out(self) -> Renderer:
        if self._out is None:
            from cli.output import Renderer

            self._out = Renderer(
                self.stdout,
                self.stderr,
                fmt=self.output,
                isatty=bool(self.stdout_isatty),
                color=self.color,
                locale=self.locale,
                quiet=self.quiet,
                columns=self.options.columns,
            )
        return self._out

    def debug(self, message: str) -> None:
        """`-v` diagnostics on stderr, scrubbed of secrets."""
        if self.verbose:
            self.stderr.write(f"debug: {scrub(message)}\n")
            self.stderr.flush()

    # -- input ----------------------------------------------------------------------------

    def prompt(self, text: str, *, secret: bool = False, flag: str = "") -> str:
        """Ask on the terminal; without one, fail with exit 2 naming the flag that answers."""
        if not self.can_prompt:
            what = text.rstrip(": ").lower()
            raise UsageError(
                _("cannot ask for {what} without a terminal").format(what=what),
                hint=_("give {flag}").format(flag=flag) if flag else None,
            )
        if secret and self.stdin is sys.stdin:
            import getpass

            answer = getpass.getpass(text, stream=self.stderr)  # type: ignore[arg-type]
        else:
            self.stderr.write(text)
            self.stderr.flush()
            line = self.stdin.readline()
            if not line:
                raise EOFError
            answer = line.rstrip("\r\n")
        if secret:
            register_secret(answer)
        return answer

    def confirm(self, question: str, *, flag: str = "--yes") -> bool:
        """A yes/no question on the terminal: yes/y/oui/o is yes; anything else, or the end
        of input (Ctrl-D), is no. Without a terminal, exit 2 naming `flag`."""
        try:
            answer = self.prompt(question, flag=flag)
        except EOFError:
            return False
        return answer.strip().lower() in YES_ANSWERS

    def read_stdin(self) -> str:
        """All of stdin, only when a flag said to read it (`--password-stdin`, `-`)."""
        return self.stdin.read()

    # -- lazy services ------------------------------------------------------------------

    def sandbox(self) -> Sandbox:
        """The built-in sandbox server (started if need be), with its one notice."""
        if self._sandbox is None:
            from cli.sandbox import connect

            self._sandbox = connect(self)
            self.out.notice(translated(SANDBOX_NOTICE))

        return self._sandbox

    def credentials(self, kind: str | None = None) -> CredentialStore:
        """The credential store for this run, or a specific one (`"keyring"`, `"file"`).

        Without `kind`: --token-file, then MONCOMPTE_TOKEN, then the sandbox's demo login,
        then the store the profile remembers (keyring unless `credential_store = "file"`).
        keyring is not even imported when the token comes from the first two.
        """
        from cli import credentials as c

        if kind == "keyring":
            return c.KeyringStore(timeout=self._keyring_timeout())
        if kind == "file":
            return c.FileStore(self.config_dir, self.profile)
        if kind is not None:
            raise ValueError(f"unknown credential store {kind!r}")
        if self._store is None:
            if self.options.token_file:
                self._store = c.TokenFileStore(Path(os.path.expanduser(self.options.token_file)))
            elif self.environ.get(c.EnvTokenStore.VAR, "").strip():
                self._store = c.EnvTokenStore(self.environ)
            elif self.sandbox_mode:
                self._store = self.sandbox().store
            else:
                remembered = self.config.get(self.profile, "credential_store")
                self._store = self.credentials("file" if remembered == "file" else "keyring")
        return self._store

    def _keyring_timeout(self) -> float:
        raw = self.environ.get("MONCOMPTE_KEYRING_TIMEOUT")
        try:
            return float(raw) if raw else 3.0
        except ValueError:
            return 3.0

    def api(self) -> ApiClient:
        """The HTTP client for this run (one connection pool), built on first use."""
        if self._api is None:
            from cli.http import ApiClient

            base = self.api_url
            sandbox = self.sandbox() if base is None else None
            if sandbox is not None:
                base = sandbox.url
            assert base is not None
            self._api = ApiClient(
                base,
                store=self.credentials(),
                profile=self.profile,
                timeout=self.timeout,
                log=self.debug if self.verbose else None,
                headers=sandbox.headers if sandbox else None,
                trust_env=not (sandbox and sandbox.private),
                lost=sandbox.lost if sandbox else None,
                language=self.locale,
            )
        return self._api

    def close(self) -> None:
        """Release the connection pool and stop an in-process sandbox server, if any
        (a background one stays for the next command)."""
        if self._api is not None:
            self._api.close()
            self._api = None
        if self._sandbox is not None:
            self._sandbox.stop()
            self._sandbox = None
