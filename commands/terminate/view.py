"""How `terminate` shows things: the termination quote, the termination done, the
equipment to return, and the money and dates in them."""

from __future__ import annotations

from typing import Any

from cli.context import Env
from cli.i18n import _, localized
from cli.output import Column, Renderer, human
from domain.commitment import equipment_label
from domain.money import format_money

MACHINE_FORMATS = ("json", "ndjson", "csv", "tsv")

# The quote as raw values, for -o ndjson/csv/tsv (-o json prints the server's object).
RAW_QUOTE_COLUMNS = [
    Column(k, k)
    for k in (
        "contract_id",
        "effective_date",
        "months_remaining_year1",
        "months_remaining_year2",
        "monthly_price_cents",
        "year1_cents",
        "year2_cents",
        "chatel_fee_cents",
        "provider_fee_cents",
        "total_cents",
        "commitment_end",
        "equipment_return.reference",
        "equipment_return.deadline",
        "withdrawal_possible",
        "withdrawal_deadline",
    )
]


def stderr_renderer(env: Env) -> Renderer:
    """Tables shown before a prompt belong with the prompt, on stderr: stdout is the result."""
    return Renderer(
        env.stderr,
        env.stderr,
        fmt="table",
        isatty=bool(env.stderr_isatty),
        color=False,
        locale=env.locale,
    )


def render_quote(env: Env, out: Renderer, contract: dict[str, Any], quote: dict[str, Any]) -> None:
    if out.fmt == "json":
        out.json({**quote, "commitment_end": contract.get("commitment_end")})
        return
    if out.fmt in MACHINE_FORMATS:
        out.render([{**quote, "commitment_end": contract.get("commitment_end")}],
                   RAW_QUOTE_COLUMNS)  # fmt: skip
        return
    fields = _quote_fields(env, contract, quote)
    out.render_one(
        {key: value for key, _label, value in fields},
        [Column(key, label) for key, label, _value in fields],
        title=_("Termination quote"),
    )


def _quote_fields(
    env: Env, contract: dict[str, Any], q: dict[str, Any]
) -> list[tuple[str, str, str]]:
    """(key, label, value) lines of the quote as a person reads it."""
    price = m(env, q["monthly_price_cents"])
    end = contract.get("commitment_end")
    ret = q.get("equipment_return")
    if ret:
        items = ", ".join(
            f"{localized(equipment_label(i.get('kind')))} {i.get('serial')}"
            for i in ret.get("items") or []
        )
        returning = _("{items}: by {deadline}, reference {reference}").format(
            items=items or "-", deadline=d(env, ret["deadline"]), reference=ret["reference"]
        )
    else:
        returning = _("none")
    deadline = d(env, q.get("withdrawal_deadline"))
    if q.get("withdrawal_possible"):
        withdrawal = _("possible until {date} (terminate --withdraw)").format(date=deadline)
    else:
        withdrawal = _("no longer possible (the period ended on {date})").format(date=deadline)
    year1 = _("{n} month(s) left × {price} = {amount}").format(
        n=q["months_remaining_year1"], price=price, amount=m(env, q["year1_cents"])
    )
    year2 = _("{n} month(s) left × {price} × 25 % = {amount}").format(
        n=q["months_remaining_year2"], price=price, amount=m(env, q["year2_cents"])
    )
    return [
        ("contract", _("Contract"), f"{q['contract_id']} — {contract.get('offer') or '-'}"),
        ("effective_date", _("Takes effect on"), d(env, q["effective_date"])),
        ("monthly_price", _("Monthly price"), price),
        ("year1", _("Year 1, owed in full"), year1),
        ("year2", _("Year 2, 25 %"), year2),
        ("chatel_fee", _("Early termination fee (loi Chatel)"), m(env, q["chatel_fee_cents"])),
        ("provider_fee", _("Provider's termination fee"), m(env, q["provider_fee_cents"])),
        ("total", _("Total"), m(env, q["total_cents"])),
        ("commitment_end", _("Commitment ends on"), d(env, end) if end else _("no commitment")),
        ("equipment_return", _("Equipment to return"), returning),
        ("withdrawal", _("Withdrawal (full refund)"), withdrawal),
    ]


def render_termination(env: Env, result: dict[str, Any]) -> None:
    contract = result.get("contract") or {}
    quote = result.get("quote") or {}
    env.out.text(
        _("Contract {contract} is terminated, effective {date}.").format(
            contract=contract.get("id", "-"),
            date=d(env, contract.get("terminated_on") or quote.get("effective_date")),
        )
    )
    env.out.text(
        _("Termination fee: {total}, on your last invoice of {date}.").format(
            total=m(env, quote.get("total_cents")), date=d(env, result.get("last_invoice_on"))
        )
    )
    ret = result.get("equipment_return")
    items = (ret or {}).get("items") or []
    lines = equipment_lines(
        env,
        [
            {**item, "return_reference": ret["reference"], "return_deadline": ret["deadline"]}
            for item in items
        ]
        if ret
        else [],
    )
    for line in lines:
        env.out.text(line)


def pending_equipment(contract: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e
        for e in contract.get("equipment") or []
        if e.get("returned_on") is None and e.get("return_reference")
    ]


def equipment_lines(env: Env, items: list[dict[str, Any]]) -> list[str]:
    """What to do with lent equipment: the reference, the deadline, the closed parcel."""
    if not items:
        return [_("No equipment to return.")]
    reference = items[0]["return_reference"]
    deadline = max(str(i["return_deadline"]) for i in items)
    lines = [
        _("Return the equipment by {deadline} with the return reference {reference}:").format(
            deadline=d(env, deadline), reference=reference
        )
    ]
    for item in items:
        lines.append(
            _("  - {kind} {serial} (price-list value {value}), by {deadline}").format(
                kind=localized(equipment_label(item.get("kind"))),
                serial=item.get("serial"),
                value=m(env, item.get("value_cents")),
                deadline=d(env, item.get("return_deadline")),
            )
        )
    lines.append(
        _(
            "Send it in a closed parcel showing the reference {reference}; equipment not "
            "returned in time is billed at its price-list value."
        ).format(reference=reference)
    )
    return lines


# --- small helpers ----------------------------------------------------------------------


def m(env: Env, cents: Any) -> str:
    return format_money(cents, env.locale) if isinstance(cents, int) else "-"


def d(env: Env, value: Any) -> str:
    return human(value, "date", env.locale)
