"""Dynamic completion of contract and invoice IDs, from a local cache only.

`contracts` and `invoices` remember the IDs they display (`remember_ids`); at TAB time
the completion callbacks (`contract_ids`, `invoice_ids`, given to Typer's public
`autocompletion=` parameter) read that cache and nothing else: a completion never makes a
network call, never starts the sandbox, never reads the keyring, so it answers at once
even when the API is down or the machine is offline.

The cache is `ids.json` in the user cache dir (`XDG_CACHE_HOME`, else platformdirs'
`user_cache_dir("moncompte")`), one section per profile and API (`default sandbox`,
`work https://api.example.fr`), so the sandbox's demo IDs are not offered for a real
account. It holds IDs and a short label (an offer, a date and amount): nothing secret, yet
written 0600 through a temporary file and `os.replace`, so a reader never sees half a file.
Writing it is best effort: a read-only cache dir never fails a command.

Nothing here imports httpx, keyring, rich or the server; platformdirs only when the
environment does not name the cache dir.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cli.context import Env

CACHE_APP = "moncompte"
CACHE_NAME = "ids.json"
KINDS = ("contracts", "invoices")
MAX_IDS = 500  # per kind and account: newest first, the oldest forgotten
MAX_ACCOUNTS = 20  # profile/API pairs kept, the least recently written dropped
FORMAT_VERSION = 1

Entry = tuple[str, str]  # (id, label)


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CACHE_HOME/moncompte` when set (on every platform), else platformdirs'."""
    environ = os.environ if environ is None else environ
    xdg = environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / CACHE_APP
    import platformdirs

    return Path(platformdirs.user_cache_dir(CACHE_APP))


def cache_path(environ: Mapping[str, str] | None = None) -> Path:
    return cache_dir(environ) / CACHE_NAME


def account_key(profile: str, api_url: str | None) -> str:
    """The cache section of a profile and API (`None`: the built-in sandbox)."""
    return f"{profile} {api_url or 'sandbox'}"


# --- reading and writing ---------------------------------------------------------------------


def load(path: Path) -> dict[str, dict[str, list[Entry]]]:
    """Every account's entries; an absent, unreadable or foreign file is an empty cache."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        return {}
    accounts = data.get("accounts")
    if not isinstance(accounts, dict):
        return {}
    result: dict[str, dict[str, list[Entry]]] = {}
    for key, kinds in accounts.items():
        if not isinstance(key, str) or not isinstance(kinds, dict):
            continue
        result[key] = {
            kind: _entries(kinds.get(kind)) for kind in KINDS if isinstance(kinds.get(kind), list)
        }
    return result


def _entries(items: Any) -> list[Entry]:
    entries: list[Entry] = []
    for item in items:
        if isinstance(item, list | tuple) and item and isinstance(item[0], str):
            label = item[1] if len(item) > 1 and isinstance(item[1], str) else ""
            entries.append((item[0], label))
    return entries


def merge(old: Sequence[Entry], new: Sequence[Entry], limit: int = MAX_IDS) -> list[Entry]:
    """`new` first (in display order), then the old entries not seen again; at most `limit`."""
    seen: set[str] = set()
    merged: list[Entry] = []
    for entry in (*new, *old):
        if entry[0] in seen:
            continue
        seen.add(entry[0])
        merged.append(entry)
    return merged[:limit]


def save(path: Path, key: str, kind: str, new: Sequence[Entry]) -> None:
    """Add `new` to the cache (atomically). Raises OSError; callers decide to ignore it."""
    accounts = load(path)
    section = accounts.pop(key, {})  # re-inserted last: the most recently written
    section[kind] = merge(section.get(kind, []), new)
    accounts[key] = section
    while len(accounts) > MAX_ACCOUNTS:
        accounts.pop(next(iter(accounts)))
    document = {
        "version": FORMAT_VERSION,
        "accounts": {
            k: {kd: [list(e) for e in entries] for kd, entries in v.items()}
            for k, v in accounts.items()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


# --- what the list commands call ----------------------------------------------------------


def _label(kind: str, row: Mapping[str, Any]) -> str:
    """A short description shown beside the ID by zsh, fish and PowerShell."""
    if kind == "contracts":
        return " ".join(str(row.get(k)) for k in ("kind", "offer") if row.get(k))[:60]
    if kind == "invoices":
        parts = [str(row.get("issue_date") or "")]
        total = row.get("total_cents")
        if isinstance(total, int) and not isinstance(total, bool):
            parts.append(f"{total / 100:.2f} EUR")
        if row.get("status"):
            parts.append(str(row["status"]))
        return " ".join(p for p in parts if p)
    return ""


def remember_ids(env: Env, kind: str, rows: Iterable[Mapping[str, Any]]) -> Iterator[Any]:
    """Pass `rows` through unchanged, and remember their IDs once they have been shown.

    A generator, so streamed output stays streamed; the cache is written when the rows are
    exhausted (or the output stopped early). Never raises because of the cache.
    """
    seen: list[Entry] = []
    try:
        for row in rows:
            if isinstance(row, Mapping):
                value = row.get("id")
                if isinstance(value, str) and value:
                    seen.append((value, _label(kind, row)))
            yield row
    finally:
        if seen:
            with contextlib.suppress(Exception):
                save(cache_path(env.environ), account_key(env.profile, env.api_url), kind, seen)


# --- what the shell's TAB calls ----------------------------------------------------------------


def cached_ids(
    kind: str,
    incomplete: str,
    *,
    profile: str,
    api_url: str | None,
    environ: Mapping[str, str] | None = None,
) -> list[Entry]:
    """The cached IDs of `kind` for an account, starting with `incomplete`."""
    section = load(cache_path(environ)).get(account_key(profile, api_url), {})
    return [e for e in section.get(kind, []) if e[0].startswith(incomplete)]


def _account(ctx: Any) -> tuple[str, str | None, Mapping[str, str]]:
    """The profile, API and environment the command line being completed would use.

    `--profile` and `--api-url` typed before the command count, as they would when it runs
    (the root command parses them while the shell's words are resolved). Only local things
    are read: the environment and the config file.
    """
    from cli.context import Env
    from cli.options import GlobalOptions

    obj = getattr(ctx, "obj", None)
    environ: Mapping[str, str] = obj.environ if isinstance(obj, Env) else os.environ
    root = ctx.find_root() if ctx is not None else None
    typed: dict[str, Any] = dict(getattr(root, "params", None) or {})
    options = GlobalOptions(
        profile=typed.get("profile") if isinstance(typed.get("profile"), str) else None,
        api_url=typed.get("api_url") if isinstance(typed.get("api_url"), str) else None,
    )
    if isinstance(obj, Env):
        options = obj.options.merged(options)
    env = Env(
        environ=environ,
        options=options,
        stdin_isatty=False,
        stdout_isatty=False,
        stderr_isatty=False,
    )
    return env.profile, env.api_url, environ


def _complete(kind: str, ctx: Any, incomplete: str) -> list[Entry]:
    try:
        profile, api_url, environ = _account(ctx)
        return cached_ids(kind, incomplete, profile=profile, api_url=api_url, environ=environ)
    except Exception:  # a completion must never print a traceback into the shell
        return []


def contract_ids(ctx: Any, incomplete: str) -> list[Entry]:
    """`autocompletion=` for a contract ID argument."""
    return _complete("contracts", ctx, incomplete)


def invoice_ids(ctx: Any, incomplete: str) -> list[Entry]:
    """`autocompletion=` for an invoice ID argument."""
    return _complete("invoices", ctx, incomplete)
