"""Seed data of the sandbox: the demo accounts, and as many extra customers as wanted.

Everything is dated relative to `today` at seeding time, so the planted anomalies (an
unpaid invoice, a missing partwork issue, a claim unanswered for over 2 months, …) are true
whatever the date, and `sandbox reset` re-dates them. Everything is drawn from
`random.Random(seed)`: the same seed and the same `today` give the same rows, so tests and
bug reports can name IDs.

Two speeds on purpose:
- the demo accounts are a few hundred ORM objects, built for readability (they document
  every rule the data exercises) and seeded in a few tens of milliseconds;
- `seed_customers` must do 100,000 customers (about 3.5 million rows) in under a minute on
  two cores, so it never builds ORM objects: rows are tuples in table column order, dates
  that repeat (the monthly billing calendar) are computed and formatted once, and on
  SQLite the tuples go straight to the driver's `executemany` in one transaction.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, select, text
from sqlalchemy.orm import Session

from domain.calendar import (
    add_months,
    days_in_month,
    debit_date,
    debit_moved_reason,
    invoice_date,
)
from domain.commitment import equipment_return_deadline, return_reference
from domain.iban import iban_check_digits, rib_key
from domain.money import div_round_half_up
from server.db import IMMEDIATE_OPTION, SEEDED_KEY
from server.models import (
    Base,
    Claim,
    ClaimMessage,
    Contract,
    ContractOption,
    Customer,
    Equipment,
    Instalment,
    Invoice,
    InvoiceLine,
    MaintenanceWindow,
    Outage,
    PaymentMethod,
    Restriction,
    ServiceSetting,
    Shipment,
    User,
)

__all__ = [
    "AGENT_OTP_SECRET",
    "CLEAN_CUSTOMER_ID",
    "DEMO_CUSTOMER_ID",
    "DEMO_PASSWORDS",
    "DEMO_PASSWORD_HASHES",
    "DEMO_REFS",
    "SETTING_KEYS",
    "current_terms_version",
    "demo_refs",
    "french_iban",
    "seed_all",
    "seed_customers",
    "seed_demo",
]

SEED_VERSION = "1"
# Key of the PostgreSQL advisory lock held while seeding ("mc" in ASCII, then 1).
_PG_LOCK = 0x6D6301

DEMO_CUSTOMER_ID = "C0000001"
CLEAN_CUSTOMER_ID = "C0000002"

# IDs up to these numbers are kept for the fixed demo objects; generated customers,
# contracts, invoices and claims are numbered after them.
_RESERVED_CUSTOMERS = 100
_RESERVED_CONTRACTS = 1_000
_RESERVED_INVOICES = 10_000
_RESERVED_CLAIMS = 1_000

DEMO_PASSWORDS = {"demo": "demo1234", "clean": "clean1234", "agent": "agent1234"}
# `server.passwords.hash_password(pw, salt=sha256(b"moncompte-sandbox-" + user)[:16])`,
# computed once: hashing at seed time would cost 3 × 50 ms of the 2-second first run.
DEMO_PASSWORD_HASHES = {
    "demo": "pbkdf2_sha256$100000$a3e53a53925ac7e29551cc94ad3eafaf$"
    "66abd455d275b4f7cf2d2f8aa50dd8f044743dcc67829343f8ead4838750da17",
    "clean": "pbkdf2_sha256$100000$72334f462fe6171ad75868d2a971adaf$"
    "6a44e5a152ad7600755b8502db03613d9eac9e91b2a5cd273401b86f696f21da",
    "agent": "pbkdf2_sha256$100000$e0accd8bb4ddac2c9e44a9c4e41b02f7$"
    "2d9614709b18fc4d3cd70ed00e366ae55b233e272357f5b392d14eb775103718",
}
# A sandbox secret, public on purpose: docs and tests compute the agent's one-time code.
AGENT_OTP_SECRET = "MONCOMPTESANDBOXAGENT234"

# Keys of ServiceSetting rows written by the seed (values are plain strings).
SETTING_KEYS = (
    "terms_version",
    "provider_name",
    "support_phone",
    "support_email",
    "support_form_url",
    "support_postal_address",
    "mediator_name",
    "mediator_url",
    "mediator_postal_address",
    "seed_version",
    "seed_customers",
    SEEDED_KEY,
)

DEMO_REFS: dict[str, Any] = {
    "customer": DEMO_CUSTOMER_ID,
    "clean_customer": CLEAN_CUSTOMER_ID,
    "demo_user": "demo",
    "clean_user": "clean",
    "staff_user": "agent",
    # the demo customer's contracts
    "internet_contract": "CT-0000001",  # 24-month commitment, month 10-11, box + antenna
    "partwork_contract": "CT-0000002",  # "La Bretagne", 140 issues, issue 12 missing
    "instalment_contract": "CT-0000003",  # 4x at Maison Lefèvre Literie
    "terminated_contract": "CT-0000004",  # terminated 10 days ago, equipment to return
    # the clean customer's contracts
    "clean_internet_contract": "CT-0000005",
    "clean_instalment_contract": "CT-0000006",
    # invoices of the internet contract, oldest first (10 in all)
    "first_invoice": "INV-000000001",  # activation + prorata + first month
    "out_of_plan_invoice": "INV-000000004",  # a call to a special number
    "debit_mismatch_invoice": "INV-000000006",  # debited 34.99 for a total of 29.99
    "unpaid_invoice": "INV-000000009",  # last month's debit was rejected
    "latest_invoice": "INV-000000010",
    # instalments of the 4x plan, as (contract, number)
    "already_due_instalment": ("CT-0000003", 1),  # paid: cannot be rescheduled
    "failed_instalment": ("CT-0000003", 2),
    "reschedulable_instalment": ("CT-0000003", 3),
    "rescheduled_instalment": ("CT-0000003", 4),  # already postponed once
    "missing_issue": 12,
    "delayed_issue": 15,
    "grouped_issues": (3, 6),
    "unvalidated_option": "Vitrine d'exposition",
    "restricted_feature": "order_validation",
    "old_claim": "CL-0000001",  # about 3 months, no answer: mediator possible
    "answered_claim": "CL-0000002",
    "outage_hours": 53.25,
}


# ---------------------------------------------------------------------------------------
# small date helpers


_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _shift_month(year: int, month: int, n: int) -> tuple[int, int]:
    y, m0 = divmod(year * 12 + month - 1 + n, 12)
    return y, m0 + 1


def _month_name(year: int, month: int) -> str:
    return f"{_MONTH_NAMES[month - 1]} {year}"


def _long(d: date) -> str:
    return f"{d.day} {_MONTH_NAMES[d.month - 1]} {d.year}"


def _last_day(year: int, month: int) -> date:
    return date(year, month, days_in_month(year, month))


def _current_invoice_month(today: date) -> tuple[int, int]:
    """The month of the latest invoice issued by `today` (this month once the 2nd passed)."""
    if invoice_date(today.year, today.month) <= today:
        return today.year, today.month
    return _shift_month(today.year, today.month, -1)


def current_terms_version(today: date) -> str:
    """The terms (CGV) in force: a version published two months before `today`."""
    return f"{add_months(today, -2):%Y-%m}"


def _old_terms_version(today: date) -> str:
    return f"{add_months(today, -20):%Y-%m}"


def french_iban(bank: str, branch: str, account: str) -> str:
    """A French IBAN whose RIB key and ISO check digits are right."""
    bban = f"{bank}{branch}{account}{rib_key(bank, branch, account):02d}"
    return f"FR{iban_check_digits('FR', bban)}{bban}"


# ---------------------------------------------------------------------------------------
# invoice lines shared by the demo and the generated customers

_Line = tuple[str, str, int, str]  # label, kind, amount_cents, explanation


def _subscription_line(offer: str, price: int, year: int, month: int) -> _Line:
    name = _month_name(year, month)
    return (
        f"Subscription {offer} — {name}",
        "subscription",
        price,
        f"The monthly price of {offer} for {name}, billed in advance: invoices are issued "
        "on the 2nd and debited on the 5th (next business day).",
    )


def _first_invoice_lines(
    offer: str, price: int, activation: int, first_connection: date, year: int, month: int
) -> list[_Line]:
    """Activation fee + prorata from the first connection to the end of its month + the
    current month: why the first invoice is larger (seed 002)."""
    dim = days_in_month(first_connection.year, first_connection.month)
    days = dim - first_connection.day + 1
    last = _last_day(first_connection.year, first_connection.month)
    prorata = div_round_half_up(price * days, dim)
    lines: list[_Line] = []
    if activation:
        lines.append(
            (
                "Activation fee",
                "activation",
                activation,
                "One-off fee for putting the line into service, charged on the first invoice only.",
            )
        )
    lines.append(
        (
            f"Prorata {_long(first_connection)} – {_long(last)} ({days}/{dim} days)",
            "prorata",
            prorata,
            f"Billing starts at the first connection ({_long(first_connection)}): {days} of "
            f"the {dim} days of {_month_name(first_connection.year, first_connection.month)} "
            f"at {price / 100:.2f} €/month = {price / 100:.2f} × {days} / {dim}, "
            "rounded to the cent.",
        )
    )
    lines.append(_subscription_line(offer, price, year, month))
    return lines


# ---------------------------------------------------------------------------------------
# the demo accounts


@dataclass(frozen=True)
class _DemoDates:
    """Every date of the demo story, derived from `today` once."""

    today: date
    invoice_month: tuple[int, int]  # X: the latest month invoiced

    def month(self, k: int) -> tuple[int, int]:
        """Month X - 10 + k: k = 1 … 10 are the internet contract's invoice months."""
        return _shift_month(*self.invoice_month, k - 10)

    @property
    def first_connection(self) -> date:
        y, m = self.month(0)
        return date(y, m, 17)


