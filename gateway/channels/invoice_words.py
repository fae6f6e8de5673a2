"""The wording of the invoice page (``invoice_html``) in English and French.

Labels are keyed by their English text, so the rows ``print_rows`` already
chooses (the totals) keep their English labels on the English page and are
looked up here for the French one. Code lists (document types, VAT
categories, payment means, units, countries) are worded by ``printwords`` in
English and here in French. Numbers: "1,234.50" in English, "1 234,50" in
French (a narrow no-break space between thousands, as French typography
writes them). Dates stay ISO (2026-12-02): unambiguous in both languages.
Pure.
"""

from __future__ import annotations

from decimal import Decimal

from gateway.channels.print_layout import Payment, PrintDocument
from gateway.channels.printwords import (
    MAX_DIGITS,
    country_name,
    number,
    unit_name,
    vat_label,
)
from gateway.model import DocumentKind

LANGUAGES = ("en", "fr")

# fmt: off
_FR_LABELS = {
    # the document's facts
    "Issue date": "Date d'émission", "Due date": "Date d'échéance",
    "Buyer reference": "Référence acheteur", "Order reference": "Référence de commande",
    "Corrects": "Rectifie", "Delivery date": "Date de livraison",
    "Invoicing period": "Période de facturation", "Currency": "Devise",
    "{0} of {1}": "{0} du {1}", "{0} to {1}": "du {0} au {1}",
    # the parties
    "Seller": "Vendeur", "Buyer": "Acheteur", "Name": "Nom", "Legal name": "Raison sociale",
    "Electronic address": "Adresse électronique", "Identifier": "Identifiant",
    "VAT id": "N° de TVA", "Registration no.": "N° d'immatriculation", "Address": "Adresse",
    "Contact": "Contact",
    # notes and lines
    "Notes": "Notes", "Lines": "Lignes", "#": "N°", "Item": "Article",
    "Quantity": "Quantité", "Unit": "Unité", "Unit price": "Prix unitaire",
    "Net amount": "Montant net", "VAT": "TVA", "Item no.": "Réf. article",
    "Allowances and charges": "Remises et frais", "Allowance": "Remise", "Charge": "Frais",
    "Reason": "Motif", "Amount": "Montant",
    # VAT breakdown and totals (the totals' labels are print_rows.total_rows')
    "VAT breakdown": "Ventilation de la TVA", "Category": "Catégorie", "Rate": "Taux",
    "Taxable amount": "Base imposable", "VAT amount": "Montant de TVA", "Totals": "Totaux",
    "Sum of line net amounts": "Total des montants nets des lignes", "Allowances": "Remises",
    "Charges": "Frais", "Total without VAT": "Total HT", "Total with VAT": "Total TTC",
    "Paid in advance": "Déjà payé", "Rounding": "Arrondi", "Amount due": "Montant à payer",
    "Amount credited": "Montant crédité",
    # payment
    "Payment details": "Paiement", "Payment means": "Moyen de paiement", "IBAN": "IBAN",
    "Account": "Compte", "BIC": "BIC", "Account holder": "Titulaire du compte",
    "Payment reference": "Référence de paiement", "Mandate": "Mandat",
    "Debited account": "Compte débité", "Terms": "Conditions de paiement",
}
# UNTDID 1001 document types that EN 16931 allows.
_FR_TITLES = {
    "380": "Facture", "384": "Facture rectificative", "389": "Autofacture",
    "386": "Facture d'acompte", "326": "Facture partielle", "381": "Avoir",
    "261": "Avoir autofacturé", "396": "Avoir affacturé",
}
# UNCL 5305 VAT categories.
_FR_VAT = {
    "S": "Taux normal", "Z": "Taux zéro", "E": "Exonéré de TVA", "AE": "Autoliquidation",
    "K": "Livraison intracommunautaire", "G": "Exportation hors UE",
    "O": "Hors du champ de la TVA", "L": "IGIC (Canaries)", "M": "IPSI (Ceuta et Melilla)",
}
# UNCL 4461 payment means.
_FR_MEANS = {
    "1": "Non défini", "10": "Espèces", "20": "Chèque", "30": "Virement",
    "31": "Transfert de débit", "42": "Versement sur compte bancaire", "48": "Carte bancaire",
    "49": "Prélèvement", "57": "Accord permanent", "58": "Virement SEPA",
    "59": "Prélèvement SEPA", "97": "Compensation entre partenaires",
}
# UN/ECE Recommendation 20 units (those printwords names).
_FR_UNITS = {
    "C62": "unité", "H87": "pièce", "EA": "unité", "HUR": "heure", "DAY": "jour",
    "WEE": "semaine", "MON": "mois", "ANN": "an", "MIN": "minute", "KGM": "kg", "GRM": "g",
    "TNE": "t", "MTR": "m", "KMT": "km", "MTK": "m²", "MTQ": "m³", "LTR": "l", "KWH": "kWh",
    "SET": "lot", "PR": "paire", "XPK": "paquet", "LS": "forfait",
}
_FR_COUNTRIES = {
    "AT": "Autriche", "BE": "Belgique", "BG": "Bulgarie", "CH": "Suisse", "CY": "Chypre",
    "CZ": "Tchéquie", "DE": "Allemagne", "DK": "Danemark", "EE": "Estonie", "ES": "Espagne",
    "FI": "Finlande", "FR": "France", "GB": "Royaume-Uni", "GR": "Grèce", "HR": "Croatie",
    "HU": "Hongrie", "IE": "Irlande", "IS": "Islande", "IT": "Italie", "LI": "Liechtenstein",
    "LT": "Lituanie", "LU": "Luxembourg", "LV": "Lettonie", "MC": "Monaco", "MT": "Malte",
    "NL": "Pays-Bas", "NO": "Norvège", "PL": "Pologne", "PT": "Portugal", "RO": "Roumanie",
    "SE": "Suède", "SI": "Slovénie", "SK": "Slovaquie", "US": "États-Unis", "CA": "Canada",
    "AU": "Australie", "NZ": "Nouvelle-Zélande", "SG": "Singapour", "JP": "Japon",
}
# fmt: on
FR_LABELS = frozenset(_FR_LABELS)  # what the French page can say; a test keeps it complete
_THIN_SPACE = "\u202f"


