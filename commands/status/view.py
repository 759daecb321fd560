"""The `status` screen: a title, the contracts, what to do and by when, what is urgent.

Short by design (one screen): ended contracts with nothing left to do are left out and the
lists are cut, each cut said with the number left out and `--all`. Words go through `_()`;
the overview's dates and amounts are shown with the renderer's human formats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cli.i18n import _, localized, ngettext
from cli.output import Column, Renderer, human
from commands.contracts.views import kind_label, status_label
from domain.commitment import equipment_label
from domain.upcoming import LIVE_STATUSES

MAX_TODO = 8
MAX_URGENT = 4


def _money(cents: Any, locale: str) -> str:
    return human(cents, "money", locale)


def _date(value: Any, locale: str) -> str:
    return human(value, "date", locale)


def contract_columns() -> list[Column]:
    return [
        Column("id", _("contract")),
        Column("kind", _("kind")),
        Column("debit_date", _("next debit"), "date"),
        Column("debit_cents", _("amount"), "money"),
        Column("commitment_end", _("committed until"), "date"),
        Column("termination_fee_cents", _("fee if terminated today"), "money"),
    ]


def todo_columns() -> list[Column]:
    return [Column("date", _("by"), "date"), Column("what", _("what"))]


def _contract_row(c: Mapping[str, Any]) -> dict[str, Any]:
    debit = c.get("next_debit") or {}
    kind = kind_label(str(c.get("kind")))
    if c.get("status") != "active":
        kind = f"{kind} ({status_label(str(c.get('status')))})"
    amount = debit.get("amount_cents")
    return {
        "id": c.get("id"),
        "kind": kind,
        "debit_date": debit.get("date"),
        # An amount projected from the price (the invoice is not issued yet) says so.
        "debit_cents": amount,
        "estimated": debit.get("source") == "estimate",
        "commitment_end": c.get("commitment_end"),
        "termination_fee_cents": c.get("termination_fee_cents"),
    }


def _shown(c: Mapping[str, Any]) -> bool:
    return c.get("status") in LIVE_STATUSES or c.get("equipment_return") is not None


def _unpaid_line(item: Mapping[str, Any], locale: str) -> str:
    amount = _money(item.get("amount_cents"), locale)
    late = int(item.get("days_late") or 0)
    if item.get("kind") == "invoice":
        text = _("Invoice {id} unpaid: {amount}").format(id=item.get("ref"), amount=amount)
    else:
        contract, _sep, number = str(item.get("ref")).partition("#")
        if item.get("status") == "failed":
            text = _("Instalment {number} of {contract} failed: {amount}")
        else:
            text = _("Instalment {number} of {contract} overdue: {amount}")
        text = text.format(number=number, contract=contract, amount=amount)
    if late:
        text += " (" + ngettext("{n} day late", "{n} days late", late).format(n=late) + ")"
    return text


def _equipment_lines(c: Mapping[str, Any], locale: str) -> list[tuple[str | None, str]]:
    ret = c.get("equipment_return")
    if not ret:
        return []
    groups: dict[tuple[str, str], list[str]] = {}
    for item in ret.get("items") or []:
        key = (str(item.get("deadline")), str(item.get("reference") or ""))
        kind = localized(equipment_label(item.get("kind")))
        groups.setdefault(key, []).append(f"{kind} {item.get('serial')}")
    lines: list[tuple[str | None, str]] = []
    for (deadline, reference), things in sorted(groups.items()):
        if reference:
            text = _("Return {items} of {contract} with reference {reference}")
        else:
            text = _("Return {items} of {contract}")
        lines.append(
            (
                deadline,
                text.format(items=", ".join(things), contract=c.get("id"), reference=reference),
            )
        )
    return lines


def _claim_line(claim: Mapping[str, Any]) -> tuple[str | None, str]:
    step = claim.get("next_step")
    cid = claim.get("id")
    if step == "wait_answer":
        text = _("Claim {id}: waiting for an answer; the mediator can be seized from this date")
        return (claim.get("mediator_from"), text.format(id=cid))
    if step == "escalate":
        return (
            claim.get("mediator_last_day"),
            _(
                "Claim {id}: no answer for over 2 months; seize the mediator by this date "
                "(moncompte claim escalate {id})"
            ).format(id=cid),
        )
    if step == "reply_or_escalate":
        return (
            claim.get("mediator_last_day"),
            _(
                "Claim {id} answered: reply, or seize the mediator by this date if the "
                "answer does not satisfy you"
            ).format(id=cid),
        )
    if step == "wait_mediator":
        return (None, _("Claim {id} escalated to the mediator: wait for the answer").format(id=cid))
    return (
        None,
        _("Claim {id}: the one-year limit to seize the mediator has passed").format(id=cid),
    )


def todo(overview: Mapping[str, Any], locale: str) -> list[dict[str, Any]]:
    """What to do, each with the date it is due by (None: no date), soonest first."""
    lines: list[tuple[str | None, str]] = [
        (str(i.get("date")) if i.get("date") else None, _unpaid_line(i, locale))
        for i in overview.get("unpaid") or []
    ]
    for c in overview.get("contracts") or []:
        lines += _equipment_lines(c, locale)
        if c.get("withdrawal_deadline"):
            lines.append(
                (
                    c["withdrawal_deadline"],
                    _("Withdrawal from {contract} still possible by this date").format(
                        contract=c.get("id")
                    ),
                )
            )
    lines += [_claim_line(c) for c in overview.get("claims") or []]
    ordered = sorted(lines, key=lambda line: (line[0] is None, line[0] or ""))
    return [{"date": d, "what": text} for d, text in ordered]


def _more(out: Renderer, hidden: int) -> None:
    if hidden:
        out.text(
            ngettext(
                "... and {n} more (moncompte status --all)",
                "... and {n} more (moncompte status --all)",
                hidden,
            ).format(n=hidden)
        )


def _section(out: Renderer, title: str) -> None:
    out.text("")
    out.text(title)


def render_screen(
    out: Renderer, overview: Mapping[str, Any], locale: str, *, show_all: bool
) -> None:
    """The overview for people: short unless `show_all`."""
    who = overview.get("name") or overview.get("customer_id") or "?"
    out.text(
        _("Account of {name} ({customer}) on {date}").format(
            name=who,
            customer=overview.get("customer_id"),
            date=_date(overview.get("today"), locale),
        )
    )
    soonest = overview.get("next_debit")
    if soonest:
        out.text(
            _("Next debit: {amount} on {date} ({contract})").format(
                amount=_money(soonest.get("amount_cents"), locale),
                date=_date(soonest.get("date"), locale),
                contract=soonest.get("contract_id"),
            )
        )
    if overview.get("unpaid_cents"):
        out.text(_("Unpaid: {amount}").format(amount=_money(overview.get("unpaid_cents"), locale)))

    contracts: Sequence[Mapping[str, Any]] = overview.get("contracts") or []
    shown = [c for c in contracts if show_all or _shown(c)]
    out.text("")
    if shown:
        rows = [_contract_row(c) for c in shown]
        out.render(rows, contract_columns(), title=_("Contracts"))
        if any(r["estimated"] for r in rows):
            out.text(_("Amounts of invoices not issued yet are the monthly price."))
    else:
        out.text(_("No contract on this account."))
    hidden = len(contracts) - len(shown)
    if hidden:
        out.text(
            ngettext(
                "{n} ended contract not shown (--all shows it)",
                "{n} ended contracts not shown (--all shows them)",
                hidden,
            ).format(n=hidden)
        )

    items = todo(overview, locale)
    rich = out.fmt == "table" and out.isatty  # Rich shows the title; plain tables do not
    if items:
        if rich:
            out.text("")
        else:
            _section(out, _("To do"))
        kept = items if show_all else items[:MAX_TODO]
        out.render(kept, todo_columns(), title=_("To do"))
        _more(out, len(items) - len(kept))
    else:
        _section(out, _("To do"))
        out.text(_("Nothing to do."))

    urgent: Sequence[Mapping[str, Any]] = overview.get("urgent") or []
    if urgent:
        _section(out, _("Urgent (moncompte diagnose)"))
        kept_urgent = urgent if show_all else urgent[:MAX_URGENT]
        for u in kept_urgent:
            # The finding is diagnose's (a domain Text): in the user's language here, in
            # English in -o json.
            line = _("{check}: {finding}").format(
                check=u.get("check"), finding=localized(u.get("finding"))
            )
            out.text(f"- {line}")
        _more(out, len(urgent) - len(kept_urgent))
