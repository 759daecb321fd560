"""Claims: when the mediator may be seized, and outages that open a commercial gesture.

L612-2 of the Code de la consommation: the customer may seize the mediator once the
written claim has had no answer for 2 months (or at once after an unsatisfactory answer),
and must do so within 1 year of the written claim. The 1-year bound is exclusive here:
a claim written on 10 January 2026 may be escalated up to 9 January 2027 included.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.calendar import add_months
from domain.calendar import long_date as _d
from domain.i18n import N_, Text
from domain.rules import RuleRefusal

__all__ = [
    "GESTURE_OUTAGE_HOURS",
    "MERCHANT_FIRST_CATEGORIES",
    "check_claim_category",
    "check_escalation",
    "mediator_from",
    "mediator_until",
    "outage_entitles_gesture",
    "outage_hours",
]

GESTURE_OUTAGE_HOURS = 48
"""An outage strictly longer than this many consecutive hours opens a gesture."""

MERCHANT_FIRST_CATEGORIES = frozenset({"order_not_received", "not_as_ordered"})
"""Claim categories for which the merchant must be contacted first."""


def mediator_from(claim_date: date) -> date:
    """First day the mediator may be seized for an unanswered claim: claim + 2 months."""
    return add_months(claim_date, 2)


def mediator_until(claim_date: date) -> date:
    """The day escalation stops being possible (exclusive): claim + 1 year."""
    return add_months(claim_date, 12)


def check_escalation(claim_date: date, today: date, answered: bool) -> None:
    """Raise `RuleRefusal` unless the claim may be escalated to the mediator today.

    An answered claim may be escalated at once (the customer found the answer
    unsatisfactory); an unanswered one only from `mediator_from`. Neither after
    `mediator_until`.
    """
    until = mediator_until(claim_date)
    if today >= until:
        raise RuleRefusal(
            "escalation_too_late",
            "escalation.one_year",
            Text(
                N_(
                    "the mediator must be seized within one year of the written claim of "
                    "{claimed}, that is before {until}; today is {today}"
                ),
                claimed=_d(claim_date),
                until=_d(until),
                today=_d(today),
            ),
        )
    start = mediator_from(claim_date)
    if not answered and today < start:
        raise RuleRefusal(
            "escalation_too_early",
            "escalation.two_months",
            Text(
                N_(
                    "the claim of {claimed} has had no answer for less than two months; "
                    "the mediator can be seized from {start}, or as soon as an answer does not "
                    "satisfy you"
                ),
                claimed=_d(claim_date),
                start=_d(start),
            ),
        )


def check_claim_category(category: str, merchant_contacted: bool) -> None:
    """Refuse a claim about an order before the merchant has been contacted.

    For an order not received or not as ordered the merchant, not the payment provider,
    can act first; the seed business asks the customer to contact them beforehand.
    """
    if category in MERCHANT_FIRST_CATEGORIES and not merchant_contacted:
        raise RuleRefusal(
            "merchant_first",
            "claims.merchant_first",
            Text(
                N_(
                    "for a claim of category {category} the merchant must be contacted first; "
                    "file it once they have not solved the problem"
                ),
                category=repr(category),
            ),
        )


def outage_hours(start: datetime, end: datetime) -> float:
    """Length of an outage in hours (both datetimes naive or both aware)."""
    if end < start:
        raise ValueError(
            f"an outage cannot end ({end.isoformat()}) before it starts ({start.isoformat()})"
        )
    return (end - start).total_seconds() / 3600


def outage_entitles_gesture(start: datetime, end: datetime) -> bool:
    """More than 48 consecutive hours of outage entitle the customer to ask for a gesture."""
    return end - start > timedelta(hours=GESTURE_OUTAGE_HOURS)
