"""A reader that stops early (`moncompte … | head -1`): exit 0, nothing on stderr."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TODAY

BINARY = shutil.which("moncompte", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(BINARY is None, reason="moncompte is not installed in this venv")


@pytest.mark.parametrize("fmt", ["ndjson", "table", "csv"])
def test_closed_pipe_is_a_quiet_success(sandbox: Any, tmp_path: Path, fmt: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONCOMPTE_")}
    env.update(
        MONCOMPTE_API_URL=sandbox.url,
        MONCOMPTE_TOKEN=sandbox.customer_token,
        MONCOMPTE_TODAY=TODAY.isoformat(),
        MONCOMPTE_CONFIG_DIR=str(tmp_path / "config"),
    )
    # The reader closes at once, before anything is written: every write hits the closed
    # pipe, the worst case (with `head -1` it depends on timing).
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = subprocess.run(
        [str(BINARY), "invoices", "-o", fmt],
        stdin=subprocess.DEVNULL,
        stdout=write_end,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        timeout=60,
    )
    os.close(write_end)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
