"""Documents the server produces: the invoice PDF and the claim escalation letter.

The escalation letter is the registered letter with acknowledgement of receipt ("lettre
recommandée avec accusé de réception") that the customer sends to the provider's
consumer service before seizing the mediator; it is written in French, as it goes to a
French business, and filled in so that the customer only has to sign and post it.

PDFs use DejaVu Sans when the system has it (every character of a French name or address
prints); otherwise fpdf2's core Helvetica, whose Latin-1 encoding cannot print some
characters (the euro sign, curly quotes, other scripts): those are replaced, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.claims import mediator_from, mediator_until
from domain.money import format_money
from server.models import Claim, Contract, Customer, Invoice, InvoiceLine

if TYPE_CHECKING:
    from fpdf import FPDF

_MOIS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip

_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)

_LINE_KIND_FR = {
    "subscription": "abonnement",
    "prorata": "prorata",
    "activation": "mise en service",
    "out_of_plan": "hors forfait",
    "option": "option",
    "instalment": "échéance",
    "fee": "frais",
    "gesture": "geste commercial",
}

_STATUS_FR = {"paid": "payée", "unpaid": "à payer", "failed": "prélèvement rejeté"}


def date_fr(d: date) -> str:
    """`24 novembre 2026` (`1er` for the first of the month, as French letters write it)."""
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {_MOIS[d.month - 1]} {d.year}"


def euros(cents: int) -> str:
    return format_money(cents, "fr")


# --- PDF plumbing ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _dejavu() -> tuple[Path, Path] | None:
    for folder in _FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


_CORE_REPLACEMENTS = str.maketrans(
    {
        "€": "EUR",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "«": '"',
        "»": '"',
        "–": "-",
        "—": "-",
        "…": "...",
        "œ": "oe",
        "Œ": "OE",
        "\u00a0": " ",
        "\u202f": " ",
    }
)


# fpdf2 costs about 0.2 s to import: only the first PDF pays it, not the server's start-up
# (the sandbox must answer its first request within 2 seconds of being launched).
@lru_cache(maxsize=1)
def _pdf_kit() -> tuple[Any, Any, Any]:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    return FPDF, XPos, YPos


@dataclass
class _Doc:
    pdf: FPDF
    family: str
    unicode: bool

    def text(self, value: str) -> str:
        if self.unicode:
            return value
        # Latin-1 core font: replace what it cannot print instead of failing.
        return value.translate(_CORE_REPLACEMENTS).encode("latin-1", "replace").decode("latin-1")

    def font(self, size: float, bold: bool = False) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)

    def line(self, value: str, *, h: float = 5, w: float = 0, align: str = "L") -> None:
        _, xpos, ypos = _pdf_kit()
        self.pdf.cell(w, h, self.text(value), new_x=xpos.LMARGIN, new_y=ypos.NEXT, align=align)

    def para(self, value: str, *, h: float = 5) -> None:
        _, xpos, ypos = _pdf_kit()
        self.pdf.multi_cell(0, h, self.text(value), new_x=xpos.LMARGIN, new_y=ypos.NEXT)


def _new_doc(title: str) -> _Doc:
    fpdf_class, _, _ = _pdf_kit()
    pdf = fpdf_class(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(title)
    pdf.set_creator("moncompte reference server")
    fonts = _dejavu()
    if fonts is not None:
        pdf.add_font("DejaVu", "", str(fonts[0]))
        pdf.add_font("DejaVu", "B", str(fonts[1]))
        doc = _Doc(pdf, "DejaVu", True)
    else:
        doc = _Doc(pdf, "Helvetica", False)
    pdf.add_page()
    return doc


def _output(doc: _Doc) -> bytes:
    return bytes(doc.pdf.output())


# --- invoice -----------------------------------------------------------------------------


def invoice_pdf(
    invoice: Invoice, lines: Sequence[InvoiceLine], customer: Customer, contract: Contract
) -> bytes:
    """The invoice: who, which contract, dates, every line with its explanation, totals."""
    doc = _new_doc(f"Facture {invoice.id}")
    pdf = doc.pdf
    _, XPos, YPos = _pdf_kit()  # noqa: N806 - the enum classes, under their usual names
    doc.font(16, bold=True)
    doc.line(f"Facture {invoice.id}", h=9)
    doc.font(10)
    doc.line(f"{customer.first_name} {customer.last_name} (client n° {customer.customer_number})")
    doc.line(customer.address_line1)
    doc.line(f"{customer.postcode} {customer.city}")
    pdf.ln(4)
    doc.line(f"Contrat {contract.id} : {contract.offer}")
    doc.line(f"Émise le {date_fr(invoice.issue_date)}")
    doc.line(f"Période du {date_fr(invoice.period_start)} au {date_fr(invoice.period_end)}")
    doc.line(f"Prélèvement le {date_fr(invoice.debit_date)}")
    pdf.ln(4)

    width = pdf.epw
    doc.font(10, bold=True)
    pdf.cell(width * 0.75, 7, doc.text("Désignation"), border="B")
    pdf.cell(
        width * 0.25, 7, doc.text("Montant"), border="B", align="R",
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    for ln in lines:
        doc.font(10)
        label = f"{ln.label} ({_LINE_KIND_FR.get(ln.kind, ln.kind)})"
        pdf.cell(width * 0.75, 6, doc.text(label))
        pdf.cell(
            width * 0.25, 6, doc.text(euros(ln.amount_cents)), align="R",
            new_x=XPos.LMARGIN, new_y=YPos.NEXT,
        )  # fmt: skip
        if ln.explanation:
            doc.font(8)
            pdf.set_text_color(90, 90, 90)
            doc.para(ln.explanation, h=4)
            pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    doc.font(11, bold=True)
    pdf.cell(width * 0.75, 8, doc.text("Total TTC"), border="T")
    pdf.cell(
        width * 0.25, 8, doc.text(euros(invoice.total_cents)), border="T", align="R",
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    doc.font(10)
    doc.line(f"Statut : {_STATUS_FR.get(invoice.status, invoice.status)}")
    if invoice.debited_cents is not None:
        doc.line(f"Montant prélevé : {euros(invoice.debited_cents)}")
    return _output(doc)


# --- claim escalation letter -------------------------------------------------------------

_REQUEST_FR = {
    "billing": "la régularisation de ma facturation et, le cas échéant, le remboursement "
    "des sommes prélevées à tort",
    "technical": "le rétablissement complet du service et un geste commercial pour la "
    "période pendant laquelle il n'a pas été fourni",
    "delivery": "la livraison des éléments manquants ou, à défaut, leur remboursement",
    "order_not_received": "la livraison de ma commande ou, à défaut, son remboursement",
    "not_as_ordered": "le remplacement des articles non conformes ou leur remboursement",
    "termination": "la prise en compte de ma demande de résiliation et la régularisation "
    "de mon compte",
    "other": "un traitement de ma réclamation et une réponse écrite",
}


@dataclass(frozen=True)
class Provider:
    """Who the letter goes to and which mediator it names (from the service settings)."""

    consumer_service_address: str
    mediator_name: str
    mediator_url: str


def claim_letter_text(claim: Claim, customer: Customer, provider: Provider, today: date) -> str:
    """The filled-in registered letter, as plain text (UTF-8)."""
    customer_messages = [m for m in claim.messages if m.author == "customer"]
    answered = any(m.author == "support" for m in claim.messages)
    facts = customer_messages[0].body.strip() if customer_messages else claim.subject
    attachments = [a.filename for m in customer_messages for a in m.attachments]
    start = mediator_from(claim.created_on)
    last_day = mediator_until(claim.created_on) - timedelta(days=1)
    name = f"{customer.first_name} {customer.last_name}"

    sender = [name, customer.address_line1, f"{customer.postcode} {customer.city}",
              f"N° client : {customer.customer_number}"]  # fmt: skip
    recipient = [
        part.strip()
        # One line per part, as on an envelope: "Name, TSA 40217, 31106 Toulouse Cedex 1".
        for part in re.split(r"[;,\n]", provider.consumer_service_address)
        if part.strip()
    ] or ["Service consommateurs"]
    if answered and claim.last_answer_on is not None:
        status = (
            f"La réponse que vous m'avez apportée le {date_fr(claim.last_answer_on)} ne me "
            "donne pas satisfaction."
        )
    elif answered:
        status = "La réponse que vous m'avez apportée ne me donne pas satisfaction."
    else:
        status = "À ce jour, je n'ai reçu aucune réponse de votre part."
    contract = f" (contrat {claim.contract_id})" if claim.contract_id else ""
    lines = [
        *sender,
        "",
        *recipient,
        "",
        f"À {customer.city}, le {date_fr(today)}",
        "",
        "LETTRE RECOMMANDÉE AVEC ACCUSÉ DE RÉCEPTION",
        "",
        f"Objet : réclamation {claim.id} du {date_fr(claim.created_on)} : {claim.subject}",
        "",
        "Madame, Monsieur,",
        "",
        f"Le {date_fr(claim.created_on)}, j'ai adressé à votre service client une réclamation "
        f"écrite, enregistrée sous la référence {claim.id}{contract}.",
        "",
        "Les faits sont les suivants :",
        facts,
        "",
        status,
        "",
        f"Je vous demande en conséquence {_REQUEST_FR.get(claim.category, _REQUEST_FR['other'])}.",
        "",
        "À défaut de réponse satisfaisante de votre part, je saisirai le "
        f"{provider.mediator_name} ({provider.mediator_url}), comme me le permettent les "
        "articles L612-1 et suivants du Code de la consommation : sans réponse, cette "
        f"saisine est possible à partir du {date_fr(start)}, et au plus tard le "
        f"{date_fr(last_day)}.",
        "",
    ]
    if attachments:
        lines += ["Pièces jointes : " + ", ".join(attachments), ""]
    lines += [
        "Je vous prie d'agréer, Madame, Monsieur, l'expression de mes salutations distinguées.",
        "",
        name,
    ]
    return "\n".join(lines) + "\n"


def claim_letter_pdf(claim: Claim, customer: Customer, provider: Provider, today: date) -> bytes:
    """The same letter as a one- or two-page PDF, ready to print."""
    doc = _new_doc(f"Réclamation {claim.id}")
    doc.font(11)
    for paragraph in claim_letter_text(claim, customer, provider, today).split("\n"):
        if paragraph == "LETTRE RECOMMANDÉE AVEC ACCUSÉ DE RÉCEPTION":
            doc.font(11, bold=True)
            doc.para(paragraph)
            doc.font(11)
        elif paragraph:
            doc.para(paragraph)
        else:
            doc.pdf.ln(3)
    return _output(doc)
