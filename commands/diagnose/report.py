"""The support file (`--report FILE.md|FILE.json`): its format from the file name, what it
holds (the findings, the account and the service, no secrets), and writing it.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from cli import __version__
from cli.context import Env
from cli.errors import UsageError, scrub
from cli.i18n import _, localized
from commands.diagnose.runner import Run
from domain.diagnose import Finding, build_report, report_markdown
from domain.i18n import N_, Text

REPORT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".json": "json"}


def report_format(path: Path | None) -> str | None:
    if path is None:
        return None
    fmt = REPORT_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(
            _(
                "--report {path}: the file name must end in .md or .json (the format follows it)"
            ).format(path=path)
        )
    return fmt


def write_report(env: Env, path: Path, fmt: str, report: dict[str, Any]) -> None:
    from cli.files import atomic_write_text

    text = (
        json.dumps(report, indent=2, ensure_ascii=False) + "\n"
        if fmt == "json"
        # Markdown is for people (the user and support): in the user's language. JSON
        # keeps the English sentences, like -o json.
        else report_markdown(report, say=localized)
    )
    try:
        # Scrubbed again as a last guard: the report copies only listed fields already.
        atomic_write_text(path, scrub(text), mode=0o600)
    except OSError as exc:
        raise UsageError(
            _("cannot write the support file {path}: {reason}").format(
                path=path, reason=exc.strerror or exc
            )
        ) from None
    env.out.notice(_("support file written to {path}").format(path=path))


def support_report(run: Run, findings: list[Finding], summary: dict[str, Any]) -> dict[str, Any]:
    from commands.diagnose.probes.network import redact_url

    data = run.account.peek()
    error = run.account.error
    status = run.status.peek()
    service = (data.status if data is not None else None) or (status.body if status else None)
    return build_report(
        findings,
        data,
        service=service,
        generated_at=run.env.now(),
        tool={"name": "moncompte", "version": __version__},
        system={
            "platform": platform.platform(),
            "python": f"{platform.python_implementation()} {platform.python_version()}",
        },
        api_url=redact_url(run.target_url) if run.target_url else None,
        summary=summary,
        account_error=error[1]
        if error
        else (Text(N_("account checks not run")) if data is None else None),
    )
