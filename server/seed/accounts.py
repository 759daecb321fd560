"""The service settings and maintenance window, the clean customer, the users, and
`seed_demo`, which plants them with the demo customer."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from domain.calendar import add_months, debit_date
from server.models import (
    Contract,
    Customer,
    Equipment,
    Instalment,
    Invoice,
    MaintenanceWindow,
    PaymentMethod,
    ServiceSetting,
    User,
)
from server.seed.common import (
    AGENT_OTP_SECRET,
    CLEAN_CUSTOMER_ID,
    DEMO_CUSTOMER_ID,
    DEMO_PASSWORD_HASHES,
    DEMO_REFS,
    SEED_VERSION,
    _at,
    _current_invoice_month,
    _DemoDates,
    _shift_month,
    current_terms_version,
    french_iban,
)
from server.seed.demo import (
    _demo_claims,
    _demo_customer,
    _demo_instalment_plan,
    _demo_internet,
    _demo_partwork,
    _demo_terminated,
)
from server.seed.invoices import _invoice, _subscription_line


def _service_rows(today: date) -> list[Any]:
    settings = {
        "terms_version": current_terms_version(today),
        "provider_name": "MonCompte Services",
        "support_phone": "09 70 247 247",
        "support_email": "service.client@moncompte.example",
        "support_form_url": "https://moncompte.example/contact",
        "support_postal_address": (
            "MonCompte Services — Service Consommateur, TSA 40217, 31106 Toulouse Cedex 1"
        ),
        "mediator_name": "Médiateur des communications électroniques",
        "mediator_url": "https://www.mediateur-telecom.fr",
        "mediator_postal_address": (
            "Médiateur des communications électroniques, CS 30342, 94257 Gentilly Cedex"
        ),
        "seed_version": SEED_VERSION,
    }
    rows: list[Any] = [ServiceSetting(key=k, value=v) for k, v in settings.items()]
    start = _at(today + timedelta(days=3), 1)
    rows.append(
        MaintenanceWindow(
            start=start,
            end=start + timedelta(hours=3),
            description=(
                "Scheduled maintenance of the account platform: invoices, PDF downloads "
                "and changes of bank details may be unavailable."
            ),
        )
    )
    return rows


def _clean_customer(d: _DemoDates) -> tuple[Customer, list[Contract], list[Invoice]]:
    """A healthy account: nothing for `diagnose` to find."""
    cid = DEMO_REFS["clean_internet_contract"]
    offer, price = "Internet THD Radio 50 Mb/s", 3499
    signed = add_months(d.today, -30) - timedelta(days=5)
    conn = signed + timedelta(days=10)
    customer = Customer(
        id=CLEAN_CUSTOMER_ID,
        customer_number="10000002",
        first_name="Julien",
        last_name="Moreau",
        email="julien.moreau@example.net",
        phone="06 39 98 56 78",
        address_line1="4 place de l'Église",
        postcode="19200",
        city="Ussel",
        country="FR",
        terms_version_accepted=current_terms_version(d.today),
        created_on=signed,
    )
    internet = Contract(
        id=cid,
        customer_id=CLEAN_CUSTOMER_ID,
        kind="internet",
        offer=offer,
        status="active",
        monthly_price_cents=price,
        activation_fee_cents=4900,
        termination_fee_cents=4900,
        signed_on=signed,
        withdrawal_start=signed,
        first_connection_on=conn,
        equipment_received_on=conn - timedelta(days=2),
        commitment_months=24,  # ended about 6 months ago: no commitment any more
        commitment_start=conn,
        equipment=[
            Equipment(kind="box", serial="BX4G-5120-8842", value_cents=12000),
            Equipment(kind="antenna", serial="ANT-THD-19-220871", value_cents=15000),
        ],
    )
    purchase = d.today - timedelta(days=150)
    plan = Contract(
        id=DEMO_REFS["clean_instalment_contract"],
        customer_id=CLEAN_CUSTOMER_ID,
        kind="installments",
        offer="Paiement en 3 fois — vélo à assistance électrique",
        status="active",
        signed_on=purchase,
        withdrawal_start=purchase + timedelta(days=2),
        merchant="Cycles Morel",
        purchase_cents=3 * 29990,
        instalments=[
            Instalment(
                number=n,
                due_date=add_months(purchase, n - 1),
                original_due_date=add_months(purchase, n - 1),
                amount_cents=29990,
                status="paid",
                rescheduled_count=0,
            )
            for n in (1, 2, 3)
        ],
    )
    invoices = []
    number = 0  # numbered by the caller
    for k in range(-11, 1):
        y, m = _shift_month(*d.invoice_month, k)
        if debit_date(y, m) > d.today:  # only debited invoices: nothing pending
            continue
        lines = [_subscription_line(offer, price, y, m)]
        invoices.append(
            _invoice(number, CLEAN_CUSTOMER_ID, cid, y, m, lines, date(y, m, 1), today=d.today)
        )
    return customer, [internet, plan], invoices


def seed_demo(session: Session, today: date) -> None:
    """Add the service settings, the maintenance window and the demo accounts (flushed,
    not committed: the caller owns the transaction)."""
    d = _DemoDates(today, _current_invoice_month(today))
    session.add_all(_service_rows(today))

    demo = _demo_customer(d)
    internet, invoices = _demo_internet(d, DEMO_CUSTOMER_ID)
    terminated, old_invoices = _demo_terminated(d, DEMO_CUSTOMER_ID, len(invoices) + 1)
    demo.contracts = [
        internet,
        _demo_partwork(d, DEMO_CUSTOMER_ID),
        _demo_instalment_plan(d, DEMO_CUSTOMER_ID),
        terminated,
    ]
    bank, branch, account = "20041", "01005", "0500013M026"  # La Banque Postale
    demo_pm = PaymentMethod(
        customer_id=DEMO_CUSTOMER_ID,
        kind="sepa_debit",
        iban=french_iban(bank, branch, account),
        mandate_reference=f"RUM-{DEMO_CUSTOMER_ID}-{internet.signed_on:%Y%m%d}",
        bank_name="La Banque Postale",
        updated_at=_at(internet.signed_on, 11, 20),
    )

    clean, clean_contracts, clean_invoices = _clean_customer(d)
    clean.contracts = clean_contracts
    number = len(invoices) + len(old_invoices)
    for inv in clean_invoices:
        number += 1
        inv.id = f"INV-{number:09d}"
    clean_pm = PaymentMethod(
        customer_id=CLEAN_CUSTOMER_ID,
        kind="sepa_debit",
        iban=french_iban("13306", "00080", "81234567891"),
        mandate_reference=f"RUM-{CLEAN_CUSTOMER_ID}-{clean_contracts[0].signed_on:%Y%m%d}",
        bank_name="Crédit Agricole Aquitaine",
        updated_at=_at(clean_contracts[0].signed_on, 15, 2),
    )

    session.add_all([demo, clean])
    session.flush()  # customers and contracts before the rows that point at them
    session.add_all([*invoices, *old_invoices, *clean_invoices, demo_pm, clean_pm])
    session.add_all(_demo_claims(d, DEMO_CUSTOMER_ID))
    session.add_all(
        [
            User(
                username="demo",
                password_hash=DEMO_PASSWORD_HASHES["demo"],
                scope="customer",
                customer_id=DEMO_CUSTOMER_ID,
            ),
            User(
                username="clean",
                password_hash=DEMO_PASSWORD_HASHES["clean"],
                scope="customer",
                customer_id=CLEAN_CUSTOMER_ID,
            ),
            User(
                username="agent",
                password_hash=DEMO_PASSWORD_HASHES["agent"],
                scope="staff",
                customer_id=None,
                otp_secret=AGENT_OTP_SECRET,
            ),
        ]
    )
    session.flush()
