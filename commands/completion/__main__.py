"""`python -m commands.completion completions`: regenerate the committed completion scripts
(and the copies the wheel ships, `cli/data/completions/`)."""

from __future__ import annotations

import sys
from pathlib import Path

from commands.completion.scripts import write_all

# The copies shipped in the wheel (package data), beside the man page.
SHIPPED = Path(__file__).resolve().parent.parent.parent / "cli" / "data" / "completions"

if __name__ == "__main__":  # python -m commands.completion completions
    targets = [Path(a) for a in sys.argv[1:]] or [Path("completions")]
    if Path("completions") in targets and SHIPPED.parent.is_dir():
        targets.append(SHIPPED)
    for directory in targets:
        directory.mkdir(parents=True, exist_ok=True)
        for p in write_all(directory):
            print(p)