class Words:
    """The page's words and number formats in one language ("en" or "fr")."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"invoice page language {lang!r} is not one of {', '.join(LANGUAGES)}")
        self.lang = lang
        self.fr = lang == "fr"

    def __call__(self, label: str) -> str:
        """``label`` (English) in this language; an English label lacking a
        translation stays English rather than failing the page."""
        return _FR_LABELS.get(label, label) if self.fr else label

    def title(self, doc: PrintDocument) -> str:
        if self.fr:
            credit = doc.kind is DocumentKind.CREDIT_NOTE
            return _FR_TITLES.get(doc.type_code, "Avoir" if credit else "Facture")
        return doc.title

    def vat(self, category: str) -> str:
        return _FR_VAT.get(category, category or "TVA") if self.fr else vat_label(category)

    def means(self, payment: Payment) -> str:
        return _FR_MEANS.get(payment.means_code, payment.means) if self.fr else payment.means

    def unit(self, code: str) -> str:
        return _FR_UNITS.get(code, code) if self.fr else unit_name(code)

    def country(self, code: str) -> str:
        if self.fr:
            return _FR_COUNTRIES.get(code.upper(), code.upper())
        name = country_name(code)  # capitals, as the envelope wants them
        return name.title() if name != code.upper() else name

    def amount(self, value: Decimal | None) -> str:
        """An amount with at least two decimals and every decimal the document wrote."""
        if value is None:
            return ""
        exponent = value.as_tuple().exponent
        places = min(max(2, -exponent), MAX_DIGITS) if isinstance(exponent, int) else 2
        return self._local(number(value, places))

    def percent(self, rate: Decimal | None) -> str:
        """20% in English, 20 % in French (a narrow no-break space before the sign)."""
        if rate is None:
            return ""
        return f"{self.quantity(rate)}{_THIN_SPACE if self.fr else ''}%"

    def quantity(self, value: Decimal | None) -> str:
        return self._local(number(value))

    def _local(self, english: str) -> str:
        if not self.fr:
            return english
        return english.replace(",", _THIN_SPACE).replace(".", ",")
