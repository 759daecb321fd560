"""What every part of the seed shares: the fixed IDs, passwords and references of the demo
accounts (`DEMO_REFS`), the date helpers (month names, shifting months, terms versions),
French IBANs, and the dates of the demo story."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from domain.calendar import add_months, days_in_month, debit_moved_reason, invoice_date
from domain.iban import iban_check_digits, rib_key
from server.db import SEEDED_KEY

SEED_VERSION = "1"

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
# the dates of the demo story


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