def demo_refs(today: date) -> dict[str, Any]:
    """`DEMO_REFS` plus the references that depend on the date of seeding."""
    refs = dict(DEMO_REFS)
    dates = _DemoDates(today, _current_invoice_month(today))
    moved = [k for k in range(1, 11) if debit_moved_reason(*dates.month(k)) is not None]
    refs["moved_debit_invoice"] = f"INV-{moved[-1]:09d}" if moved else None
    refs["terms_version_current"] = current_terms_version(today)
    refs["terms_version_accepted"] = _old_terms_version(today)
    return refs


def _at(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute))


def _invoice(
    number: int,
    customer_id: str,
    contract_id: str,
    year: int,
    month: int,
    lines: Sequence[_Line],
    period_start: date,
    *,
    today: date,
    unpaid: bool = False,
    debited_extra: int = 0,
) -> Invoice:
    total = sum(line[2] for line in lines)
    debit = debit_date(year, month)
    if debit > today or unpaid:
        status, debited = "unpaid", None
    else:
        status, debited = "paid", total + debited_extra
    return Invoice(
        id=f"INV-{number:09d}",
        customer_id=customer_id,
        contract_id=contract_id,
        issue_date=invoice_date(year, month),
        debit_date=debit,
        period_start=period_start,
        period_end=_last_day(year, month),
        total_cents=total,
        debited_cents=debited,
        status=status,
        lines=[
            InvoiceLine(position=i, label=label, kind=kind, amount_cents=amount, explanation=why)
            for i, (label, kind, amount, why) in enumerate(lines, start=1)
        ],
    )


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


