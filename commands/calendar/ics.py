"""The events of `domain.agenda` in words, and the iCalendar document made of them.

Every event is an all-day event (DTSTART as a date, DTEND the day after, as RFC 5545
has all-day events end) marked TRANSPARENT: a debit does not make anyone busy. DTSTAMP is
the time the file was made and SEQUENCE the event's revision (`Event.sequence`), so a
calendar that imports the file again replaces each event by UID with the newer one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cli import __version__
from cli.i18n import _
from domain.agenda import Event
from domain.money import format_money

PRODID = f"-//moncompte//moncompte {__version__}//EN"


def summary(event: Event, locale: str) -> str:
    """The one line a calendar shows for the event, in the user's language."""
    amount = format_money(event.amount_cents, locale) if event.amount_cents is not None else ""
    contract = event.contract_id or ""
    kind = event.kind
    if kind == "invoice":
        if event.estimated:
            return _("Invoice for {contract} (about {amount})").format(
                contract=contract, amount=amount
            )
        return _("Invoice {invoice} for {contract}: {amount}").format(
            invoice=event.ref, contract=contract, amount=amount
        )
    if kind == "debit":
        if event.estimated:
            return _("Debit for {contract} (about {amount})").format(
                contract=contract, amount=amount
            )
        return _("Debit of {amount} for {contract} ({invoice})").format(
            amount=amount, contract=contract, invoice=event.ref
        )
    if kind == "instalment":
        return _("Instalment {number} of {contract}: {amount}").format(
            number=event.number, contract=contract, amount=amount
        )
    if kind == "withdrawal_deadline":
        return _("Last day to withdraw from {contract}").format(contract=contract)
    if kind == "commitment_end":
        return _("End of the commitment of {contract}").format(contract=contract)
    if kind == "equipment_return":
        if event.reference:
            return _("Return equipment {serial} of {contract} (reference {reference})").format(
                serial=event.ref, contract=contract, reference=event.reference
            )
        return _("Return equipment {serial} of {contract}").format(
            serial=event.ref, contract=contract
        )
    if kind == "mediator_from":
        return _("Claim {claim}: the mediator can be seized from today").format(claim=event.ref)
    return _("Claim {claim}: last day to seize the mediator").format(claim=event.ref)


def description(event: Event, locale: str) -> str:
    """A few more words for the event's details."""
    lines = []
    if event.estimated:
        lines.append(_("Estimated from the monthly price: the invoice is not issued yet."))
    if event.kind == "debit":
        lines.append(_("SEPA direct debit on the next business day on or after the 5th."))
    if event.kind == "equipment_return":
        lines.append(
            _(
                "Send it in a closed parcel marked with the return reference and keep the "
                "proof of deposit; equipment not returned in time is billed ({amount})."
            ).format(amount=format_money(event.amount_cents or 0, locale))
        )
    if event.kind == "withdrawal_deadline":
        lines.append(
            _("moncompte terminate {contract} --withdraw").format(contract=event.contract_id)
        )
    if event.kind in ("mediator_from", "mediator_last_day"):
        lines.append(_("moncompte claim escalate {claim}").format(claim=event.ref))
    return "\n".join(lines)


def build_calendar(events: Sequence[Event], *, name: str, locale: str, stamp: dt.datetime) -> bytes:
    """The iCalendar document (CRLF line endings, folded lines, as RFC 5545 wants)."""
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    utc_stamp = stamp.astimezone(dt.UTC).replace(microsecond=0)
    for event in events:
        item = icalendar.Event()
        item.add("uid", event.uid)
        item.add("dtstamp", utc_stamp)
        item.add("sequence", event.sequence)
        item.add("dtstart", event.day)
        item.add("dtend", event.day + dt.timedelta(days=1))
        item.add("summary", summary(event, locale))
        text = description(event, locale)
        if text:
            item.add("description", text)
        item.add("categories", [event.kind])
        item.add("transp", "TRANSPARENT")
        cal.add_component(item)
    return bytes(cal.to_ical())
