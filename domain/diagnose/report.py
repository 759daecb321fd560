"""The support file: the references concerned, the report as data, and as Markdown."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from domain.diagnose.account import AccountData
from domain.diagnose.findings import Finding
from domain.i18n import N_, Text

# --- the support file --------------------------------------------------------------------


REF_KINDS = (("CT-", "contracts"), ("INV-", "invoices"), ("CL-", "claims"), ("RM-", "returns"))


def references(findings: Iterable[Finding]) -> dict[str, list[str]]:
    """The IDs concerned by non-ok findings, by kind (what support asks for first)."""
    out: dict[str, list[str]] = {kind: [] for _, kind in REF_KINDS}
    out["other"] = []
    for f in findings:
        if f.status in ("ok", "skip"):
            continue
        for ref in f.refs:
            kind = next((k for prefix, k in REF_KINDS if ref.startswith(prefix)), "other")
            if ref not in out[kind]:
                out[kind].append(ref)
    return out


def build_report(
    findings: Sequence[Finding],
    data: AccountData | None,
    *,
    service: Mapping[str, Any] | None,
    generated_at: datetime,
    tool: Mapping[str, str],
    system: Mapping[str, str],
    api_url: str | None,
    summary: Mapping[str, Any],
    account_error: str | None = None,
) -> dict[str, Any]:
    """The support file as data. Only listed fields are copied: no token, password or full
    IBAN can reach it, whatever the API or the findings carry."""
    customer: dict[str, Any] | None = None
    contracts: list[dict[str, Any]] = []
    payment: dict[str, Any] | None = None
    if data is not None:
        c = data.customer
        if c:
            customer = {
                "customer_number": c.get("customer_number"),
                "name": " ".join(str(p) for p in (c.get("first_name"), c.get("last_name")) if p),
                "terms_version_accepted": c.get("terms_version_accepted"),
            }
        contracts = [
            {k: ct.get(k) for k in ("id", "kind", "offer", "status", "signed_on", "merchant")}
            for ct in data.contracts
        ]
        pm = data.payment_method
        if pm:
            payment = {k: pm.get(k) for k in ("iban_masked", "mandate_reference", "bank_name")}
    support = dict((service or {}).get("support") or {})
    mediator = dict((service or {}).get("mediator") or {})
    return {
        "generated_at": generated_at.astimezone(UTC).isoformat(timespec="seconds"),
        "tool": dict(tool),
        "system": dict(system),
        "api_url": api_url,
        "customer": customer,
        "account_error": account_error,
        "contracts": contracts,
        "payment_method": payment,
        "references": references(findings),
        "problems": [
            {k: f.to_dict()[k] for k in ("id", "status", "finding", "remedy", "refs", "checked_at")}
            for f in findings
            if f.status in ("warn", "fail")
        ],
        "checks": [
            {k: f.to_dict()[k] for k in ("id", "status", "finding", "checked_at")} for f in findings
        ],
        "summary": dict(summary),
        "support": {k: support.get(k) for k in ("phone", "email", "form_url", "postal_address")},
        "mediator": {k: mediator.get(k) for k in ("name", "url")} if mediator else None,
    }


def _md(text: Any) -> str:
    return "-" if text is None or text == "" else str(text).replace("|", "\\|").replace("\n", " ")


REF_LABELS = {
    "contracts": N_("contracts"),
    "invoices": N_("invoices"),
    "claims": N_("claims"),
    "returns": N_("returns"),
    "other": N_("other"),
}
CHANNELS = (
    ("phone", N_("Phone: {value}")),
    ("email", N_("Email: {value}")),
    ("form_url", N_("Form: {value}")),
    ("postal_address", N_("Postal address: {value}")),
)


def _table_head(title: str, headers: list[str]) -> list[str]:
    """A section's heading and the head of its Markdown table."""
    return [
        "",
        "## " + title,
        "",
        "| " + " | ".join(headers) + " |",
        "|" + " --- |" * len(headers),
    ]


