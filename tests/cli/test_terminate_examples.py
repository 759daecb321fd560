"""domain.md's worked examples of the Chatel fee, through `terminate --quote` on contracts
that match them, and a withdrawal inside its 14 days (the seed has neither)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from server.models import Contract
from server.seed import DEMO_CUSTOMER_ID
from tests.conftest import TODAY

START = date(2026, 1, 15)


def _add_contract(box: Any, contract_id: str, price_cents: int, signed_on: date) -> None:
    engine = create_engine(box.database_url)
    with Session(engine) as session, session.begin():
        session.add(
            Contract(
                id=contract_id,
                customer_id=DEMO_CUSTOMER_ID,
                kind="internet",
                offer="Exemple domain.md",
                status="active",
                monthly_price_cents=price_cents,
                activation_fee_cents=0,
                termination_fee_cents=0,
                signed_on=signed_on,
                withdrawal_start=signed_on,
                first_connection_on=signed_on,
                commitment_months=24,
                commitment_start=signed_on,
            )
        )
    engine.dispose()


@pytest.fixture()
def examples(fresh_sandbox: Any) -> Any:
    _add_contract(fresh_sandbox, "CT-EX-2000", 2000, START)
    _add_contract(fresh_sandbox, "CT-EX-3999", 3999, START)
    return fresh_sandbox


@pytest.mark.parametrize(
    ("contract", "on", "fee_cents"),
    [
        ("CT-EX-2000", "2027-01-14", 6000),  # last day of month 12: 12 × 20 × 25 %
        ("CT-EX-2000", "2027-01-15", 5500),  # month 13 has begun: 11 × 20 × 25 %
        ("CT-EX-2000", "2026-07-14", 18000),  # end of month 6: 6 × 20 + 25 % × 12 × 20
        ("CT-EX-3999", "2026-09-14", 27993),  # end of month 8 at 39.99
        ("CT-EX-2000", "2028-01-15", 0),  # after the commitment
    ],
)
def test_quote_gives_the_worked_examples(
    run_cli: Any, examples: Any, contract: str, on: str, fee_cents: int
) -> None:
    env = {"MONCOMPTE_API_URL": examples.url, "MONCOMPTE_TOKEN": examples.customer_token}
    result = run_cli("terminate", contract, "--quote", "--on", on, "-o", "json", env_vars=env)
    assert result.exit_code == 0, result.stderr
    assert result.json["chatel_fee_cents"] == fee_cents
    assert result.json["total_cents"] == fee_cents  # no provider fee on these contracts
    table = run_cli("terminate", contract, "--quote", "--on", on, env_vars=env)
    assert table.exit_code == 0, table.stderr
    assert f"€{fee_cents // 100:,}.{fee_cents % 100:02d}" in table.stdout


def test_withdrawal_within_14_days(run_cli: Any, fresh_sandbox: Any) -> None:
    _add_contract(fresh_sandbox, "CT-EX-NEW", 2999, TODAY - timedelta(days=3))
    env = {"MONCOMPTE_API_URL": fresh_sandbox.url, "MONCOMPTE_TOKEN": fresh_sandbox.customer_token}
    result = run_cli("terminate", "CT-EX-NEW", "--withdraw", "--yes", env_vars=env)
    assert result.exit_code == 0, result.stderr
    engine = create_engine(fresh_sandbox.database_url)
    with Session(engine) as session:
        contract = session.scalars(select(Contract).where(Contract.id == "CT-EX-NEW")).one()
        assert contract.status == "withdrawn"
        assert contract.withdrawn_on == TODAY
    engine.dispose()
    again = run_cli("terminate", "CT-EX-NEW", "--withdraw", "--yes", env_vars=env)
    assert again.exit_code == 5, again.stderr
