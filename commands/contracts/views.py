"""How contracts read to people: kinds and statuses in words, and the sections of the
detail page (equipment, options, shipments, outages, partwork progress)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from cli import i18n
from cli.i18n import _
from cli.output import Column, human
from domain.commitment import equipment_label


def kind_label(kind: str) -> str:
    labels = {
        "internet": _("internet"),
        "installments": _("pay in instalments"),
        "partwork": _("partwork"),
    }
    return labels.get(kind, kind)


def status_label(status: str) -> str:
    labels = {
        "active": _("active"),
        "pending_activation": _("pending activation"),
        "terminated": _("terminated"),
        "withdrawn": _("withdrawn"),
    }
    return labels.get(status, status)


def in_words(contract: Mapping[str, Any]) -> dict[str, Any]:
    """Kind and status in words for tables, under the same keys as in json/csv."""
    return {
        **contract,
        "kind": kind_label(str(contract.get("kind"))),
        "status": status_label(str(contract.get("status"))),
    }


def sections(
    contract: Mapping[str, Any], today: dt.date
) -> list[tuple[str, list[dict[str, Any]], list[Column]]]:
    """The nested lists of a contract as (heading, rows, columns), in reading order."""
    equipment = [
        {**e, "kind": equipment_label(e.get("kind"))} for e in contract.get("equipment") or []
    ]
    options = [
        {**o, "state": _("validated") if o.get("validated") else _("awaiting validation")}
        for o in contract.get("options") or []
    ]
    shipments = [_shipment_row(s, today) for s in contract.get("shipments") or []]
    outages = [dict(o) for o in contract.get("outages") or []]
    return [
        (
            _("Equipment"),
            equipment,
            [
                Column("kind", _("kind")),
                Column("serial", _("serial")),
                Column("value_cents", _("value"), "money"),
                Column("exchanged", _("exchanged"), "bool"),
                Column("return_reference", _("return reference")),
                Column("return_deadline", _("return by"), "date"),
                Column("returned_on", _("returned on"), "date"),
            ],
        ),
        (
            _("Options"),
            options,
            [
                Column("name", _("option")),
                Column("price_cents", _("price"), "money"),
                Column("added_on", _("added on"), "date"),
                Column("state", _("validation")),
            ],
        ),
        (
            _("Shipments"),
            shipments,
            [
                Column("issues", _("issues")),
                Column("grouped", _("grouped"), "bool"),
                Column("shipped_on", _("shipped on"), "date"),
                Column("expected_on", _("expected on"), "date"),
                Column("received_on", _("received on"), "date"),
                Column("state", _("state")),
            ],
        ),
        (
            _("Outages"),
            outages,
            [
                Column("start", _("start"), "date"),
                Column("end", _("end"), "date"),
                Column("hours", _("hours"), align="right"),
            ],
        ),
    ]


def _shipment_row(shipment: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    first, last = shipment.get("issue_from"), shipment.get("issue_to")
    issues = f"{first}" if first == last else f"{first}–{last}"
    return {**shipment, "issues": issues, "state": _shipment_state(shipment, today)}


def _shipment_state(shipment: Mapping[str, Any], today: dt.date) -> str:
    """In words: received, delayed (to when), overdue (expected and not received), or on its
    way. The server gives the dates; the judgement against today is the reader's help."""
    if shipment.get("received_on"):
        return _("received")
    delayed = shipment.get("delayed_until")
    if delayed:
        return _("delayed until {date}").format(date=_date(str(delayed)))
    expected = _parse(str(shipment.get("expected_on") or ""))
    if expected is not None and expected < today:
        return _("not received (expected {date})").format(date=_date(expected.isoformat()))
    if shipment.get("shipped_on"):
        return _("on its way")
    return _("not shipped yet")


def progress(partwork: Mapping[str, Any]) -> dict[str, Any]:
    missing: Sequence[int] = partwork.get("missing") or []
    return {
        "issues_total": partwork.get("issues_total"),
        "price_per_issue_cents": partwork.get("price_per_issue_cents"),
        "issues_expected_by_today": partwork.get("issues_expected_by_today"),
        "issues_received": partwork.get("issues_received"),
        "missing": ", ".join(str(n) for n in missing) if missing else _("none"),
    }


def _parse(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _date(value: str) -> str:
    """A date as people of the locale write it (the renderer's rule, for inline text)."""
    return human(value, "date", i18n.language())
