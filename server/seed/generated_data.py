"""What the generated customers are drawn from (names, streets, towns, banks, offers,
merchants, collections, claim subjects), the column layout of their rows, and the
billing calendar they share."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from domain.calendar import debit_date, invoice_date
from server.seed.common import _current_invoice_month, _last_day, _shift_month

_FIRST_NAMES = (
    "Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Sarah", "Julie", "Marie", "Anne",
    "Nathalie", "Isabelle", "Sophie", "Catherine", "Monique", "Françoise", "Sylvie",
    "Céline", "Aurélie", "Élodie", "Lucie", "Pauline", "Margaux", "Juliette", "Louise",
    "Jeanne", "Gaëlle", "Nolwenn", "Thomas", "Nicolas", "Julien", "Maxime", "Alexandre",
    "Antoine", "Pierre", "Jean", "Michel", "Philippe", "Alain", "Patrick", "Christophe",
    "Laurent", "Sébastien", "Olivier", "Éric", "Frédéric", "Stéphane", "David", "Mathieu",
    "Romain", "Hugo", "Lucas", "Louis", "Gabriel", "Arthur", "Jules", "Théo", "Yann",
    "Gwenaël", "Loïc", "Erwan", "Maël", "Jérôme", "Benoît",
)  # fmt: skip
_LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Lefèvre", "Mercier", "Dupont",
    "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau",
    "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu",
    "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Le Gall",
    "Le Goff", "Kerbrat", "Le Bihan", "Tanguy", "Quéré", "Guillou", "Jaouen", "Cadiou",
    "Rivière", "Delmas", "Couderc", "Besson", "Vidal",
)  # fmt: skip
_STREETS = (
    "rue de l'Église", "place de la Mairie", "route de Nantes", "chemin des Vignes",
    "rue du Moulin", "allée des Tilleuls", "impasse des Lavandières", "rue Victor Hugo",
    "avenue Jean Jaurès", "rue Pasteur", "rue de la Gare", "chemin du Lavoir",
    "rue des Écoles", "route de la Forêt", "rue du Stade", "rue des Peupliers",
    "rue du Château", "Grande Rue", "rue du Général de Gaulle", "chemin de la Croix",
)  # fmt: skip
_CITIES = (
    ("35000", "Rennes"), ("29200", "Brest"), ("56100", "Lorient"), ("22300", "Lannion"),
    ("29120", "Pont-l'Abbé"), ("19200", "Ussel"), ("23000", "Guéret"), ("15000", "Aurillac"),
    ("48000", "Mende"), ("46000", "Cahors"), ("12000", "Rodez"), ("81100", "Castres"),
    ("32000", "Auch"), ("09000", "Foix"), ("65200", "Bagnères-de-Bigorre"),
    ("04000", "Digne-les-Bains"), ("05000", "Gap"), ("26110", "Nyons"), ("07200", "Aubenas"),
    ("43000", "Le Puy-en-Velay"), ("63600", "Ambert"), ("03100", "Montluçon"),
    ("58000", "Nevers"), ("89200", "Avallon"), ("21140", "Semur-en-Auxois"),
    ("52200", "Langres"), ("55100", "Verdun"), ("88100", "Saint-Dié-des-Vosges"),
    ("67160", "Wissembourg"), ("68500", "Guebwiller"), ("25300", "Pontarlier"),
    ("39200", "Saint-Claude"), ("73200", "Albertville"), ("74500", "Évian-les-Bains"),
    ("38350", "La Mure"), ("24200", "Sarlat-la-Canéda"), ("47300", "Villeneuve-sur-Lot"),
    ("40200", "Mimizan"), ("64400", "Oloron-Sainte-Marie"), ("16100", "Cognac"),
    ("17300", "Rochefort"), ("79200", "Parthenay"), ("86500", "Montmorillon"),
    ("36200", "Argenton-sur-Creuse"), ("18200", "Saint-Amand-Montrond"),
    ("41200", "Romorantin-Lanthenay"), ("72200", "La Flèche"), ("61100", "Flers"),
    ("50300", "Avranches"), ("14100", "Lisieux"), ("27200", "Vernon"), ("76260", "Eu"),
    ("80100", "Abbeville"), ("08200", "Sedan"), ("10200", "Bar-sur-Aube"),
    ("31800", "Saint-Gaudens"),
)  # fmt: skip
_BANKS = (
    ("30004", "BNP Paribas"), ("30003", "Société Générale"), ("20041", "La Banque Postale"),
    ("30002", "LCL"), ("10278", "Crédit Mutuel"), ("13807", "Banque Populaire Grand Ouest"),
    ("13306", "Crédit Agricole Aquitaine"), ("16006", "Crédit Agricole Atlantique Vendée"),
    ("15589", "Crédit Mutuel de Bretagne"), ("10107", "BRED Banque Populaire"),
    ("11315", "Caisse d'Épargne CEPAC"), ("12506", "Crédit Agricole Alsace Vosges"),
)  # fmt: skip
_INTERNET_OFFERS = (  # offer, monthly price, activation fee, provider termination fee
    ("Internet THD Radio 30 Mb/s", 2999, 4900, 4900),
    ("Internet THD Radio 30 Mb/s + Téléphonie", 3299, 4900, 4900),
    ("Internet THD Radio 50 Mb/s", 3499, 4900, 4900),
    ("Internet THD Radio 100 Mb/s", 3999, 0, 4900),
    ("Internet Satellite 100 Mb/s", 4499, 4900, 0),
)
_MERCHANTS = (
    ("Maison Lefèvre Literie", "matelas et sommier"), ("Cycles Morel", "vélo"),
    ("Électroménager Garnier", "lave-linge"), ("Meubles Rivière", "canapé"),
    ("Optique Bonnet", "lunettes"), ("Jardinerie du Moulin", "tondeuse"),
    ("Informatique Perrin", "ordinateur portable"), ("Cuisines Fontaine", "four"),
    ("Sports Chevalier", "tapis de course"), ("Atelier Kerbrat", "poêle à granulés"),
)  # fmt: skip
_COLLECTIONS = (  # offer, issues, price per issue
    ("Collection « La Bretagne » — vaisseau de 1766 en 140 fascicules", 140, 829),
    ("Collection « Le Soleil Royal » — 135 fascicules", 135, 899),
    ("Collection « Tracteurs de nos campagnes » — 120 fascicules", 120, 1199),
)
_CLAIM_SUBJECTS = (
    ("billing", "Question sur ma facture"),
    ("technical", "Connexion instable le soir"),
    ("technical", "Coupure de connexion"),
    ("delivery", "Fascicule non reçu"),
    ("termination", "Demande de résiliation"),
    ("other", "Changement d'adresse email"),
)

# Column order of the tuples `_Generator` builds (generated.py); integer primary keys are
# left to the database.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (
        "id", "customer_number", "first_name", "last_name", "email", "phone",
        "address_line1", "postcode", "city", "country", "terms_version_accepted",
        "created_on",
    ),
    "payment_methods": (
        "customer_id", "kind", "iban", "mandate_reference", "bank_name", "updated_at",
    ),
    "contracts": (
        "id", "customer_id", "kind", "offer", "status", "monthly_price_cents",
        "activation_fee_cents", "termination_fee_cents", "signed_on", "withdrawal_start",
        "first_connection_on", "equipment_received_on", "commitment_months",
        "commitment_start", "merchant", "purchase_cents", "issues_total",
        "price_per_issue_cents", "first_issue_on", "issue_interval_days", "terminated_on",
        "withdrawn_on",
    ),
    "equipment": (
        "contract_id", "kind", "serial", "value_cents", "exchanged", "return_reference",
        "return_deadline", "returned_on",
    ),
    "outages": ("contract_id", "start", "end"),
    "invoices": (
        "id", "customer_id", "contract_id", "issue_date", "debit_date", "period_start",
        "period_end", "total_cents", "debited_cents", "status",
    ),
    "invoice_lines": ("invoice_id", "position", "label", "kind", "amount_cents", "explanation"),
    "instalments": (
        "contract_id", "number", "due_date", "original_due_date", "amount_cents", "status",
        "rescheduled_count",
    ),
    "shipments": (
        "contract_id", "issue_from", "issue_to", "shipped_on", "expected_on", "received_on",
        "grouped", "delayed_until",
    ),
    "claims": (
        "id", "customer_id", "contract_id", "category", "subject", "status", "created_on",
        "last_answer_on", "escalated_on",
    ),
    "claim_messages": ("claim_id", "author", "sent_at", "body"),
}  # fmt: skip
# Parents before children, for the foreign keys.
_TABLE_ORDER = tuple(_COLUMNS)


def _ascii(text: str) -> str:
    """`Lefèvre` → `lefevre`, `Le Gall` → `legall`, `Pont-l'Abbé` → `pont-labbe`: for emails."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch == "-"))
    return kept.lower()


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _iso_dt(dt: datetime) -> str:
    # SQLAlchemy's SQLite storage format: compared as text, so it must match to the digit.
    return dt.isoformat(sep=" ", timespec="microseconds")


@dataclass(frozen=True)
class _Month:
    """One month of the billing calendar, formatted once for every customer."""

    year: int
    month: int
    key: int  # year * 12 + month - 1, for comparisons
    issue: date
    issue_iso: str
    debit: date
    debit_iso: str
    start_iso: str
    end_iso: str


def _calendar(today: date, months: int) -> list[_Month]:
    """The `months` invoice months up to the latest one issued by `today`, oldest first."""
    x = _current_invoice_month(today)
    out = []
    for k in range(-(months - 1), 1):
        y, m = _shift_month(*x, k)
        issue, debit = invoice_date(y, m), debit_date(y, m)
        out.append(
            _Month(
                y,
                m,
                y * 12 + m - 1,
                issue,
                issue.isoformat(),
                debit,
                debit.isoformat(),
                date(y, m, 1).isoformat(),
                _last_day(y, m).isoformat(),
            )
        )
    return out


def _max_number(connection: Connection, column: Any, prefix_len: int, reserved: int) -> int:
    """The largest number used in a prefixed string ID column, at least `reserved`."""
    # IDs are fixed-width, so the largest string is the largest number.
    found = connection.execute(select(func.max(column))).scalar()
    return max(reserved, int(found[prefix_len:]) if found else 0)