def _demo_internet(d: _DemoDates, customer_id: str) -> tuple[Contract, list[Invoice]]:
    cid = DEMO_REFS["internet_contract"]
    offer, price, activation = "Internet THD Radio 30 Mb/s + Téléphonie", 2999, 4900
    conn = d.first_connection
    received = conn - timedelta(days=4)
    signed = conn - timedelta(days=12)
    long_outage = _at(d.today - timedelta(days=26), 7, 40)
    short_outage = _at(d.today - timedelta(days=100), 14, 5)
    contract = Contract(
        id=cid,
        customer_id=customer_id,
        kind="internet",
        offer=offer,
        status="active",
        monthly_price_cents=price,
        activation_fee_cents=activation,
        termination_fee_cents=4900,
        signed_on=signed,
        withdrawal_start=signed,  # a service: withdrawal runs from the contract
        first_connection_on=conn,
        equipment_received_on=received,
        commitment_months=24,
        commitment_start=conn,  # billing and commitment start at the first connection
        equipment=[
            Equipment(kind="box", serial="BX4G-7731-0429", value_cents=12000),
            Equipment(kind="antenna", serial="ANT-THD-52-118736", value_cents=15000),
        ],
        outages=[
            Outage(start=long_outage, end=long_outage + timedelta(hours=53, minutes=15)),
            Outage(start=short_outage, end=short_outage + timedelta(hours=2, minutes=10)),
        ],
    )
    invoices: list[Invoice] = []
    for k in range(1, 11):
        y, m = d.month(k)
        if k == 1:
            lines = _first_invoice_lines(offer, price, activation, conn, y, m)
            start = conn
        else:
            lines = [_subscription_line(offer, price, y, m)]
            start = date(y, m, 1)
        if k == 4:
            py, pm = _shift_month(y, m, -1)
            lines.append(
                (
                    "Out-of-plan call to 08 99 23 41 17 (special number), 7 min",
                    "out_of_plan",
                    560,
                    f"Calls to special-rate numbers (08 99) are not included in the plan: "
                    f"7 minutes on 14 {_month_name(py, pm)} at 0.80 €/min = 5.60 €.",
                )
            )
        invoices.append(
            _invoice(
                k,
                customer_id,
                cid,
                y,
                m,
                lines,
                start,
                today=d.today,
                unpaid=(k == 9),
                debited_extra=500 if k == 6 else 0,
            )
        )
    return contract, invoices


def _demo_partwork(d: _DemoDates, customer_id: str) -> Contract:
    first = d.today - timedelta(days=187)  # issue n is expected on first + 14 (n - 1)
    price = 829  # 140 × 8.29 € = 1,160.60 €

    def expected(n: int) -> date:
        return first + timedelta(days=14 * (n - 1))

    def received(n_from: int, n_to: int, grouped: bool = False) -> Shipment:
        on = expected(n_from)
        return Shipment(
            issue_from=n_from,
            issue_to=n_to,
            shipped_on=on - timedelta(days=3),
            expected_on=on,
            received_on=on + timedelta(days=1),
            grouped=grouped,
        )

    missing = DEMO_REFS["missing_issue"]  # expected 33 days ago, shipped, never received
    delayed = DEMO_REFS["delayed_issue"]  # expected in 9 days, the carrier announced a delay
    g_from, g_to = DEMO_REFS["grouped_issues"]
    shipments = [received(1, 1), received(2, 2), received(g_from, g_to, grouped=True)]
    shipments += [received(n, n) for n in range(g_to + 1, missing)]
    shipments.append(
        Shipment(
            issue_from=missing,
            issue_to=missing,
            shipped_on=expected(missing) - timedelta(days=3),
            expected_on=expected(missing),
            received_on=None,
        )
    )
    shipments += [received(n, n) for n in range(missing + 1, delayed)]
    shipments.append(
        Shipment(
            issue_from=delayed,
            issue_to=delayed,
            shipped_on=None,
            expected_on=expected(delayed),
            delayed_until=expected(delayed) + timedelta(days=14),
        )
    )
    # The publisher debits two issues a month, on the day of the month of the first issue.
    instalments = []
    for n in range(1, 71):
        due = add_months(first, n - 1)
        instalments.append(
            Instalment(
                number=n,
                due_date=due,
                original_due_date=due,
                amount_cents=2 * price,
                status="paid" if due < d.today else "due",
                rescheduled_count=0,
            )
        )
    return Contract(
        id=DEMO_REFS["partwork_contract"],
        customer_id=customer_id,
        kind="partwork",
        offer="Collection « La Bretagne » — vaisseau de 1766 en 140 fascicules",
        status="active",
        signed_on=first - timedelta(days=12),
        withdrawal_start=expected(1) + timedelta(days=1),  # goods: from the first item
        issues_total=140,
        price_per_issue_cents=price,
        first_issue_on=first,
        issue_interval_days=14,
        options=[
            ContractOption(
                name=DEMO_REFS["unvalidated_option"],
                price_cents=8990,
                added_on=d.today - timedelta(days=20),
                validated=False,
            )
        ],
        shipments=shipments,
        instalments=instalments,
    )


def _demo_instalment_plan(d: _DemoDates, customer_id: str) -> Contract:
    purchase = d.today - timedelta(days=36)
    amount = 14990
    dues = [add_months(purchase, k) for k in range(4)]  # #2 ~6 days ago, #3 in ~25 days
    postponed = dues[3] + timedelta(days=10)
    return Contract(
        id=DEMO_REFS["instalment_contract"],
        customer_id=customer_id,
        kind="installments",
        offer="Paiement en 4 fois — matelas et sommier",
        status="active",
        signed_on=purchase,
        withdrawal_start=purchase + timedelta(days=4),  # delivered 4 days after the order
        merchant="Maison Lefèvre Literie",
        purchase_cents=4 * amount,
        instalments=[
            Instalment(
                number=1,
                due_date=dues[0],
                original_due_date=dues[0],
                amount_cents=amount,
                status="paid",
                rescheduled_count=0,
            ),
            Instalment(
                number=2,
                due_date=dues[1],
                original_due_date=dues[1],
                amount_cents=amount,
                status="failed",
                rescheduled_count=0,
            ),
            Instalment(
                number=3,
                due_date=dues[2],
                original_due_date=dues[2],
                amount_cents=amount,
                status="due",
                rescheduled_count=0,
            ),
            Instalment(
                number=4,
                due_date=postponed,
                original_due_date=dues[3],
                amount_cents=amount,
                status="rescheduled",
                rescheduled_count=1,
            ),
        ],
    )


