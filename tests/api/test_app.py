"""The app factories: `create_app` clock and `app_from_env` for `uvicorn --factory`."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.api.conftest import serve


def test_app_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from server.app import app_from_env

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("MONCOMPTE_SANDBOX_DB", str(tmp_path / "env.db"))
    monkeypatch.setenv("MONCOMPTE_SANDBOX_TODAY", "2027-03-01")
    app = app_from_env()
    assert app.state.clock.today() == date(2027, 3, 1)
    with serve(app) as url:
        # A bare schema (not seeded): the status still answers, with defaults.
        status = httpx.get(f"{url}/v1/status")
        assert status.status_code == 200
        assert status.json()["status"] == "ok"
    app.state.engine.dispose()


def test_app_from_env_bad_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from server.app import app_from_env

    monkeypatch.setenv("MONCOMPTE_SANDBOX_DB", str(tmp_path / "env.db"))
    monkeypatch.setenv("MONCOMPTE_SANDBOX_TODAY", "01/03/2027")
    with pytest.raises(SystemExit, match="YYYY-MM-DD"):
        app_from_env()


def test_real_clock_is_paris() -> None:
    from server.app import create_app

    app = create_app("sqlite://")
    assert app.state.clock.today() in {
        datetime.now(ZoneInfo("Europe/Paris")).date(),
        datetime.now(ZoneInfo("UTC")).date(),  # around midnight the two may differ briefly
    }
