"""The demo account plants every anomaly `diagnose` and the rules need; the clean one none.

Each test queries the database directly (not the API) at several seeding dates, so a
planted anomaly that stops being true on some day of the year fails here first.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.calendar import add_months, debit_date, debit_moved_reason, invoice_date
from domain.claims import mediator_from, mediator_until, outage_hours
from domain.commitment import commitment_end, month_index
from domain.iban import validate_iban
from domain.reschedule import InstalmentState, check_reschedule
from domain.rules import RuleRefusal
from server.models import (
    Claim,
    Contract,
    Customer,
    Equipment,
    Instalment,
    Invoice,
    MaintenanceWindow,
    Outage,
    PaymentMethod,
    ServiceSetting,
    Shipment,
    User,
)
from server.passwords import verify_password
from server.seed import (
    AGENT_OTP_SECRET,
    CLEAN_CUSTOMER_ID,
    DEMO_CUSTOMER_ID,
    DEMO_PASSWORDS,
    DEMO_REFS,
    SETTING_KEYS,
    demo_refs,
)

DemoDb = tuple[Session, date]


def _contract(session: Session, key: str) -> Contract:
    contract = session.get(Contract, DEMO_REFS[key])
    assert contract is not None, key
    return contract


def _invoices(session: Session, customer_id: str) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice).where(Invoice.customer_id == customer_id).order_by(Invoice.id)
        )
    )


def _state(inst: Instalment) -> InstalmentState:
    return InstalmentState(
        inst.number, inst.status, inst.due_date, inst.original_due_date, inst.rescheduled_count
    )


def test_every_demo_reference_exists(demo_db: DemoDb) -> None:
    session, today = demo_db
    refs = demo_refs(today)
    for key in (
        "internet_contract",
        "partwork_contract",
        "instalment_contract",
        "terminated_contract",
        "clean_internet_contract",
        "clean_instalment_contract",
    ):
        assert session.get(Contract, refs[key]) is not None, key
    for key in (
        "first_invoice",
        "out_of_plan_invoice",
        "debit_mismatch_invoice",
        "unpaid_invoice",
        "latest_invoice",
        "moved_debit_invoice",
    ):
        invoice = session.get(Invoice, refs[key])
        assert invoice is not None and invoice.contract_id == refs["internet_contract"], key
    for key in ("already_due_instalment", "failed_instalment", "reschedulable_instalment"):
        contract_id, number = refs[key]
        found = session.scalars(
            select(Instalment).where(
                Instalment.contract_id == contract_id, Instalment.number == number
            )
        ).one()
        assert found is not None
    for key in ("old_claim", "answered_claim"):
        assert session.get(Claim, refs[key]) is not None, key


def test_service_settings_and_maintenance(demo_db: DemoDb) -> None:
    session, today = demo_db
    settings = {row.key: row.value for row in session.scalars(select(ServiceSetting))}
    assert set(SETTING_KEYS) <= set(settings)
    assert settings["support_phone"] == "09 70 247 247"
    assert settings["mediator_name"] == "Médiateur des communications électroniques"
    assert settings["seeded_on"] == today.isoformat()
    windows = session.scalars(select(MaintenanceWindow)).all()
    assert len(windows) == 1
    start = windows[0].start.date()
    assert today < start <= today + timedelta(days=7)


def test_internet_contract_mid_commitment(demo_db: DemoDb) -> None:
    session, today = demo_db
    contract = _contract(session, "internet_contract")
    assert contract.status == "active" and contract.commitment_months == 24
    assert contract.commitment_start is not None
    assert commitment_end(contract.commitment_start, 24) > today
    assert 10 <= month_index(contract.commitment_start, today) <= 12
    assert {e.kind for e in contract.equipment} == {"box", "antenna"}
    assert all(e.return_reference is None for e in contract.equipment)
    assert (contract.monthly_price_cents, contract.activation_fee_cents) == (2999, 4900)
    assert contract.termination_fee_cents == 4900


def test_invoices_follow_the_billing_calendar(demo_db: DemoDb) -> None:
    session, _today = demo_db
    invoices = _invoices(session, DEMO_CUSTOMER_ID)
    assert invoices
    for invoice in invoices:
        y, m = invoice.period_end.year, invoice.period_end.month
        assert invoice.issue_date == invoice_date(y, m)
        assert invoice.debit_date == debit_date(y, m)
        assert invoice.total_cents == sum(line.amount_cents for line in invoice.lines)
        assert all(line.explanation for line in invoice.lines)


def test_first_invoice_has_activation_prorata_and_month(demo_db: DemoDb) -> None:
    session, _today = demo_db
    first = session.get(Invoice, DEMO_REFS["first_invoice"])
    assert first is not None
    assert [line.kind for line in first.lines] == ["activation", "prorata", "subscription"]
    contract = _contract(session, "internet_contract")
    assert first.period_start == contract.first_connection_on
    prorata = first.lines[1].amount_cents
    assert 0 < prorata < contract.monthly_price_cents


def test_out_of_plan_line(demo_db: DemoDb) -> None:
    session, _today = demo_db
    invoice = session.get(Invoice, DEMO_REFS["out_of_plan_invoice"])
    assert invoice is not None
    assert "out_of_plan" in [line.kind for line in invoice.lines]


def test_a_debit_moved_by_a_weekend_or_holiday(demo_db: DemoDb) -> None:
    session, today = demo_db
    invoice = session.get(Invoice, demo_refs(today)["moved_debit_invoice"])
    assert invoice is not None
    assert invoice.debit_date.day != 5
    assert debit_moved_reason(invoice.debit_date.year, invoice.debit_date.month)


def test_recent_unpaid_invoice(demo_db: DemoDb) -> None:
    session, today = demo_db
    invoice = session.get(Invoice, DEMO_REFS["unpaid_invoice"])
    assert invoice is not None
    assert invoice.status == "unpaid" and invoice.debited_cents is None
    assert today - timedelta(days=62) <= invoice.debit_date < today


def test_debited_amount_differs_from_total(demo_db: DemoDb) -> None:
    session, today = demo_db
    mismatched = [
        i
        for i in _invoices(session, DEMO_CUSTOMER_ID)
        if i.debited_cents is not None and i.debited_cents != i.total_cents
    ]
    assert [i.id for i in mismatched] == [DEMO_REFS["debit_mismatch_invoice"]]
    assert mismatched[0].debit_date < today


def test_outage_over_48_hours_in_the_last_two_months(demo_db: DemoDb) -> None:
    session, today = demo_db
    outages = session.scalars(
        select(Outage).where(Outage.contract_id == DEMO_REFS["internet_contract"])
    ).all()
    long = [o for o in outages if o.end and outage_hours(o.start, o.end) > 48]
    assert len(long) == 1
    end = long[0].end
    assert end is not None
    assert add_months(today, -2) <= long[0].start.date() and end.date() < today


def test_partwork_missing_issue_grouped_parcel_delay_and_option(demo_db: DemoDb) -> None:
    session, today = demo_db
    contract = _contract(session, "partwork_contract")
    assert contract.issues_total == 140
    assert contract.price_per_issue_cents is not None
    assert 110_000 <= 140 * contract.price_per_issue_cents <= 120_000
    assert contract.first_issue_on is not None
    assert add_months(today, -7) < contract.first_issue_on < add_months(today, -5)
    shipments = session.scalars(
        select(Shipment).where(Shipment.contract_id == contract.id).order_by(Shipment.issue_from)
    ).all()
    missing = [s for s in shipments if s.received_on is None and s.expected_on < today]
    assert [(s.issue_from, s.issue_to) for s in missing] == [(DEMO_REFS["missing_issue"],) * 2]
    assert missing[0].expected_on <= today - timedelta(days=21)  # weeks ago
    grouped = [s for s in shipments if s.grouped]
    assert [(s.issue_from, s.issue_to) for s in grouped] == [DEMO_REFS["grouped_issues"]]
    upcoming = [s for s in shipments if s.expected_on > today]
    assert len(upcoming) == 1 and upcoming[0].delayed_until is not None
    assert upcoming[0].delayed_until > upcoming[0].expected_on
    # every issue expected by today has a shipment, each issue once
    covered = [n for s in shipments for n in range(s.issue_from, s.issue_to + 1)]
    assert covered == list(range(1, len(covered) + 1))
    options = contract.options
    assert [(o.name, o.validated) for o in options] == [(DEMO_REFS["unvalidated_option"], False)]
    assert contract.instalments and all(
        i.status == ("paid" if i.due_date < today else "due") for i in contract.instalments
    )


def test_instalment_plan_failed_reschedulable_and_not(demo_db: DemoDb) -> None:
    session, today = demo_db
    contract = _contract(session, "instalment_contract")
    assert contract.merchant == "Maison Lefèvre Literie"
    assert contract.purchase_cents == sum(i.amount_cents for i in contract.instalments)
    by_number = {i.number: i for i in contract.instalments}
    assert len(by_number) == 4
    last_due = max(i.due_date for i in contract.instalments)
    plan_count = sum(i.rescheduled_count for i in contract.instalments)

    def check(key: str, new_date: date) -> None:
        inst = by_number[DEMO_REFS[key][1]]
        check_reschedule(
            _state(inst),
            new_date,
            today=today,
            last_due_date=last_due,
            plan_rescheduled_count=plan_count,
        )

    failed = by_number[DEMO_REFS["failed_instalment"][1]]
    assert failed.status == "failed" and failed.due_date < today
    ok = by_number[DEMO_REFS["reschedulable_instalment"][1]]
    assert ok.status == "due" and ok.due_date > today
    check("reschedulable_instalment", ok.due_date + timedelta(days=10))  # no refusal
    with pytest.raises(RuleRefusal) as refused:
        check("already_due_instalment", today + timedelta(days=5))
    assert refused.value.code == "reschedule_already_due"
    with pytest.raises(RuleRefusal) as refused:
        check("failed_instalment", today + timedelta(days=5))
    assert refused.value.code == "reschedule_failed_instalment"
    postponed = by_number[DEMO_REFS["rescheduled_instalment"][1]]
    with pytest.raises(RuleRefusal) as refused:
        check("rescheduled_instalment", postponed.due_date + timedelta(days=1))
    assert refused.value.code == "reschedule_instalment_limit"


def test_terms_changed_and_restriction(demo_db: DemoDb) -> None:
    session, today = demo_db
    customer = session.get(Customer, DEMO_CUSTOMER_ID)
    current = session.get(ServiceSetting, "terms_version")
    assert customer is not None and current is not None
    assert customer.terms_version_accepted < current.value
    assert demo_refs(today)["terms_version_current"] == current.value
    assert [r.feature for r in customer.restrictions] == [DEMO_REFS["restricted_feature"]]
    assert customer.restrictions[0].since <= today


def test_claims_old_unanswered_and_recent_answered(demo_db: DemoDb) -> None:
    session, today = demo_db
    old = session.get(Claim, DEMO_REFS["old_claim"])
    assert old is not None
    assert old.status == "open" and old.last_answer_on is None
    assert all(m.author == "customer" for m in old.messages)
    assert mediator_from(old.created_on) <= today < mediator_until(old.created_on)
    assert old.created_on <= add_months(today, -3)
    answered = session.get(Claim, DEMO_REFS["answered_claim"])
    assert answered is not None
    assert answered.status == "answered" and answered.last_answer_on is not None
    assert [m.author for m in answered.messages] == ["customer", "support"]
    assert mediator_from(answered.created_on) > today  # too recent to need the mediator


def test_equipment_to_return(demo_db: DemoDb) -> None:
    session, today = demo_db
    contract = _contract(session, "terminated_contract")
    assert contract.status == "terminated"
    assert contract.terminated_on == today - timedelta(days=10)
    assert contract.equipment
    for item in contract.equipment:
        assert item.return_reference is not None and item.return_reference.startswith("RM-")
        assert item.return_deadline is not None and item.return_deadline > today
        assert item.returned_on is None
    assert any(item.exchanged for item in contract.equipment)


def test_payment_methods_and_users(demo_db: DemoDb) -> None:
    session, _today = demo_db
    for customer_id in (DEMO_CUSTOMER_ID, CLEAN_CUSTOMER_ID):
        method = session.get(PaymentMethod, customer_id)
        assert method is not None
        assert validate_iban(method.iban) == method.iban and method.iban.startswith("FR")
        assert method.mandate_reference.startswith("RUM-")
    users = {u.username: u for u in session.scalars(select(User))}
    assert set(users) == {"demo", "clean", "agent"}
    for name, password in DEMO_PASSWORDS.items():
        assert verify_password(password, users[name].password_hash)
    assert (users["demo"].scope, users["demo"].customer_id) == ("customer", DEMO_CUSTOMER_ID)
    assert (users["clean"].scope, users["clean"].customer_id) == ("customer", CLEAN_CUSTOMER_ID)
    assert (users["agent"].scope, users["agent"].customer_id) == ("staff", None)
    assert users["agent"].otp_secret == AGENT_OTP_SECRET


def test_clean_customer_has_nothing_to_report(demo_db: DemoDb) -> None:
    session, today = demo_db
    customer = session.get(Customer, CLEAN_CUSTOMER_ID)
    current = session.get(ServiceSetting, "terms_version")
    assert customer is not None and current is not None
    assert customer.terms_version_accepted == current.value
    assert customer.restrictions == []
    invoices = _invoices(session, CLEAN_CUSTOMER_ID)
    assert len(invoices) >= 11
    assert all(i.status == "paid" and i.debited_cents == i.total_cents for i in invoices)
    assert all(i.debit_date <= today for i in invoices)
    contracts = customer.contracts
    internet = [c for c in contracts if c.kind == "internet"]
    assert len(internet) == 1 and internet[0].commitment_start is not None
    assert commitment_end(internet[0].commitment_start, 24) < today  # past its commitment
    assert all(c.status == "active" for c in contracts)
    assert not [c for c in contracts if c.kind == "partwork"]
    for contract in contracts:
        assert all(i.status == "paid" for i in contract.instalments)
        assert all(o.validated for o in contract.options)
        assert all(o.end and outage_hours(o.start, o.end) <= 48 for o in contract.outages)
    equipment = session.scalars(
        select(Equipment).join(Contract).where(Contract.customer_id == CLEAN_CUSTOMER_ID)
    ).all()
    assert all(e.return_reference is None for e in equipment)
    claims = session.scalars(select(Claim).where(Claim.customer_id == CLEAN_CUSTOMER_ID)).all()
    assert claims == []


def test_a_moved_debit_exists_whatever_the_seeding_day() -> None:
    day = date(2026, 1, 1)
    while day < date(2029, 1, 1):
        assert demo_refs(day)["moved_debit_invoice"] is not None, day
        day += timedelta(days=1)
