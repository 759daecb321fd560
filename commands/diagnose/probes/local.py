"""The local checks, no network: the cache (local.cache, and emptying it), the config file
(local.config) and the stored credential (local.credentials).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.diagnose import CMD_LOGIN, Finding, evaluate_cache, human_bytes
from domain.diagnose.findings import minute, semicolons
from domain.i18n import N_, Text, ngettext

if TYPE_CHECKING:
    from cli.config import ConfigFile
    from cli.context import Env

CACHE_APP = "moncompte"


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
        raise OSError(
            Text(N_("{path} is not a moncompte cache directory; not clearing it"), path=str(path))
        )
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
        # English says "files" even for one (the JSON's sentence is kept as it was).
        Text(
            N_("cache {path} cleared: {files} ({size}) removed"),
            path=str(path),
            files=ngettext("{n} files", "{n} files", files),
            size=human_bytes(size),
        ),
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
                remedy=Text(
                    N_("fix or remove {path} (moncompte config set recreates it)"), path=str(path)
                ),
                refs=(),
            ),
            None,
        )
    if not path.exists():
        return (
            Finding(
                "local.config",
                "ok",
                Text(N_("no config file ({path}): defaults apply"), path=str(path)),
            ),
            config,
        )
    problems: list[Text] = []
    invalid: list[Text] = []
    for name, table in config.profiles.items():
        for key, value in table.items():
            spec = KEYS.get(key)
            if spec is None:
                problems.append(Text(N_("unknown key {key}"), key=f"{name}.{key}"))
                continue
            try:
                spec.parse(str(value).lower() if isinstance(value, bool) else str(value))
            except ValueError as exc:
                # The parser's reason is the config module's message, shown as it is.
                reason = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
                invalid.append(
                    Text(
                        N_("{setting} = {value}: {reason}"),
                        setting=f"{name}.{key}",
                        value=repr(value),
                        reason=reason,
                    )
                )
    if config.other:
        problems.append(Text(N_("unknown tables {tables}"), tables=", ".join(sorted(config.other))))
    if explicit_profile and profile not in config.profiles:
        problems.append(
            Text(N_("profile {profile} is not in the file (defaults apply)"), profile=repr(profile))
        )
    mode = path.stat().st_mode
    if mode & stat.S_IWOTH:
        problems.append(
            Text(N_("writable by anyone (mode {mode})"), mode=f"{stat.S_IMODE(mode):o}")
        )
    head = Text(
        N_("{path}: {n} profile(s), using {profile}"),
        path=str(path),
        n=len(config.profiles),
        profile=repr(profile),
    )
    if invalid:
        return (
            Finding(
                "local.config",
                "fail",
                semicolons([head, Text(N_("invalid {setting}"), setting=semicolons(invalid))]),
                remedy=Text(N_("fix it with moncompte config set KEY VALUE")),
            ),
            config,
        )
    if problems:
        return (
            Finding(
                "local.config",
                "warn",
                semicolons([head, *problems]),
                remedy=Text(N_("check {path} (moncompte config list)"), path=str(path)),
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
            Text(N_("built-in sandbox: the demo login is minted locally, nothing is stored")),
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
            Text(
                N_("not logged in (profile {profile}, {where})"),
                profile=repr(env.profile),
                where=where,
            ),
            remedy=Text(N_("{command}, or set MONCOMPTE_TOKEN"), command=CMD_LOGIN),
        )
    details: dict[str, Any] = {"store": store.kind, "where": where, "expires_at": tokens.expires_at}
    if tokens.api_url and base_url and tokens.api_url.rstrip("/") != base_url.rstrip("/"):
        return Finding(
            "local.credentials",
            "fail",
            Text(
                N_("the credential in {where} is for {url}, not {base_url}"),
                where=where,
                url=tokens.api_url,
                base_url=base_url,
            ),
            remedy=f"{CMD_LOGIN} --api-url {base_url}",
            details=details,
        )
    file_warning = _file_store_mode(store, env.profile)
    expires = _parse_expiry(tokens.expires_at)
    text: Text
    if expires is None:
        text = Text(N_("token from {where} (no expiry recorded)"), where=where)
    elif expires <= now:
        if not tokens.refresh_token:
            return Finding(
                "local.credentials",
                "fail",
                Text(
                    N_("the token in {where} expired on {moment}"),
                    where=where,
                    moment=minute(expires),
                ),
                remedy=CMD_LOGIN,
                details=details,
            )
        text = Text(
            N_(
                "token in {where} expired on {moment}; it is renewed with the refresh token "
                "at the next request"
            ),
            where=where,
            moment=minute(expires),
        )
    elif expires - now < dt.timedelta(days=1) and not tokens.refresh_token:
        return Finding(
            "local.credentials",
            "warn",
            Text(
                N_("the token in {where} expires on {moment} and cannot be renewed"),
                where=where,
                moment=minute(expires),
            ),
            remedy=CMD_LOGIN,
            details=details,
        )
    else:
        text = Text(
            N_("token in {where}, valid until {moment}"), where=where, moment=minute(expires)
        )
    if file_warning:
        problem, path = file_warning
        return Finding(
            "local.credentials",
            "warn",
            semicolons([text, problem]),
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


def _file_store_mode(store: Any, profile: str) -> tuple[Text, Path] | None:
    """The plaintext credential file must stay private (0600): (problem, path) if not."""
    if getattr(store, "kind", None) != "file":
        return None
    try:
        path = Path(store.path(profile))
        mode = stat.S_IMODE(path.stat().st_mode)
    except (OSError, AttributeError):
        return None
    if mode & 0o077:
        return Text(
            N_("the credential file is readable by others (mode {mode})"), mode=f"{mode:o}"
        ), path
    return None
