#!/usr/bin/env python3
"""Terminal screenshots (SVG) of real runs on the built-in sandbox, for the README.

    python scripts/screenshots.py            # writes docs/img/*.svg

Each command runs in-process (`cli.app.main`) as it would on a colour terminal: stdout
claims to be a TTY, so the renderer draws its Rich tables with colour. The ANSI output is
then replayed into a recording Rich console and exported as SVG. The sandbox is a fresh
SQLite file seeded for a fixed day (MONCOMPTE_TODAY), so the pictures change only when the
output does. Needs the sandbox extra (`pip install -e '.[sandbox]'`).
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUT = ROOT / "docs" / "img"
TODAY = "2026-11-24"
WIDTH = 120

# (file name, command line)
SHOTS: list[tuple[str, list[str]]] = [
    ("invoices", ["invoices"]),
    ("contracts", ["contracts"]),
    ("schedule", ["schedule", "CT-0000003"]),
    ("invoice-explain", ["invoices", "show", "INV-000000006", "--explain"]),
    ("diagnose", ["diagnose", "--account-only"]),
]


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def capture(args: list[str], environ: dict[str, str]) -> tuple[int, str]:
    from cli.app import main
    from cli.context import Env

    out, err = Terminal(), Terminal()
    env = Env(stdin=Terminal(), stdout=out, stderr=err, environ=environ)
    code = main(args, env)
    return code, out.getvalue()


def to_svg(command: list[str], ansi: str) -> str:
    from rich.console import Console
    from rich.text import Text

    prompt = Text("$ moncompte " + " ".join(command), style="bold green")
    body = Text.from_ansi(ansi.rstrip("\n"))
    # As wide as the widest line the CLI drew: the picture must not wrap it again.
    width = max([prompt.cell_len, *(line.cell_len for line in body.split("\n"))])
    console = Console(
        record=True, width=width, file=io.StringIO(), force_terminal=True, color_system="truecolor"
    )
    console.print(prompt, soft_wrap=True)
    console.print(body, soft_wrap=True)
    return console.export_svg(title="moncompte " + " ".join(command))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="moncompte-shots-") as tmp:
        base = Path(tmp)
        environ = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(base / "home"),
            "LANG": "en_GB.UTF-8",
            "TERM": "xterm-256color",
            "COLUMNS": str(WIDTH),
            "MONCOMPTE_TODAY": TODAY,
            "MONCOMPTE_CONFIG_DIR": str(base / "config"),
            "MONCOMPTE_SANDBOX_DB": str(base / "sandbox.db"),
            "MONCOMPTE_LOG_DIR": str(base / "log"),
            "XDG_CACHE_HOME": str(base / "cache"),
            "XDG_DATA_HOME": str(base / "data"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
        # Rich reads the width from the process environment; platformdirs too.
        os.environ.update(
            COLUMNS=str(WIDTH), TERM=environ["TERM"], XDG_DATA_HOME=environ["XDG_DATA_HOME"]
        )
        for var in ("MONCOMPTE_API_URL", "MONCOMPTE_TOKEN", "MONCOMPTE_PROFILE", "NO_COLOR"):
            os.environ.pop(var, None)
        OUT.mkdir(parents=True, exist_ok=True)
        for name, command in SHOTS:
            code, ansi = capture(command, environ)
            if code not in (0, 8):  # diagnose finds problems in the demo account: 8
                print(f"{name}: exit {code}", file=sys.stderr)
                return 1
            path = OUT / f"{name}.svg"
            path.write_text(to_svg(command, ansi), encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
