"""The column specifications of invoices: the list, one invoice's header, its lines.

Built per call, not at import: headers are translated for the run's locale.
"""

from __future__ import annotations

from cli.i18n import _
from cli.output import Column


def list_columns() -> list[Column]:
    # Keys are the API's field names (what json/csv print); headers are for people.
    return [
        Column("id", _("invoice")),
        Column("contract_id", _("contract")),
        Column("issue_date", _("issued"), "date"),
        Column("period_start", _("from"), "date"),
        Column("period_end", _("to"), "date"),
        Column("debit_date", _("debit"), "date"),
        Column("total_cents", _("total"), "money"),
        Column("debited_cents", _("debited"), "money"),
        Column("status", _("status")),
    ]


def machine_columns() -> list[Column]:
    """json/ndjson/csv: every field of the API's list item, under its own name."""
    return [
        *list_columns(),
        Column("debit_date_moved_reason", "debit_date_moved_reason"),
    ]


def header_fields() -> list[Column]:
    return [
        Column("id", _("invoice")),
        Column("contract_id", _("contract")),
        Column("issue_date", _("issued"), "date"),
        Column("period_start", _("period from"), "date"),
        Column("period_end", _("period to"), "date"),
        Column("debit_date", _("debit date"), "date"),
        Column("debit_date_moved_reason", _("debit date moved")),
        Column("total_cents", _("total"), "money"),
        Column("debited_cents", _("debited"), "money"),
        Column("status", _("status")),
    ]


def line_columns() -> list[Column]:
    return [
        Column("label", _("line")),
        Column("kind", _("kind")),
        Column("amount_cents", _("amount"), "money"),
    ]


def machine_line_columns() -> list[Column]:
    return [
        Column("invoice_id", "invoice_id"),
        Column("position", "position", "int"),
        Column("label", "label"),
        Column("kind", "kind"),
        Column("amount_cents", "amount_cents", "money"),
        Column("explanation", "explanation"),
    ]
