"""The pure parts of `status` and `calendar`: projected bills, instalments, deadlines,
claim steps, and event UIDs that survive a change of date."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.agenda import events
from domain.calendar import debit_date, invoice_date
from domain.diagnose import AccountData
from domain.overview import build_overview
from domain.upcoming import claim_step, equipment_returns, monthly_bills, open_withdrawal

INTERNET: dict[str, Any] = {
    "id": "CT-1",
    "kind": "internet",
    "status": "active",
    "monthly_price_cents": 2000,
    "options": [
        {"price_cents": 300, "validated": True},
        {"price_cents": 999, "validated": False},
    ],
}


def test_projected_bills_follow_the_business_day_rule() -> None:
    # 5 April 2026 is a Sunday and 6 April Easter Monday: the debit moves to the 7th.
    bills = list(monthly_bills(INTERNET, [], date(2026, 3, 20), date(2026, 4, 30)))
    assert [b.month for b in bills] == ["2026-04"]
    (april,) = bills
    assert april.debit_on == date(2026, 4, 7) == debit_date(2026, 4)
    assert april.invoice_on == invoice_date(2026, 4)
    assert april.estimated and april.amount_cents == 2300  # validated options only


def test_an_issued_invoice_gives_its_own_dates_and_amount() -> None:
    invoice = {
        "id": "INV-9",
        "contract_id": "CT-1",
        "issue_date": "2026-04-02",
        "debit_date": "2026-04-08",
        "total_cents": 4567,
        "status": "unpaid",
    }
    (april,) = monthly_bills(INTERNET, [invoice], date(2026, 4, 3), date(2026, 4, 30))
    assert (april.invoice_id, april.debit_on, april.amount_cents) == (
        "INV-9",
        date(2026, 4, 8),
        4567,
    )
    assert not april.estimated


def test_no_bills_for_ended_or_non_internet_contracts() -> None:
    for other in ({**INTERNET, "status": "terminated"}, {**INTERNET, "kind": "partwork"}):
        assert list(monthly_bills(other, [], date(2026, 1, 1), date(2026, 12, 31))) == []


def test_equipment_return_30_days_or_40_after_an_exchange() -> None:
    contract = {
        "id": "CT-2",
        "status": "terminated",
        "terminated_on": "2026-11-14",
        "equipment": [
            {"kind": "box", "serial": "B", "exchanged": True, "returned_on": None},
            {"kind": "antenna", "serial": "A", "exchanged": False, "returned_on": None},
            {"kind": "cable", "serial": "C", "exchanged": False, "returned_on": "2026-11-20"},
        ],
    }
    got = {r.serial: r.deadline for r in equipment_returns(contract)}
    assert got == {"A": date(2026, 12, 14), "B": date(2026, 12, 24)}
    assert equipment_returns({**contract, "status": "active"}) == []


def test_withdrawal_open_until_its_deadline_included() -> None:
    contract = {"status": "active", "withdrawal_deadline": "2026-11-06"}
    assert open_withdrawal(contract, date(2026, 11, 6)) == date(2026, 11, 6)
    assert open_withdrawal(contract, date(2026, 11, 7)) is None
    assert open_withdrawal({**contract, "status": "withdrawn"}, date(2026, 11, 1)) is None


def test_claim_steps_and_the_mediator_dates() -> None:
    claim = {"id": "CL-1", "status": "open", "created_on": "2026-01-10", "last_answer_on": None}
    early = claim_step(claim, date(2026, 3, 9))
    assert early is not None and early.step == "wait_answer" and not early.mediator_possible
    assert early.mediator_possible_on == date(2026, 3, 10)
    assert early.mediator_last_day == date(2027, 1, 9)
    now = claim_step(claim, date(2026, 3, 10))
    assert now is not None and now.step == "escalate" and now.mediator_possible
    late = claim_step(claim, date(2027, 1, 10))
    assert late is not None and late.step == "too_late" and not late.mediator_possible
    answered = claim_step(
        {**claim, "status": "answered", "last_answer_on": "2026-01-20"}, date(2026, 1, 21)
    )
    assert answered is not None and answered.step == "reply_or_escalate"
    assert answered.mediator_possible_on == date(2026, 1, 20)
    assert claim_step({**claim, "status": "closed"}, date(2026, 3, 10)) is None


def _plan(due: str, rescheduled: int) -> dict[str, Any]:
    return {
        "contract_id": "CT-3",
        "instalments": [
            {
                "number": 2,
                "due_date": due,
                "debit_date": due,
                "amount_cents": 100,
                "status": "rescheduled" if rescheduled else "due",
                "rescheduled_count": rescheduled,
            },
        ],
        "next_debit": {"number": 2, "due_date": due, "debit_date": due},
    }


def test_a_rescheduled_instalment_keeps_its_uid_and_bumps_its_sequence() -> None:
    today, end = date(2026, 11, 24), date(2027, 2, 24)
    me = {"customer": {"id": "C1"}}
    before = events(AccountData(me=me, schedules={"CT-3": _plan("2026-12-19", 0)}), today, end)
    after = events(AccountData(me=me, schedules={"CT-3": _plan("2027-01-15", 1)}), today, end)
    assert [e.uid for e in before] == [e.uid for e in after] == ["instalment-CT-3-2@moncompte"]
    assert (before[0].day, before[0].sequence) == (date(2026, 12, 19), 0)
    assert (after[0].day, after[0].sequence) == (date(2027, 1, 15), 1)


def test_overview_of_an_empty_account_has_every_key() -> None:
    overview = build_overview(AccountData(me={"customer": {"id": "C1"}}), [], date(2026, 1, 1))
    assert overview["contracts"] == [] and overview["next_debit"] is None
    assert overview["unpaid_cents"] == 0 and overview["customer_id"] == "C1"