def _demo_terminated(
    d: _DemoDates, customer_id: str, first_number: int
) -> tuple[Contract, list[Invoice]]:
    cid = DEMO_REFS["terminated_contract"]
    offer, price = "Internet THD Radio 10 Mb/s — résidence secondaire", 2499
    signed = add_months(d.today, -38)
    conn = signed + timedelta(days=10)
    terminated = d.today - timedelta(days=10)
    reference = return_reference(cid, terminated)
    contract = Contract(
        id=cid,
        customer_id=customer_id,
        kind="internet",
        offer=offer,
        status="terminated",
        monthly_price_cents=price,
        activation_fee_cents=4900,
        termination_fee_cents=4900,
        signed_on=signed,
        withdrawal_start=signed,
        first_connection_on=conn,
        equipment_received_on=conn - timedelta(days=3),
        commitment_months=12,
        commitment_start=conn,
        terminated_on=terminated,
        equipment=[
            # the box was exchanged during the contract: 40 days to return it, 30 otherwise
            Equipment(
                kind="box",
                serial="BX4G-2208-1157",
                value_cents=9900,
                exchanged=True,
                return_reference=reference,
                return_deadline=equipment_return_deadline(terminated, True),
            ),
            Equipment(
                kind="antenna",
                serial="ANT-THD-19-004213",
                value_cents=14900,
                return_reference=reference,
                return_deadline=equipment_return_deadline(terminated, False),
            ),
        ],
    )
    invoices = []
    number = first_number
    for k in range(-3, 1):
        y, m = _shift_month(*d.invoice_month, k)
        if invoice_date(y, m) > terminated:
            break
        lines = [_subscription_line(offer, price, y, m)]
        inv = _invoice(number, customer_id, cid, y, m, lines, date(y, m, 1), today=d.today)
        invoices.append(inv)
        number += 1
    return contract, invoices


def _demo_claims(d: _DemoDates, customer_id: str) -> list[Claim]:
    old = d.today - timedelta(days=95)
    recent = d.today - timedelta(days=8)
    answered = d.today - timedelta(days=6)
    mismatch_month = _month_name(*d.month(6))
    return [
        Claim(
            id=DEMO_REFS["old_claim"],
            customer_id=customer_id,
            contract_id=DEMO_REFS["internet_contract"],
            category="billing",
            subject="Montant prélevé supérieur au prix de l'abonnement",
            status="open",
            created_on=old,
            messages=[
                ClaimMessage(
                    author="customer",
                    sent_at=_at(old, 9, 12),
                    body=(
                        f"Bonjour, le prélèvement de la facture de {mismatch_month} "
                        f"({DEMO_REFS['debit_mismatch_invoice']}) est de 34,99 € alors que "
                        "mon abonnement est de 29,99 €. Merci de me rembourser la différence "
                        "de 5,00 €. Cordialement, Claire Dubois"
                    ),
                )
            ],
        ),
        Claim(
            id=DEMO_REFS["answered_claim"],
            customer_id=customer_id,
            contract_id=DEMO_REFS["internet_contract"],
            category="technical",
            subject="Coupure de plus de 48 h — demande de geste commercial",
            status="answered",
            created_on=recent,
            last_answer_on=answered,
            messages=[
                ClaimMessage(
                    author="customer",
                    sent_at=_at(recent, 18, 40),
                    body=(
                        "Bonjour, ma connexion a été coupée plus de deux jours le mois "
                        "dernier. Je demande un geste commercial. Claire Dubois"
                    ),
                ),
                ClaimMessage(
                    author="support",
                    sent_at=_at(answered, 10, 5),
                    body=(
                        "Bonjour Madame Dubois, nous confirmons une interruption de 53 h sur "
                        "l'antenne de votre secteur. Un geste commercial de 10,00 € sera "
                        "déduit de votre prochaine facture. Le service client"
                    ),
                ),
            ],
        ),
    ]


def _demo_customer(d: _DemoDates) -> Customer:
    refs = demo_refs(d.today)
    return Customer(
        id=DEMO_CUSTOMER_ID,
        customer_number="10000001",
        first_name="Claire",
        last_name="Dubois",
        email="claire.dubois@example.com",
        phone="06 39 98 12 34",
        address_line1="12 rue des Lilas",
        postcode="35000",
        city="Rennes",
        country="FR",
        terms_version_accepted=refs["terms_version_accepted"],
        created_on=add_months(d.today, -40),
        restrictions=[
            Restriction(
                feature=DEMO_REFS["restricted_feature"],
                reason=(
                    f"The terms of sale changed since you accepted them "
                    f"({refs['terms_version_accepted']} → {refs['terms_version_current']}) "
                    f"and instalment 2 of {DEMO_REFS['instalment_contract']} failed: "
                    "order validation is disabled until you accept the new terms and the "
                    "payment is settled."
                ),
                since=add_months(d.today - timedelta(days=36), 1),  # the failed instalment
            )
        ],
    )


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


# ---------------------------------------------------------------------------------------
# generated customers

