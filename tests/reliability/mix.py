"""The request mix of the load test and of bench/load.py: one definition for both.

(weight, who, method, path): who is "demo", "clean", "staff" (the seeded logins) or
"anyone" (no token). About 5 % writes (claims filed with an `Idempotency-Key`), 2 % PDFs,
3 % 20-customer bulk lookups; the rest are the customer's and the staff's reads.
"""

from __future__ import annotations

MIX: list[tuple[int, str, str, str]] = [
    (10, "demo", "GET", "/v1/contracts"),
    (10, "demo", "GET", "/v1/invoices"),
    (8, "demo", "GET", "/v1/invoices/INV-000000004"),
    (8, "demo", "GET", "/v1/contracts/CT-0000002"),
    (6, "demo", "GET", "/v1/contracts/CT-0000003/schedule"),
    (6, "demo", "GET", "/v1/contracts/CT-0000001/termination-quote"),
    (6, "demo", "GET", "/v1/claims"),
    (5, "demo", "GET", "/v1/payment-method"),
    (5, "demo", "GET", "/v1/me"),
    (5, "clean", "GET", "/v1/invoices"),
    (5, "clean", "GET", "/v1/contracts/CT-0000006/schedule"),
    (5, "staff", "GET", "/v1/customers?limit=50"),
    (5, "staff", "GET", "/v1/customers/C0000002/contracts"),
    (3, "staff", "POST", "/v1/lookup"),
    (3, "anyone", "GET", "/v1/status"),
    (2, "demo", "GET", "/v1/invoices/INV-000000001/pdf"),
    (5, "clean", "POST", "/v1/claims"),
]
CLAIM = {"category": "billing", "subject": "Charge", "message": "Un débit en trop"}
