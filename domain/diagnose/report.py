"""The support file: the references concerned, the report as data, and as Markdown."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from domain.diagnose.account import AccountData
from domain.diagnose.findings import Finding

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


def report_markdown(report: Mapping[str, Any]) -> str:
    """The support file for people: what to read out or paste into the contact form."""
    lines = ["# Support file (moncompte diagnose)", ""]
    lines.append(f"Generated {report['generated_at']} - {report['summary'].get('text', '')}")
    lines += ["", "## Customer", ""]
    customer = report.get("customer")
    if customer:
        lines.append(f"- Customer number: {_md(customer.get('customer_number'))}")
        lines.append(f"- Name: {_md(customer.get('name'))}")
        lines.append(f"- Terms version accepted: {_md(customer.get('terms_version_accepted'))}")
    else:
        lines.append(
            f"- Unknown ({_md(report.get('account_error') or 'account data unavailable')})"
        )
    pm = report.get("payment_method")
    if pm:
        lines.append(
            f"- Payment: SEPA debit {_md(pm.get('iban_masked'))} ({_md(pm.get('bank_name'))}), "
            f"mandate {_md(pm.get('mandate_reference'))}"
        )
    if report.get("contracts"):
        lines += [
            "",
            "## Contracts",
            "",
            "| id | kind | offer | status |",
            "| --- | --- | --- | --- |",
        ]
        for c in report["contracts"]:
            lines.append(
                f"| {_md(c['id'])} | {_md(c['kind'])} | {_md(c['offer'])} | {_md(c['status'])} |"
            )
    lines += ["", "## What failed", ""]
    problems = report.get("problems") or []
    if not problems:
        lines.append("Nothing: every check passed or was skipped.")
    for p in problems:
        cited = f" [{', '.join(p['refs'])}]" if p.get("refs") else ""
        when = _md(p.get("checked_at"))
        lines.append(f"- **{p['status']}** `{p['id']}` at {when}: {_md(p['finding'])}{cited}")
        if p.get("remedy"):
            lines.append(f"  - what to do: {_md(p['remedy'])}")
    refs = report.get("references") or {}
    if any(refs.values()):
        lines += ["", "## References concerned", ""]
        for kind, ids in refs.items():
            if ids:
                lines.append(f"- {kind}: {', '.join(ids)}")
    lines += ["", "## All checks", "", "| check | status | finding |", "| --- | --- | --- |"]
    for c in report.get("checks") or []:
        lines.append(f"| {_md(c['id'])} | {_md(c['status'])} | {_md(c['finding'])} |")
    lines += ["", "## System", ""]
    tool, system = report.get("tool") or {}, report.get("system") or {}
    lines.append(f"- Tool: {_md(tool.get('name'))} {_md(tool.get('version'))}")
    for key, value in system.items():
        lines.append(f"- {key}: {_md(value)}")
    lines.append(f"- API: {_md(report.get('api_url'))}")
    lines += ["", "## Support channels", ""]
    support = report.get("support") or {}
    for key, label in (
        ("phone", "Phone"),
        ("email", "Email"),
        ("form_url", "Form"),
        ("postal_address", "Postal address"),
    ):
        lines.append(f"- {label}: {_md(support.get(key))}")
    mediator = report.get("mediator")
    if mediator and mediator.get("name"):
        lines.append(f"- Mediator: {_md(mediator.get('name'))} {_md(mediator.get('url'))}")
    return "\n".join(lines) + "\n"