_FIRST_NAMES = (
    "Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Sarah", "Julie", "Marie", "Anne",
    "Nathalie", "Isabelle", "Sophie", "Catherine", "Monique", "Françoise", "Sylvie",
    "Céline", "Aurélie", "Élodie", "Lucie", "Pauline", "Margaux", "Juliette", "Louise",
    "Jeanne", "Gaëlle", "Nolwenn", "Thomas", "Nicolas", "Julien", "Maxime", "Alexandre",
    "Antoine", "Pierre", "Jean", "Michel", "Philippe", "Alain", "Patrick", "Christophe",
    "Laurent", "Sébastien", "Olivier", "Éric", "Frédéric", "Stéphane", "David", "Mathieu",
    "Romain", "Hugo", "Lucas", "Louis", "Gabriel", "Arthur", "Jules", "Théo", "Yann",
    "Gwenaël", "Loïc", "Erwan", "Maël", "Jérôme", "Benoît",
)  # fmt: skip
_LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Lefèvre", "Mercier", "Dupont",
    "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau",
    "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu",
    "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Le Gall",
    "Le Goff", "Kerbrat", "Le Bihan", "Tanguy", "Quéré", "Guillou", "Jaouen", "Cadiou",
    "Rivière", "Delmas", "Couderc", "Besson", "Vidal",
)  # fmt: skip
_STREETS = (
    "rue de l'Église", "place de la Mairie", "route de Nantes", "chemin des Vignes",
    "rue du Moulin", "allée des Tilleuls", "impasse des Lavandières", "rue Victor Hugo",
    "avenue Jean Jaurès", "rue Pasteur", "rue de la Gare", "chemin du Lavoir",
    "rue des Écoles", "route de la Forêt", "rue du Stade", "rue des Peupliers",
    "rue du Château", "Grande Rue", "rue du Général de Gaulle", "chemin de la Croix",
)  # fmt: skip
_CITIES = (
    ("35000", "Rennes"), ("29200", "Brest"), ("56100", "Lorient"), ("22300", "Lannion"),
    ("29120", "Pont-l'Abbé"), ("19200", "Ussel"), ("23000", "Guéret"), ("15000", "Aurillac"),
    ("48000", "Mende"), ("46000", "Cahors"), ("12000", "Rodez"), ("81100", "Castres"),
    ("32000", "Auch"), ("09000", "Foix"), ("65200", "Bagnères-de-Bigorre"),
    ("04000", "Digne-les-Bains"), ("05000", "Gap"), ("26110", "Nyons"), ("07200", "Aubenas"),
    ("43000", "Le Puy-en-Velay"), ("63600", "Ambert"), ("03100", "Montluçon"),
    ("58000", "Nevers"), ("89200", "Avallon"), ("21140", "Semur-en-Auxois"),
    ("52200", "Langres"), ("55100", "Verdun"), ("88100", "Saint-Dié-des-Vosges"),
    ("67160", "Wissembourg"), ("68500", "Guebwiller"), ("25300", "Pontarlier"),
    ("39200", "Saint-Claude"), ("73200", "Albertville"), ("74500", "Évian-les-Bains"),
    ("38350", "La Mure"), ("24200", "Sarlat-la-Canéda"), ("47300", "Villeneuve-sur-Lot"),
    ("40200", "Mimizan"), ("64400", "Oloron-Sainte-Marie"), ("16100", "Cognac"),
    ("17300", "Rochefort"), ("79200", "Parthenay"), ("86500", "Montmorillon"),
    ("36200", "Argenton-sur-Creuse"), ("18200", "Saint-Amand-Montrond"),
    ("41200", "Romorantin-Lanthenay"), ("72200", "La Flèche"), ("61100", "Flers"),
    ("50300", "Avranches"), ("14100", "Lisieux"), ("27200", "Vernon"), ("76260", "Eu"),
    ("80100", "Abbeville"), ("08200", "Sedan"), ("10200", "Bar-sur-Aube"),
    ("31800", "Saint-Gaudens"),
)  # fmt: skip
_BANKS = (
    ("30004", "BNP Paribas"), ("30003", "Société Générale"), ("20041", "La Banque Postale"),
    ("30002", "LCL"), ("10278", "Crédit Mutuel"), ("13807", "Banque Populaire Grand Ouest"),
    ("13306", "Crédit Agricole Aquitaine"), ("16006", "Crédit Agricole Atlantique Vendée"),
    ("15589", "Crédit Mutuel de Bretagne"), ("10107", "BRED Banque Populaire"),
    ("11315", "Caisse d'Épargne CEPAC"), ("12506", "Crédit Agricole Alsace Vosges"),
)  # fmt: skip
_INTERNET_OFFERS = (  # offer, monthly price, activation fee, provider termination fee
    ("Internet THD Radio 30 Mb/s", 2999, 4900, 4900),
    ("Internet THD Radio 30 Mb/s + Téléphonie", 3299, 4900, 4900),
    ("Internet THD Radio 50 Mb/s", 3499, 4900, 4900),
    ("Internet THD Radio 100 Mb/s", 3999, 0, 4900),
    ("Internet Satellite 100 Mb/s", 4499, 4900, 0),
)
_MERCHANTS = (
    ("Maison Lefèvre Literie", "matelas et sommier"), ("Cycles Morel", "vélo"),
    ("Électroménager Garnier", "lave-linge"), ("Meubles Rivière", "canapé"),
    ("Optique Bonnet", "lunettes"), ("Jardinerie du Moulin", "tondeuse"),
    ("Informatique Perrin", "ordinateur portable"), ("Cuisines Fontaine", "four"),
    ("Sports Chevalier", "tapis de course"), ("Atelier Kerbrat", "poêle à granulés"),
)  # fmt: skip
_COLLECTIONS = (  # offer, issues, price per issue
    ("Collection « La Bretagne » — vaisseau de 1766 en 140 fascicules", 140, 829),
    ("Collection « Le Soleil Royal » — 135 fascicules", 135, 899),
    ("Collection « Tracteurs de nos campagnes » — 120 fascicules", 120, 1199),
)
_CLAIM_SUBJECTS = (
    ("billing", "Question sur ma facture"),
    ("technical", "Connexion instable le soir"),
    ("technical", "Coupure de connexion"),
    ("delivery", "Fascicule non reçu"),
    ("termination", "Demande de résiliation"),
    ("other", "Changement d'adresse email"),
)