def report_markdown(report: Mapping[str, Any], say: Callable[[Any], str] = str) -> str:
    """The support file for people: what to read out or paste into the contact form.

    `say` words a `Text` in the reader's language (the CLI's `localized`; English by
    default). Headings, labels, findings and remedies are worded; check ids, statuses,
    references, codes (a contract's kind and status) and timestamps stay as they are, for
    support to search.
    """

    def t(template: str, **args: Any) -> str:
        return say(Text(template, **args))

    def md(value: Any) -> str:
        return _md(say(value) if value is not None else None)

    lines = ["# " + t(N_("Support file (moncompte diagnose)")), ""]
    lines.append(
        t(
            N_("Generated {moment} - {summary}"),
            moment=str(report["generated_at"]),
            summary=report["summary"].get("text", ""),
        )
    )
    lines += ["", "## " + t(N_("Customer")), ""]
    customer = report.get("customer")
    if customer:
        lines.append(
            "- " + t(N_("Customer number: {value}"), value=_md(customer.get("customer_number")))
        )
        lines.append("- " + t(N_("Name: {value}"), value=_md(customer.get("name"))))
        lines.append(
            "- "
            + t(
                N_("Terms version accepted: {value}"),
                value=_md(customer.get("terms_version_accepted")),
            )
        )
    else:
        why = report.get("account_error") or Text(N_("account data unavailable"))
        lines.append("- " + t(N_("Unknown ({reason})"), reason=md(why)))
    pm = report.get("payment_method")
    if pm:
        lines.append(
            "- "
            + t(
                N_("Payment: SEPA debit {iban} ({bank}), mandate {mandate}"),
                iban=_md(pm.get("iban_masked")),
                bank=_md(pm.get("bank_name")),
                mandate=_md(pm.get("mandate_reference")),
            )
        )
    if report.get("contracts"):
        headers = [t(N_("id")), t(N_("kind")), t(N_("offer")), t(N_("status"))]
        lines += _table_head(t(N_("Contracts")), headers)
        for c in report["contracts"]:
            lines.append(
                f"| {_md(c['id'])} | {_md(c['kind'])} | {_md(c['offer'])} | {_md(c['status'])} |"
            )
    lines += ["", "## " + t(N_("What failed")), ""]
    problems = report.get("problems") or []
    if not problems:
        lines.append(t(N_("Nothing: every check passed or was skipped.")))
    for p in problems:
        cited = f" [{', '.join(p['refs'])}]" if p.get("refs") else ""
        line = t(
            N_("{status} {check} at {moment}: {finding}"),
            status=f"**{p['status']}**",
            check=f"`{p['id']}`",
            moment=_md(p.get("checked_at")),
            finding=md(p["finding"]),
        )
        lines.append(f"- {line}{cited}")
        if p.get("remedy"):
            lines.append("  - " + t(N_("what to do: {remedy}"), remedy=md(p["remedy"])))
    refs = report.get("references") or {}
    if any(refs.values()):
        lines += ["", "## " + t(N_("References concerned")), ""]
        for kind, ids in refs.items():
            if ids:
                label = t(REF_LABELS[kind]) if kind in REF_LABELS else kind
                lines.append("- " + t(N_("{kind}: {ids}"), kind=label, ids=", ".join(ids)))
    headers = [t(N_("check")), t(N_("status")), t(N_("finding"))]
    lines += _table_head(t(N_("All checks")), headers)
    for c in report.get("checks") or []:
        lines.append(f"| {_md(c['id'])} | {_md(c['status'])} | {md(c['finding'])} |")
    lines += ["", "## " + t(N_("System")), ""]
    tool, system = report.get("tool") or {}, report.get("system") or {}
    lines.append(
        "- "
        + t(
            N_("Tool: {name} {version}"),
            name=_md(tool.get("name")),
            version=_md(tool.get("version")),
        )
    )
    for key, value in system.items():  # platform, python: names of things, as they are
        lines.append(f"- {key}: {_md(value)}")
    lines.append("- " + t(N_("API: {url}"), url=_md(report.get("api_url"))))
    lines += ["", "## " + t(N_("Support channels")), ""]
    support = report.get("support") or {}
    for key, label in CHANNELS:
        lines.append("- " + t(label, value=_md(support.get(key))))
    mediator = report.get("mediator")
    if mediator and mediator.get("name"):
        lines.append(
            "- "
            + t(
                N_("Mediator: {name} {url}"),
                name=_md(mediator.get("name")),
                url=_md(mediator.get("url")),
            )
        )
    return "\n".join(lines) + "\n"
