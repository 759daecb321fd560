"""Profiles in a small TOML file, read with tomllib and written by a tiny writer.

The file holds one table per profile:

    [profiles.default]
    api_url = "https://api.example"
    output = "table"

Values are flat strings, numbers and booleans, so the writer below is all we need and no
TOML-writing dependency is added.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cli.errors import UsageError
from cli.files import atomic_write_text, cannot_write, os_reason
from cli.i18n import _

Value = str | int | float | bool

FORMATS = ("table", "json", "ndjson", "csv", "tsv", "markdown")
DEFAULT_PROFILE = "default"
CONFIG_NAME = "config.toml"
_PROFILE_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # fullmatch: "$" would allow a "\n"
_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")


def _choice(*allowed: str) -> Callable[[str], Value]:
    def parse(raw: str) -> Value:
        if raw not in allowed:
            raise ValueError(_("expected one of {choices}").format(choices=", ".join(allowed)))
        return raw

    return parse


def _api_url(raw: str) -> Value:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(_("expected an http(s):// URL"))
    return raw.rstrip("/")


def _timeout(raw: str) -> Value:
    above_zero = _("expected a number of seconds above 0")
    try:
        value = float(raw)
    except ValueError:  # Python's own wording ("could not convert string…") is English
        raise ValueError(above_zero) from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(above_zero)
    return int(value) if value.is_integer() else value


def _text(raw: str) -> Value:
    if not raw.strip():
        raise ValueError(_("expected a non-empty value"))
    return raw


@dataclass(frozen=True)
class KeySpec:
    name: str
    help: str
    parse: Callable[[str], Value]


KEYS: dict[str, KeySpec] = {
    spec.name: spec
    for spec in (
        KeySpec("api_url", "base URL of the API (https://, or http:// on loopback)", _api_url),
        KeySpec("output", f"default output format ({', '.join(FORMATS)})", _choice(*FORMATS)),
        KeySpec("timeout", "HTTP timeout in seconds", _timeout),
        KeySpec("username", "username proposed by 'moncompte login'", _text),
        KeySpec("locale", "language of dates and amounts in tables (fr, en)", _choice("fr", "en")),
        KeySpec(
            "credential_store",
            "where the credential is kept (keyring, file)",
            _choice("keyring", "file"),
        ),
    )
}


def check_profile_name(name: str) -> str:
    if not _PROFILE_RE.fullmatch(name):
        raise UsageError(
            _("invalid profile name {name}: use letters, digits, '-' and '_' (64 at most)").format(
                name=repr(name)
            )
        )
    return name


def parse_value(key: str, raw: str) -> Value:
    """Validate a value given on the command line for `key`; exit 2 with why if wrong."""
    spec = KEYS.get(key)
    if spec is None:
        raise unknown_key(key)
    try:
        return spec.parse(raw)
    except ValueError as exc:
        raise UsageError(
            _("invalid value for {key}: {value} ({why})").format(key=key, value=repr(raw), why=exc)
        ) from None


def unknown_key(key: str) -> UsageError:
    return UsageError(
        _("unknown config key {key}").format(key=repr(key)),
        hint=_("valid keys: {keys}").format(keys=", ".join(KEYS)),
    )


def config_dir(environ: Mapping[str, str]) -> Path:
    override = environ.get("MONCOMPTE_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir("moncompte"))


@dataclass
class ConfigFile:
    """The parsed config file; `profiles` maps a profile name to its settings."""

    path: Path
    profiles: dict[str, dict[str, Value]] = field(default_factory=dict)
    other: dict[str, object] = field(default_factory=dict)  # kept as read, never rewritten

    @classmethod
    def load(cls, path: Path) -> ConfigFile:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            raise UsageError(
                _("cannot read config file {path}: {reason}").format(
                    path=path, reason=os_reason(exc)
                )
            ) from None
        import tomllib  # only when there is a file to parse

        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(
                _("config file {path} is not valid TOML ({why}); it was left untouched").format(
                    path=path, why=exc
                ),
                hint=_("fix or remove it"),
            ) from None
        profiles_raw = data.pop("profiles", {})
        if not isinstance(profiles_raw, dict):
            raise _corrupt(path, _("'profiles' must be a table"))
        profiles: dict[str, dict[str, Value]] = {}
        for name, table in profiles_raw.items():
            if not isinstance(table, dict):
                raise _corrupt(path, _("profile {name} must be a table").format(name=repr(name)))
            for key, value in table.items():
                if not isinstance(value, str | int | float | bool):
                    raise _corrupt(
                        path,
                        _("{key} must be a string, number or boolean").format(key=f"{name}.{key}"),
                    )
            profiles[name] = dict(table)
        return cls(path, profiles, data)

    def get(self, profile: str, key: str) -> Value | None:
        return self.profiles.get(profile, {}).get(key)

    def set(self, profile: str, key: str, value: Value) -> None:
        check_profile_name(profile)
        self.profiles.setdefault(profile, {})[key] = value

    def unset(self, profile: str, key: str) -> bool:
        table = self.profiles.get(profile)
        if table is None or key not in table:
            return False
        del table[key]
        return True

    def save(self) -> None:
        if self.other:
            # Only our own tables are written back; refuse rather than drop someone's data.
            raise UsageError(
                _(
                    "config file {path} has tables this version does not know ({tables}); "
                    "not rewriting it"
                ).format(path=self.path, tables=", ".join(self.other))
            )
        try:
            atomic_write_text(self.path, dumps({"profiles": self.profiles}), mode=0o600)
        except OSError as exc:  # a full disk, a read-only or missing directory
            raise cannot_write(self.path, exc) from None


def _corrupt(path: Path, why: str) -> UsageError:
    return UsageError(
        _("config file {path} is not a valid moncompte config: {why}; left untouched").format(
            path=path, why=why
        )
    )


# --- tiny TOML writer --------------------------------------------------------------------


def dumps(data: Mapping[str, Mapping[str, Mapping[str, Value]]]) -> str:
    """Write `{"profiles": {"name": {"key": value}}}` as TOML tables."""
    lines: list[str] = []
    for section, tables in data.items():
        for name, table in tables.items():
            if lines:
                lines.append("")
            lines.append(f"[{_key(section)}.{_key(name)}]")
            for key, value in table.items():
                lines.append(f"{_key(key)} = {_value(value)}")
    return "\n".join(lines) + ("\n" if lines else "")


def _key(key: str) -> str:
    return key if _BARE_KEY_RE.fullmatch(key) else _string(key)


def _value(value: Value) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("TOML config values must be finite")
        return repr(value)
    return _string(value)


_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
