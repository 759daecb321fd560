"""What a run needs before the checks start: the config file (checked first; defaults when
it is unusable), the cache emptied on request (--clear-cache) and the API URL (the
built-in sandbox when none is configured).
"""

from __future__ import annotations

from cli.context import Env
from cli.errors import MoncompteError, UsageError, scrub
from domain.diagnose import Finding
from domain.i18n import N_, Text


def load_config(env: Env) -> Finding:
    """Check the config file first; if it is unusable, run on defaults (and say so) rather
    than letting every later setting lookup fail on it."""
    from cli.config import CONFIG_NAME, ConfigFile
    from commands.diagnose.probes.local import check_config

    explicit = bool(env.options.profile or env.environ.get("MONCOMPTE_PROFILE"))
    path = env.config_dir / CONFIG_NAME
    try:
        profile = env.profile
    except UsageError as exc:
        return Finding(
            "local.config",
            "fail",
            exc.message,
            remedy=Text(N_("fix --profile / MONCOMPTE_PROFILE")),
        )
    finding, config = check_config(path, profile, explicit)
    if finding.status == "fail":
        # Env has no public way to swap its config; this is the one place that needs it.
        env._config = ConfigFile(path)
    elif config is not None:
        env._config = config
    return finding


def target(env: Env, needs_network: bool) -> tuple[str | None, str | None]:
    """The API URL, starting the built-in sandbox when none is configured (never offline)."""
    try:
        url = env.api_url
    except MoncompteError as exc:
        return None, exc.message
    if url is not None or not needs_network:
        return url, None
    try:
        return env.sandbox().url, None
    except MoncompteError as exc:
        reason = exc.message
    except Exception as exc:
        reason = f"{type(exc).__name__}: {scrub(str(exc))}"
    return None, Text(N_("cannot start the built-in sandbox: {reason}"), reason=reason)


def empty_cache() -> Finding:
    from commands.diagnose import probes

    path = probes.cache_dir()
    try:
        files, size = probes.clear_cache(path)
    except OSError as exc:
        # Our own refusal is a Text (str() would drop its template); the system's is shown
        # as it is.
        ours = exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], Text) else None
        return Finding(
            "local.cache",
            "fail",
            Text(
                N_("cannot clear the cache {path}: {reason}"),
                path=str(path),
                reason=ours or exc.strerror or str(exc),
            ),
            remedy=Text(N_("remove {path} by hand"), path=str(path)),
        )
    return probes.cleared_finding(path, files, size)
