"""Database schema of the reference server (SQLAlchemy 2, declarative).

Money is integer cents, dates are `date`, instants are naive UTC `datetime`.
String IDs carry a prefix so that a support agent can tell what an ID is at a glance
(`C…` customer, `CT-…` contract, `INV-…` invoice, `CL-…` claim).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    customer_number: Mapped[str] = mapped_column(String(20), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), index=True)
    email: Mapped[str] = mapped_column(String(200), index=True)
    phone: Mapped[str] = mapped_column(String(30))
    address_line1: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), default="FR")
    terms_version_accepted: Mapped[str] = mapped_column(String(20))
    created_on: Mapped[date] = mapped_column(Date)

    restrictions: Mapped[list[Restriction]] = relationship(
        back_populates="customer", cascade="all, delete-orphan"
    )
    contracts: Mapped[list[Contract]] = relationship(
        back_populates="customer", cascade="all, delete-orphan"
    )


class Restriction(Base):
    """A feature of the account disabled for a while, with the reason (seed 000)."""

    __tablename__ = "restrictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    feature: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(String(300))
    since: Mapped[date] = mapped_column(Date)

    customer: Mapped[Customer] = relationship(back_populates="restrictions")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(10))  # "customer" | "staff"
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    otp_secret: Mapped[str | None] = mapped_column(String(64))


class Token(Base):
    """One login session: an access token and its refresh token, stored hashed."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    access_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)
    access_expires_at: Mapped[datetime] = mapped_column(DateTime)
    refresh_expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class LoginAttempt(Base):
    """Failed logins per key (username or client address) for rate limiting.

    Kept in the database rather than in memory so that several workers share it.
    """

    __tablename__ = "login_attempts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(DateTime)


class PaymentMethod(Base):
    __tablename__ = "payment_methods"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="sepa_debit")
    iban: Mapped[str] = mapped_column(String(34))  # never leaves the server unmasked
    mandate_reference: Mapped[str] = mapped_column(String(35))
    bank_name: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Contract(Base):
    __tablename__ = "contracts"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # internet | installments | partwork
    offer: Mapped[str] = mapped_column(String(100))
    # active | pending_activation | terminated | withdrawn
    status: Mapped[str] = mapped_column(String(20))
    monthly_price_cents: Mapped[int] = mapped_column(Integer, default=0)
    activation_fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    termination_fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    signed_on: Mapped[date] = mapped_column(Date)
    # withdrawal runs from the contract (services) or the first item received (goods)
    withdrawal_start: Mapped[date] = mapped_column(Date)
    first_connection_on: Mapped[date | None] = mapped_column(Date)
    equipment_received_on: Mapped[date | None] = mapped_column(Date)
    commitment_months: Mapped[int] = mapped_column(Integer, default=0)
    commitment_start: Mapped[date | None] = mapped_column(Date)
    merchant: Mapped[str | None] = mapped_column(String(100))
    purchase_cents: Mapped[int | None] = mapped_column(Integer)
    issues_total: Mapped[int | None] = mapped_column(Integer)
    price_per_issue_cents: Mapped[int | None] = mapped_column(Integer)
    first_issue_on: Mapped[date | None] = mapped_column(Date)
    issue_interval_days: Mapped[int | None] = mapped_column(Integer)
    terminated_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)

    customer: Mapped[Customer] = relationship(back_populates="contracts")
    equipment: Mapped[list[Equipment]] = relationship(cascade="all, delete-orphan")
    options: Mapped[list[ContractOption]] = relationship(cascade="all, delete-orphan")
    shipments: Mapped[list[Shipment]] = relationship(
        cascade="all, delete-orphan", order_by="Shipment.issue_from"
    )
    outages: Mapped[list[Outage]] = relationship(cascade="all, delete-orphan")
    instalments: Mapped[list[Instalment]] = relationship(
        cascade="all, delete-orphan", order_by="Instalment.number"
    )


class Equipment(Base):
    __tablename__ = "equipment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    serial: Mapped[str] = mapped_column(String(50))
    value_cents: Mapped[int] = mapped_column(Integer)
    exchanged: Mapped[bool] = mapped_column(Boolean, default=False)
    return_reference: Mapped[str | None] = mapped_column(String(40))
    return_deadline: Mapped[date | None] = mapped_column(Date)
    returned_on: Mapped[date | None] = mapped_column(Date)


class ContractOption(Base):
    __tablename__ = "contract_options"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    price_cents: Mapped[int] = mapped_column(Integer)
    added_on: Mapped[date] = mapped_column(Date)
    validated: Mapped[bool] = mapped_column(Boolean, default=False)


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    issue_from: Mapped[int] = mapped_column(Integer)
    issue_to: Mapped[int] = mapped_column(Integer)
    shipped_on: Mapped[date | None] = mapped_column(Date)
    expected_on: Mapped[date] = mapped_column(Date)
    received_on: Mapped[date | None] = mapped_column(Date)
    grouped: Mapped[bool] = mapped_column(Boolean, default=False)  # "colis plus"
    delayed_until: Mapped[date | None] = mapped_column(Date)


class Outage(Base):
    __tablename__ = "outages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    start: Mapped[datetime] = mapped_column(DateTime)
    end: Mapped[datetime | None] = mapped_column(DateTime)


class Instalment(Base):
    __tablename__ = "instalments"
    __table_args__ = (UniqueConstraint("contract_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    original_due_date: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # paid | due | failed | rescheduled
    rescheduled_count: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        Index("ix_invoices_customer_status", "customer_id", "status"),
        Index("ix_invoices_customer_issue", "customer_id", "issue_date"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    issue_date: Mapped[date] = mapped_column(Date)
    debit_date: Mapped[date] = mapped_column(Date)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    total_cents: Mapped[int] = mapped_column(Integer)
    debited_cents: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))  # paid | unpaid | failed

    lines: Mapped[list[InvoiceLine]] = relationship(
        cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    # subscription | prorata | activation | out_of_plan | option | instalment | fee | gesture
    kind: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int] = mapped_column(Integer)
    explanation: Mapped[str] = mapped_column(Text)


class Claim(Base):
    __tablename__ = "claims"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[str | None] = mapped_column(ForeignKey("contracts.id"))
    category: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # open | answered | escalated | closed
    created_on: Mapped[date] = mapped_column(Date)
    last_answer_on: Mapped[date | None] = mapped_column(Date)
    escalated_on: Mapped[date | None] = mapped_column(Date)

    messages: Mapped[list[ClaimMessage]] = relationship(
        cascade="all, delete-orphan", order_by="ClaimMessage.id"
    )


class ClaimMessage(Base):
    __tablename__ = "claim_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.id"), index=True)
    author: Mapped[str] = mapped_column(String(10))  # customer | support
    sent_at: Mapped[datetime] = mapped_column(DateTime)
    body: Mapped[str] = mapped_column(Text)

    attachments: Mapped[list[Attachment]] = relationship(cascade="all, delete-orphan")


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("claim_messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class IdempotencyRecord(Base):
    """The first answer to a mutation, replayed for the same caller and key."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class MaintenanceWindow(Base):
    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    start: Mapped[datetime] = mapped_column(DateTime)
    end: Mapped[datetime] = mapped_column(DateTime)
    description: Mapped[str] = mapped_column(String(300))


class ServiceSetting(Base):
    """Key/value settings of the service: current terms version, support channels."""

    __tablename__ = "service_settings"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
