"""What a run needs before the checks start: the config file (checked first; defaults when
it is unusable), the cache emptied on request (--clear-cache) and the API URL (the
built-in sandbox when none is configured).
"""

from __future__ import annotations

from cli.context import Env
from cli.errors import MoncompteError, UsageError, scrub
from domain.diagnose import Finding


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
            "local.config", "fail", exc.message, remedy="fix --profile / MONCOMPTE_PROFILE"
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
        return None, f"cannot start the built-in sandbox: {exc.message}"
    except Exception as exc:
        return None, f"cannot start the built-in sandbox: {type(exc).__name__}: {scrub(str(exc))}"


def empty_cache() -> Finding:
    from commands.diagnose import probes

    path = probes.cache_dir()
    try:
        files, size = probes.clear_cache(path)
    except OSError as exc:
        return Finding(
            "local.cache",
            "fail",
            f"cannot clear the cache {path}: {exc.strerror or exc}",
            remedy=f"remove {path} by hand",
        )
    return probes.cleared_finding(path, files, size)
