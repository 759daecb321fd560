"""Invoice PDF and the claim escalation letter (text and PDF)."""

from __future__ import annotations

import re
import zlib
from datetime import date
from typing import Any

import httpx
import pytest

from domain.claims import mediator_from
from server.documents import date_fr
from tests.api.conftest import assert_problem, client, db_session
from tests.conftest import Sandbox


def assert_pdf(data: bytes) -> None:
    """A structurally sound PDF: header, trailer, and a cross-reference table where
    `startxref` says it is (what a reader follows first)."""
    assert data.startswith(b"%PDF-1.")
    assert data.rstrip().endswith(b"%%EOF")
    match = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data)
    assert match, "no startxref"
    offset = int(match.group(1))
    assert data[offset : offset + 4] == b"xref"
    objects = re.findall(rb"(\d+) 0 obj", data)
    size = re.search(rb"/Size (\d+)", data)
    assert size and int(size.group(1)) == len(objects) + 1
    # Each object starts at the offset the table gives.
    entries = re.findall(rb"(\d{10}) 00000 n", data[offset:])
    for number, entry in enumerate(entries, start=1):
        at = int(entry)
        assert data[at:].startswith(str(number).encode() + b" 0 obj"), number


def pdf_text(data: bytes) -> bytes:
    """The page content streams, inflated (to look for drawn text operators)."""
    out = b""
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out += zlib.decompress(stream)
        except zlib.error:
            out += stream
    return out


def test_invoice_pdf(api: httpx.Client, refs: dict[str, Any]) -> None:
    r = api.get(f"/v1/invoices/{refs['first_invoice']}/pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert refs["first_invoice"] in r.headers["content-disposition"]
    assert_pdf(r.content)
    invoice = api.get(f"/v1/invoices/{refs['first_invoice']}").json()
    content = pdf_text(r.content)
    assert b"Tj" in content or b"TJ" in content  # text is drawn
    assert len(invoice["lines"]) >= 3
    assert len(r.content) > 1000


def test_every_invoice_pdf_renders(api: httpx.Client) -> None:
    for invoice in api.get("/v1/invoices", params={"limit": 500}).json()["items"]:
        r = api.get(f"/v1/invoices/{invoice['id']}/pdf")
        assert r.status_code == 200, invoice["id"]
        assert_pdf(r.content)


def test_pdf_of_another_customer_is_not_found(
    api: httpx.Client, staff_api: httpx.Client, refs: dict[str, Any]
) -> None:
    clean = refs["clean_customer"]
    invoices = staff_api.get(f"/v1/customers/{clean}/invoices").json()["items"]
    assert_problem(api.get(f"/v1/invoices/{invoices[0]['id']}/pdf"), 404, "not_found")
    staff_pdf = staff_api.get(f"/v1/customers/{clean}/invoices/{invoices[0]['id']}/pdf")
    assert staff_pdf.status_code == 200
    assert_pdf(staff_pdf.content)


def test_letter_text(api: httpx.Client, refs: dict[str, Any]) -> None:
    claim = api.get(f"/v1/claims/{refs['old_claim']}").json()
    me = api.get("/v1/me").json()["customer"]
    status = httpx.get(f"{api.base_url}/v1/status").json()
    r = api.get(f"/v1/claims/{refs['old_claim']}/letter")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    letter = r.text
    assert "LETTRE RECOMMANDÉE AVEC ACCUSÉ DE RÉCEPTION" in letter
    assert f"{me['first_name']} {me['last_name']}" in letter
    assert me["address"]["line1"] in letter and me["address"]["city"] in letter
    assert me["customer_number"] in letter
    assert claim["id"] in letter
    assert date_fr(date.fromisoformat(claim["created_on"])) in letter
    assert claim["messages"][0]["body"] in letter  # the facts
    assert "Je vous demande" in letter  # the request
    assert status["mediator"]["name"] in letter
    assert date_fr(mediator_from(date.fromisoformat(claim["created_on"]))) in letter
    # The provider's consumer service postal address.
    assert "TSA 40217" in letter or status["support"]["postal_address"].split(",")[0] in letter
    assert "aucune réponse" in letter  # unanswered claim


def test_letter_of_answered_claim(api: httpx.Client, refs: dict[str, Any]) -> None:
    letter = api.get(f"/v1/claims/{refs['answered_claim']}/letter", params={"format": "text"}).text
    assert "ne me donne pas satisfaction" in letter


def test_letter_pdf(api: httpx.Client, refs: dict[str, Any]) -> None:
    r = api.get(f"/v1/claims/{refs['old_claim']}/letter", params={"format": "pdf"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert_pdf(r.content)
    assert_problem(
        api.get(f"/v1/claims/{refs['old_claim']}/letter", params={"format": "docx"}), 422
    )


def test_core_font_fallback_replaces_what_it_cannot_print(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without DejaVu the PDF still renders: unprintable characters are replaced."""
    from server import documents

    monkeypatch.setattr(documents, "_FONT_DIRS", ())
    documents._dejavu.cache_clear()
    try:
        doc = documents._new_doc("t")
        assert doc.unicode is False
        doc.font(10)
        doc.para("Prix : 29,99 € — « ligne » œuvre 日本語 ✓")
        assert_pdf(documents._output(doc))
    finally:
        documents._dejavu.cache_clear()


def test_an_invoice_pdf_is_rendered_once_and_again_when_its_rows_change(
    fresh_sandbox: Sandbox, refs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from server import pdf_cache
    from server.models import Customer, Invoice
    from server.routes import invoices as route

    rendered: list[str] = []
    render = route.invoice_pdf

    def counted(invoice: Any, *args: Any) -> bytes:
        rendered.append(invoice.id)
        return render(invoice, *args)

    monkeypatch.setattr(route, "invoice_pdf", counted)  # a spy: it still renders
    pdf_cache.clear()
    with client(fresh_sandbox) as api:
        url = f"/v1/invoices/{refs['first_invoice']}/pdf"
        first, again = api.get(url), api.get(url)
        assert first.status_code == again.status_code == 200
        assert first.content == again.content and len(rendered) == 1
        for model, key, column, value in (
            (Customer, refs["customer"], "city", "Besançon"),
            (Invoice, refs["first_invoice"], "status", "failed"),
        ):
            with db_session(fresh_sandbox) as session:
                setattr(session.get(model, key), column, value)
                session.commit()
            changed = api.get(url)
            assert changed.status_code == 200
            assert_pdf(changed.content)
        assert len(rendered) == 3  # each change drew it anew: never a stale PDF


def test_the_pdf_cache_is_bounded() -> None:
    from server import pdf_cache

    pdf_cache.clear()
    for n in range(pdf_cache.MAX_ENTRIES + 10):
        pdf_cache.cached(str(n).encode(), lambda n=n: f"pdf {n}".encode())
    assert pdf_cache.cached(b"0", lambda: b"again") == b"again"  # the oldest went out
    last = str(pdf_cache.MAX_ENTRIES + 9).encode()
    assert pdf_cache.cached(last, lambda: b"again") == f"pdf {pdf_cache.MAX_ENTRIES + 9}".encode()
    pdf_cache.clear()