# Column order of the tuples built below; integer primary keys are left to the database.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (
        "id", "customer_number", "first_name", "last_name", "email", "phone",
        "address_line1", "postcode", "city", "country", "terms_version_accepted",
        "created_on",
    ),
    "payment_methods": (
        "customer_id", "kind", "iban", "mandate_reference", "bank_name", "updated_at",
    ),
    "contracts": (
        "id", "customer_id", "kind", "offer", "status", "monthly_price_cents",
        "activation_fee_cents", "termination_fee_cents", "signed_on", "withdrawal_start",
        "first_connection_on", "equipment_received_on", "commitment_months",
        "commitment_start", "merchant", "purchase_cents", "issues_total",
        "price_per_issue_cents", "first_issue_on", "issue_interval_days", "terminated_on",
        "withdrawn_on",
    ),
    "equipment": (
        "contract_id", "kind", "serial", "value_cents", "exchanged", "return_reference",
        "return_deadline", "returned_on",
    ),
    "outages": ("contract_id", "start", "end"),
    "invoices": (
        "id", "customer_id", "contract_id", "issue_date", "debit_date", "period_start",
        "period_end", "total_cents", "debited_cents", "status",
    ),
    "invoice_lines": ("invoice_id", "position", "label", "kind", "amount_cents", "explanation"),
    "instalments": (
        "contract_id", "number", "due_date", "original_due_date", "amount_cents", "status",
        "rescheduled_count",
    ),
    "shipments": (
        "contract_id", "issue_from", "issue_to", "shipped_on", "expected_on", "received_on",
        "grouped", "delayed_until",
    ),
    "claims": (
        "id", "customer_id", "contract_id", "category", "subject", "status", "created_on",
        "last_answer_on", "escalated_on",
    ),
    "claim_messages": ("claim_id", "author", "sent_at", "body"),
}  # fmt: skip
# Parents before children, for the foreign keys.
_TABLE_ORDER = tuple(_COLUMNS)


