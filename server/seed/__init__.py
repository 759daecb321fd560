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

The modules: `common` (IDs, passwords, `DEMO_REFS`, date helpers, IBANs), `invoices`
(invoice lines and invoices), `demo` (the demo customer's contracts and claims),
`accounts` (service settings, the clean customer, the users, `seed_demo`),
`generated_data` and `generated` (the bulk customers, `seed_customers`); `seed_all` below.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.orm import Session

from server.db import IMMEDIATE_OPTION, SEEDED_KEY
from server.migrate import ensure_schema
from server.models import ServiceSetting
from server.seed.accounts import seed_demo
from server.seed.common import (
    AGENT_OTP_SECRET,
    CLEAN_CUSTOMER_ID,
    DEMO_CUSTOMER_ID,
    DEMO_PASSWORD_HASHES,
    DEMO_PASSWORDS,
    DEMO_REFS,
    SETTING_KEYS,
    current_terms_version,
    demo_refs,
    french_iban,
)
from server.seed.generated import _generate_into, seed_customers

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

# Key of the PostgreSQL advisory lock held while seeding ("mc" in ASCII, then 1).
_PG_LOCK = 0x6D6301


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
            ensure_schema(connection)
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
