"""How the findings are shown: a table (with marks on a terminal), csv/tsv with every
column, json or ndjson; then the summary line.
"""

from __future__ import annotations

import json
from typing import Any

from cli.context import Env
from cli.i18n import _, localized
from cli.output import Column
from domain.diagnose import Finding

MARKS = {"ok": "✓", "warn": "⚠", "fail": "✗", "skip": "-"}


def _table_columns() -> list[Column]:
    return [
        Column("status", ""),
        Column("id", _("check")),
        Column("finding", _("finding")),
        Column("remedy", _("what to do")),
    ]


MACHINE_COLUMNS = [
    Column("id", "id"),
    Column("status", "status"),
    Column("finding", "finding"),
    Column("remedy", "remedy"),
    Column("refs", "refs"),
    Column("checked_at", "checked_at"),
    Column("duration_ms", "duration_ms"),
]


def render(env: Env, findings: list[Finding], summary: dict[str, Any]) -> None:
    fmt = env.output
    rows = [f.to_dict() for f in findings]
    if fmt == "json":
        env.out.json({"checks": rows, "summary": summary})
        return
    if fmt == "ndjson":
        for row in rows:  # one check per line, every field, as -o json has them
            env.out.text(json.dumps(row, ensure_ascii=False))
    elif fmt in ("csv", "tsv"):
        env.out.render(rows, MACHINE_COLUMNS)
    else:
        # A person reads the table: findings and remedies in their language (the rows of
        # json/ndjson/csv keep the English sentences).
        symbols = fmt == "table" and bool(env.stdout_isatty)
        shown = [
            dict(
                r,
                status=MARKS[r["status"]] if symbols else r["status"],
                finding=localized(f.finding),
                remedy=localized(f.remedy) if f.remedy is not None else None,
            )
            for f, r in zip(findings, rows, strict=True)
        ]
        env.out.render(shown, _table_columns())
    env.out.notice(localized(summary["text"]))