def _ascii(text: str) -> str:
    """`Lefèvre` → `lefevre`, `Le Gall` → `legall`, `Pont-l'Abbé` → `pont-labbe`: for emails."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch == "-"))
    return kept.lower()


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _iso_dt(dt: datetime) -> str:
    # SQLAlchemy's SQLite storage format: compared as text, so it must match to the digit.
    return dt.isoformat(sep=" ", timespec="microseconds")


@dataclass(frozen=True)
class _Month:
    """One month of the billing calendar, formatted once for every customer."""

    year: int
    month: int
    key: int  # year * 12 + month - 1, for comparisons
    issue: date
    issue_iso: str
    debit: date
    debit_iso: str
    start_iso: str
    end_iso: str


def _calendar(today: date, months: int) -> list[_Month]:
    """The `months` invoice months up to the latest one issued by `today`, oldest first."""
    x = _current_invoice_month(today)
    out = []
    for k in range(-(months - 1), 1):
        y, m = _shift_month(*x, k)
        issue, debit = invoice_date(y, m), debit_date(y, m)
        out.append(
            _Month(
                y,
                m,
                y * 12 + m - 1,
                issue,
                issue.isoformat(),
                debit,
                debit.isoformat(),
                date(y, m, 1).isoformat(),
                _last_day(y, m).isoformat(),
            )
        )
    return out


def _max_number(connection: Connection, column: Any, prefix_len: int, reserved: int) -> int:
    """The largest number used in a prefixed string ID column, at least `reserved`."""
    # IDs are fixed-width, so the largest string is the largest number.
    found = connection.execute(select(func.max(column))).scalar()
    return max(reserved, int(found[prefix_len:]) if found else 0)


class _Generator:
    """Builds the rows of `n` customers, chunk by chunk, as tuples per table."""

    def __init__(self, connection: Connection, today: date, seed: int) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.months = _calendar(today, 12)
        self.first_key = self.months[0].key
        self.terms_current = current_terms_version(today)
        self.terms_old = (_old_terms_version(today), f"{add_months(today, -8):%Y-%m}")
        self.customer_n = _max_number(connection, Customer.id, 1, _RESERVED_CUSTOMERS)
        self.contract_n = _max_number(connection, Contract.id, 3, _RESERVED_CONTRACTS)
        self.invoice_n = _max_number(connection, Invoice.id, 4, _RESERVED_INVOICES)
        self.claim_n = _max_number(connection, Claim.id, 3, _RESERVED_CLAIMS)
        self.first_ascii = [_ascii(n) for n in _FIRST_NAMES]
        self.last_ascii = [_ascii(n) for n in _LAST_NAMES]
        # Subscription lines repeat for every customer on an offer: build them once.
        self.sub_lines: dict[tuple[str, int], _Line] = {}
        for offer, price, _, _ in _INTERNET_OFFERS:
            for mo in self.months:
                self.sub_lines[(offer, mo.key)] = _subscription_line(
                    offer, price, mo.year, mo.month
                )
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in _TABLE_ORDER}

    def take(self) -> dict[str, list[tuple[Any, ...]]]:
        rows, self.rows = self.rows, {t: [] for t in _TABLE_ORDER}
        return rows

    def customer(self) -> None:
        rng, today, rows = self.rng, self.today, self.rows
        self.customer_n += 1
        cust_id = f"C{self.customer_n:07d}"
        fi = rng.randrange(len(_FIRST_NAMES))
        li = rng.randrange(len(_LAST_NAMES))
        postcode, city = _CITIES[rng.randrange(len(_CITIES))]
        signed = today - timedelta(days=rng.randint(40, 5 * 365))
        email_domain = ("example.com", "example.net", "example.org")[self.customer_n % 3]
        rows["customers"].append(
            (
                cust_id,
                str(10_000_000 + self.customer_n),
                _FIRST_NAMES[fi],
                _LAST_NAMES[li],
                f"{self.first_ascii[fi]}.{self.last_ascii[li]}{self.customer_n}@{email_domain}",
                # 06 39 98 xx xx: the range ARCEP keeps for fiction, never a real line
                f"06 39 98 {rng.randrange(100):02d} {rng.randrange(100):02d}",
                f"{rng.randint(1, 48)} {_STREETS[rng.randrange(len(_STREETS))]}",
                postcode,
                city,
                "FR",
                self.terms_current if rng.random() < 0.85 else rng.choice(self.terms_old),
                (signed - timedelta(days=rng.randint(0, 20))).isoformat(),
            )
        )
        bank, bank_name = _BANKS[rng.randrange(len(_BANKS))]
        branch = f"{rng.randrange(100_000):05d}"
        if bank == "20041":  # La Banque Postale account numbers carry a letter
            account = f"{rng.randrange(10**7):07d}{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}"
            account += f"{rng.randrange(1000):03d}"
        else:
            account = f"{rng.randrange(10**11):011d}"
        rows["payment_methods"].append(
            (
                cust_id,
                "sepa_debit",
                french_iban(bank, branch, account),
                f"RUM-{cust_id}-{signed:%Y%m%d}",
                bank_name,
                _iso_dt(datetime.combine(signed, time(rng.randint(8, 19), rng.randrange(60)))),
            )
        )
        self.internet(cust_id, signed)
        draw = rng.random()
        if draw < 0.35:
            self.instalment_plan(cust_id)
        elif draw < 0.38:
            self.partwork(cust_id)
        if rng.random() < 0.03:
            self.claim(cust_id)

    def _contract_id(self) -> str:
        self.contract_n += 1
        return f"CT-{self.contract_n:07d}"

    def internet(self, cust_id: str, signed: date) -> None:
        rng, today, rows = self.rng, self.today, self.rows
        cid = self._contract_id()
        offer, price, activation, fee = _INTERNET_OFFERS[rng.randrange(len(_INTERNET_OFFERS))]
        received = signed + timedelta(days=rng.randint(3, 10))
        conn = received + timedelta(days=rng.randint(0, 8))
        commitment = rng.choice((0, 12, 24, 24))
        terminated = None
        if rng.random() < 0.05 and (today - conn).days > 90:
            terminated = today - timedelta(days=rng.randint(20, min(300, (today - conn).days - 60)))
        rows["contracts"].append(
            (
                cid, cust_id, "internet", offer,
                "terminated" if terminated else "active",
                price, activation, fee, signed.isoformat(), signed.isoformat(),
                conn.isoformat(), received.isoformat(), commitment,
                conn.isoformat() if commitment else None,
                None, None, None, None, None, None, _iso(terminated), None,
            )
        )  # fmt: skip
        for kind, value, serial in (
            ("box", 12000, f"BX4G-{rng.randrange(10_000):04d}-{rng.randrange(10_000):04d}"),
            ("antenna", 15000, f"ANT-THD-{rng.randint(10, 99)}-{rng.randrange(10**6):06d}"),
        ):
            if terminated is None:
                rows["equipment"].append((cid, kind, serial, value, False, None, None, None))
            else:
                returned = terminated + timedelta(days=rng.randint(3, 25))
                rows["equipment"].append(
                    (
                        cid, kind, serial, value, False, return_reference(cid, terminated),
                        equipment_return_deadline(terminated, False).isoformat(),
                        _iso(returned) if returned <= today else None,
                    )
                )  # fmt: skip
        if rng.random() < 0.04:
            start = datetime.combine(
                today - timedelta(days=rng.randint(2, 300)), time(rng.randrange(24))
            )
            end = start + timedelta(minutes=rng.randint(30, 60 * 60))
            rows["outages"].append((cid, _iso_dt(start), _iso_dt(end)))

        first_y, first_m = _shift_month(conn.year, conn.month, 1)
        first_key = first_y * 12 + first_m - 1
        last_issue = terminated or today
        for mo in self.months:
            if mo.key < first_key or mo.issue > last_issue:
                continue
            self.invoice_n += 1
            inv_id = f"INV-{self.invoice_n:09d}"
            if mo.key == first_key:
                lines = _first_invoice_lines(offer, price, activation, conn, mo.year, mo.month)
                start_iso = conn.isoformat()
            else:
                lines = [self.sub_lines[(offer, mo.key)]]
                start_iso = mo.start_iso
            total = sum(line[2] for line in lines)
            if mo.debit > today:
                status, debited = "unpaid", None  # issued, not debited yet
            else:
                draw = rng.random()
                if draw < 0.02:
                    status, debited = "unpaid", None
                elif draw < 0.025:
                    status, debited = "failed", None
                else:
                    status, debited = "paid", total
            rows["invoices"].append(
                (
                    inv_id, cust_id, cid, mo.issue_iso, mo.debit_iso, start_iso, mo.end_iso,
                    total, debited, status,
                )
            )  # fmt: skip
            for position, (label, kind, amount, why) in enumerate(lines, start=1):
                rows["invoice_lines"].append((inv_id, position, label, kind, amount, why))

    def instalment_plan(self, cust_id: str) -> None:
        rng, today, rows = self.rng, self.today, self.rows
        cid = self._contract_id()
        merchant, item = _MERCHANTS[rng.randrange(len(_MERCHANTS))]
        n = rng.choice((3, 4, 4, 10))
        purchase = rng.randint(150, 2500) * 100 + rng.choice((0, 0, 90, 99))
        bought = today - timedelta(days=rng.randint(0, 300))
        rows["contracts"].append(
            (
                cid, cust_id, "installments", f"Paiement en {n} fois — {item}", "active",
                0, 0, 0, bought.isoformat(), (bought + timedelta(days=3)).isoformat(),
                None, None, 0, None, merchant, purchase, None, None, None, None, None, None,
            )
        )  # fmt: skip
        base, rest = divmod(purchase, n)
        for k in range(n):
            due = add_months(bought, k)
            # past instalments are paid, a few failed; the rest are still to come
            status = "due" if due >= today else "failed" if rng.random() < 0.03 else "paid"
            due_iso = due.isoformat()
            amount = base + (rest if k == 0 else 0)  # the odd cents go on the first one
            rows["instalments"].append((cid, k + 1, due_iso, due_iso, amount, status, 0))

    def partwork(self, cust_id: str) -> None:
        rng, today, rows = self.rng, self.today, self.rows
        cid = self._contract_id()
        offer, total, price = _COLLECTIONS[rng.randrange(len(_COLLECTIONS))]
        first = today - timedelta(days=rng.randint(30, 700))
        rows["contracts"].append(
            (
                cid, cust_id, "partwork", offer, "active", 0, 0, 0,
                (first - timedelta(days=10)).isoformat(), (first + timedelta(days=1)).isoformat(),
                None, None, 0, None, None, None, total, price, first.isoformat(), 14, None, None,
            )
        )  # fmt: skip
        expected_by_today = min(total, (today - first).days // 14 + 1)
        shipping = timedelta(days=3)
        issue = 1
        while issue <= min(total, expected_by_today + 1):
            size = rng.choice((3, 4)) if issue > 2 and rng.random() < 0.1 else 1
            last = min(total, issue + size - 1)
            expected = first + timedelta(days=14 * (issue - 1))
            arrived = expected + timedelta(days=rng.randint(0, 2))
            rows["shipments"].append(
                (
                    cid, issue, last,
                    _iso(expected - timedelta(days=3)) if expected <= today + shipping else None,
                    expected.isoformat(), _iso(arrived) if arrived <= today else None,
                    size > 1, None,
                )
            )  # fmt: skip
            issue = last + 1
        for k in range(total // 2):
            due = add_months(first, k)
            due_iso = due.isoformat()
            status = "paid" if due < today else "due"
            rows["instalments"].append((cid, k + 1, due_iso, due_iso, 2 * price, status, 0))

    def claim(self, cust_id: str) -> None:
        rng, today, rows = self.rng, self.today, self.rows
        self.claim_n += 1
        claim_id = f"CL-{self.claim_n:07d}"
        category, subject = _CLAIM_SUBJECTS[rng.randrange(len(_CLAIM_SUBJECTS))]
        created = today - timedelta(days=rng.randint(3, 400))
        answered = created + timedelta(days=rng.randint(1, 20))
        if answered > today:
            status, answered_on = "open", None
        else:
            status = "closed" if rng.random() < 0.6 else "answered"
            answered_on = answered
        rows["claims"].append(
            (
                claim_id, cust_id, f"CT-{self.contract_n:07d}", category, subject, status,
                created.isoformat(), _iso(answered_on), None,
            )
        )  # fmt: skip
        sent = datetime.combine(created, time(rng.randint(8, 21), rng.randrange(60)))
        rows["claim_messages"].append(
            (claim_id, "customer", _iso_dt(sent), f"Bonjour, {subject.lower()}. Merci.")
        )
        if answered_on is not None:
            reply = datetime.combine(answered_on, time(rng.randint(9, 17), rng.randrange(60)))
            rows["claim_messages"].append(
                (claim_id, "support", _iso_dt(reply), "Bonjour, votre demande a été traitée.")
            )


_DATE_COLUMNS = {
    "created_on", "signed_on", "withdrawal_start", "first_connection_on",
    "equipment_received_on", "commitment_start", "first_issue_on", "terminated_on",
    "withdrawn_on", "return_deadline", "returned_on", "issue_date", "debit_date",
    "period_start", "period_end", "due_date", "original_due_date", "shipped_on",
    "expected_on", "received_on", "delayed_until", "last_answer_on", "escalated_on",
}  # fmt: skip
_DATETIME_COLUMNS = {"updated_at", "start", "end", "sent_at"}


def _converters(columns: Sequence[str]) -> list[Callable[[Any], Any] | None]:
    def to_date(v: Any) -> Any:
        return None if v is None else date.fromisoformat(v)

    def to_datetime(v: Any) -> Any:
        return None if v is None else datetime.fromisoformat(v)

    return [
        to_date if c in _DATE_COLUMNS else to_datetime if c in _DATETIME_COLUMNS else None
        for c in columns
    ]


def _insert_rows(connection: Connection, table: str, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    columns = _COLUMNS[table]
    if connection.dialect.name == "sqlite":
        # Straight to the driver: SQLAlchemy's per-value type processing would triple the
        # time, and the values are already in SQLite's storage format.
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        finally:
            cursor.close()
        return
    # Other databases get real date objects through Core's executemany.
    converters = _converters(columns)
    target: Table = Base.metadata.tables[table]
    dicts = [
        {c: (f(v) if f else v) for c, f, v in zip(columns, converters, row, strict=True)}
        for row in rows
    ]
    connection.execute(target.insert(), dicts)


def _generate_into(connection: Connection, n: int, today: date, seed: int) -> None:
    generator = _Generator(connection, today, seed)
    chunk = 2_000
    for done in range(0, n, chunk):
        for _ in range(min(chunk, n - done)):
            generator.customer()
        rows = generator.take()
        for table in _TABLE_ORDER:
            _insert_rows(connection, table, rows[table])


def seed_customers(engine: Engine, n: int, today: date, *, seed: int = 42) -> None:
    """Add `n` generated customers in one transaction, numbered after the existing ones."""
    if n <= 0:
        return
    with engine.connect() as connection:
        connection.execution_options(**{IMMEDIATE_OPTION: True})
        with connection.begin():
            _generate_into(connection, n, today, seed)


def seed_all(engine: Engine, today: date, customers: int = 0, *, seed: int = 42) -> bool:
    """Create the schema and seed it, unless it was seeded already; True when it seeded.

    One transaction covers the check, the schema and the data, and it starts by taking
    the database's write lock (`BEGIN IMMEDIATE` on SQLite, an advisory lock on
    PostgreSQL): two processes starting the sandbox at once cannot both seed, and a seed
    interrupted half-way leaves nothing behind (the "seeded_on" row is written last).
    """
    with engine.connect() as connection:
        connection.execution_options(**{IMMEDIATE_OPTION: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
            Base.metadata.create_all(connection)
            marker = connection.execute(
                select(ServiceSetting.value).where(ServiceSetting.key == SEEDED_KEY)
            ).first()
            if marker is not None:
                return False
            session = Session(bind=connection)
            seed_demo(session, today)
            session.close()
            if customers > 0:
                _generate_into(connection, customers, today, seed)
            connection.execute(
                insert(ServiceSetting),
                [
                    {"key": SEEDED_KEY, "value": today.isoformat()},
                    {"key": "seed_customers", "value": str(customers)},
                ],
            )
    return True
