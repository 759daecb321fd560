"""Response shapes (the pydantic models that make the OpenAPI document) and the functions
that turn database rows into them.

The shapes are fixed by `docs/api.md`; change both together. Builders return plain dicts
(validated against the models by FastAPI on the way out), except on the bulk lookup path,
which serialises dicts straight to JSON for speed.

The modules, by resource: `pagination` (page sizes, cursors, `Page`), `formats` (UTC
datetimes, the bulk path's JSON default), `customers` (customers, `/me` and tokens, the
staff lookup), `contracts` (contracts, equipment, termination and withdrawal), `invoices`
(invoices and their lines), `schedule` (instalments and rescheduling), `bank` (the payment
method), `claims` (claims and messages) and `status` (the service status). This package
re-exports them all, so importers use `from server.serializers import ...`.
"""

from __future__ import annotations

from server.serializers.bank import PaymentMethodChangedOut, PaymentMethodOut, payment_method_out
from server.serializers.claims import (
    AttachmentOut,
    ClaimCategory,
    ClaimOut,
    ClaimPage,
    MessageOut,
    claim_out,
    message_out,
)
from server.serializers.contracts import (
    ContractKind,
    ContractOut,
    ContractPage,
    ContractStatus,
    EquipmentOut,
    EquipmentReturnOut,
    OptionOut,
    OutageOut,
    PartworkOut,
    QuoteOut,
    ShipmentOut,
    TerminationOut,
    WithdrawalOut,
    contract_out,
    equipment_out,
)
from server.serializers.customers import (
    AddressOut,
    CustomerOut,
    CustomerPage,
    LookupOut,
    LookupResultOut,
    MeOut,
    RestrictionOut,
    RevokedOut,
    TokenOut,
    customer_out,
)
from server.serializers.formats import json_default, utc
from server.serializers.invoices import (
    INVOICE_COLUMNS,
    InvoiceDetailOut,
    InvoiceLineOut,
    InvoiceOut,
    InvoicePage,
    InvoiceStatus,
    LineKind,
    debit_moved_reason,
    invoice_out,
    invoice_row_out,
)
from server.serializers.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Page,
    decode_cursor,
    encode_cursor,
)
from server.serializers.schedule import (
    InstalmentOut,
    NextDebitOut,
    RescheduleOptionsOut,
    ScheduleOut,
    instalment_out,
    schedule_out,
)
from server.serializers.status import MaintenanceOut, MediatorOut, StatusOut, SupportOut

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "encode_cursor",
    "decode_cursor",
    "Page",
    "utc",
    "json_default",
    "AddressOut",
    "RestrictionOut",
    "CustomerOut",
    "CustomerPage",
    "MeOut",
    "customer_out",
    "TokenOut",
    "RevokedOut",
    "LookupResultOut",
    "LookupOut",
    "EquipmentOut",
    "OptionOut",
    "ShipmentOut",
    "PartworkOut",
    "OutageOut",
    "ContractKind",
    "ContractStatus",
    "ContractOut",
    "ContractPage",
    "equipment_out",
    "contract_out",
    "EquipmentReturnOut",
    "QuoteOut",
    "TerminationOut",
    "WithdrawalOut",
    "LineKind",
    "InvoiceStatus",
    "InvoiceLineOut",
    "InvoiceOut",
    "InvoiceDetailOut",
    "InvoicePage",
    "debit_moved_reason",
    "INVOICE_COLUMNS",
    "invoice_row_out",
    "invoice_out",
    "InstalmentOut",
    "NextDebitOut",
    "ScheduleOut",
    "RescheduleOptionsOut",
    "instalment_out",
    "schedule_out",
    "PaymentMethodOut",
    "PaymentMethodChangedOut",
    "payment_method_out",
    "ClaimCategory",
    "AttachmentOut",
    "MessageOut",
    "ClaimOut",
    "ClaimPage",
    "message_out",
    "claim_out",
    "MaintenanceOut",
    "SupportOut",
    "MediatorOut",
    "StatusOut",
]
