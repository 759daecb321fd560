"""The demo customer's planted data: the internet contract mid-commitment, the partwork
collection, the 4x instalment plan, the terminated contract, the claims, and the customer
with its restriction."""

from __future__ import annotations

from datetime import date, timedelta

from domain.calendar import add_months, invoice_date
from domain.commitment import equipment_return_deadline, return_reference
from server.documents import _MOIS
from server.models import (
    Claim,
    ClaimMessage,
    Contract,
    ContractOption,
    Customer,
    Equipment,
    Instalment,
    Invoice,
    Outage,
    Restriction,
    Shipment,
)
from server.seed.common import (
    DEMO_CUSTOMER_ID,
    DEMO_REFS,
    _at,
    _DemoDates,
    _month_name,
    _shift_month,
    demo_refs,
)
from server.seed.invoices import _first_invoice_lines, _invoice, _subscription_line


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


def _de(word: str) -> str:
    """French elision: "d'août", "de mars"."""
    return f"d'{word}" if word[0] in "aeiouyéèh" else f"de {word}"


def _demo_claims(d: _DemoDates, customer_id: str) -> list[Claim]:
    old = d.today - timedelta(days=95)
    recent = d.today - timedelta(days=8)
    answered = d.today - timedelta(days=6)
    # Claire writes in French: "la facture d'août 2026", not "de August 2026".
    year, month = d.month(6)
    mismatch_month = f"{_MOIS[month - 1]} {year}"
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
                        f"Bonjour, le prélèvement de la facture {_de(mismatch_month)} "
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
