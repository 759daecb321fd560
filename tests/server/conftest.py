"""Fixtures of the server-side tests: seeded databases at fixed dates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from server.db import make_engine
from server.seed import seed_all

# The project's fixed clock, and a second date to show the anomalies stay true when the
# data is seeded on another day (a month start, after a year change, past a holiday).
TODAY = date(2026, 11, 24)
DATES = (TODAY, date(2027, 3, 1), date(2026, 5, 2), date(2027, 1, 4))


def seeded_engine(path: Path, today: date, customers: int = 0) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    seed_all(engine, today, customers)
    return engine


@pytest.fixture(params=DATES, ids=[d.isoformat() for d in DATES])
def demo_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Session, date]]:
    """A session on the demo data seeded at one of `DATES`, and that date."""
    today: date = request.param
    engine = seeded_engine(tmp_path / "demo.db", today)
    with Session(engine) as session:
        yield session, today
    engine.dispose()
