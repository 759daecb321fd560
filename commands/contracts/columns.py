"""The column specifications of contracts: the list, the detail page's fields and its
partwork progress."""

from __future__ import annotations

from cli.i18n import _
from cli.output import Column


def list_columns() -> list[Column]:
    # Built per call, not at import: headers are translated for the run's locale.
    return [
        Column("id", _("contract")),
        Column("kind", _("kind")),
        Column("offer", _("offer")),
        Column("monthly_price_cents", _("monthly price"), "money"),
        Column("commitment_start", _("commitment start"), "date"),
        Column("commitment_end", _("commitment end"), "date"),
        Column("status", _("status")),
    ]


def detail_fields() -> list[Column]:
    return [
        Column("id", _("contract")),
        Column("kind", _("kind")),
        Column("offer", _("offer")),
        Column("status", _("status")),
        Column("merchant", _("merchant")),
        Column("monthly_price_cents", _("monthly price"), "money"),
        Column("activation_fee_cents", _("activation fee"), "money"),
        Column("termination_fee_cents", _("termination fee"), "money"),
        Column("signed_on", _("signed on"), "date"),
        Column("first_connection_on", _("first connection"), "date"),
        Column("commitment_months", _("commitment (months)"), "int"),
        Column("commitment_start", _("commitment start"), "date"),
        Column("commitment_end", _("commitment end"), "date"),
        Column("withdrawal_deadline", _("withdrawal deadline"), "date"),
        Column("terminated_on", _("terminated on"), "date"),
    ]


def progress_fields() -> list[Column]:
    return [
        Column("issues_total", _("issues in the collection"), "int"),
        Column("price_per_issue_cents", _("price per issue"), "money"),
        Column("issues_expected_by_today", _("expected by today"), "int"),
        Column("issues_received", _("received"), "int"),
        Column("missing", _("missing issues")),
    ]
