"""Without the `sandbox` extra, the embedded default says how to get it (exit 2)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest


def test_missing_sandbox_extra_is_a_clear_usage_error(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_find_spec = importlib.util.find_spec

    def without_fastapi(name: str, package: str | None = None) -> Any:
        # What an install without the extra looks like to the import system.
        return None if name == "fastapi" else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", without_fastapi)
    result = run_cli(
        "invoices",
        env_vars={
            "MONCOMPTE_TOKEN": None,
            "MONCOMPTE_API_URL": None,
            "MONCOMPTE_SANDBOX_DB": str(tmp_path / "never.db"),
        },
    )
    assert result.exit_code == 2
    assert "pip install 'moncompte[sandbox]'" in result.stderr
    assert "fastapi" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "never.db").exists()
