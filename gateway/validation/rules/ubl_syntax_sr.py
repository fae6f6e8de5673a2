"""UBL-SR rules: how often a business term may occur in its UBL element.

UBL 2.1 allows many elements more than once where EN 16931 has one value;
these rules count them. Most are "at most one (or two) of these per
context", written here as data: the context is the document root, or an
element matched wherever it is (as a Schematron rule context is), and the
count is taken for each such element. The rules with a condition are in
``ubl_syntax_sr_conditions``.
"""

from __future__ import annotations

from collections import Counter

from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.shape import Assert
from gateway.validation.rules.ubl_syntax_nav import Answers, Together, reach, steps_up, up, view
from gateway.validation.rules.ubl_syntax_sr_conditions import LINES
from gateway.validation.rules.ubl_syntax_sr_conditions import RULES as CONDITIONS

_SELLER = "cac:AccountingSupplierParty/cac:Party/"
_SELLER_LEGAL = _SELLER + "cac:PartyLegalEntity/"
_BUYER = "cac:AccountingCustomerParty/cac:Party/"
_BUYER_LEGAL = _BUYER + "cac:PartyLegalEntity/"

# (id, path from the root, the term): at most one node at the path.
_DOCUMENT_AT_MOST_ONE = (
    ("UBL-SR-01", "cac:ContractDocumentReference/cbc:ID", "contract reference (BT-12)"),
    ("UBL-SR-02", "cac:ReceiptDocumentReference/cbc:ID", "receiving advice reference (BT-15)"),
    ("UBL-SR-03", "cac:DespatchDocumentReference/cbc:ID", "despatch advice reference (BT-16)"),
    ("UBL-SR-05", "cac:PaymentTerms/cbc:Note", "payment terms text (BT-20)"),
    ("UBL-SR-08", "cac:InvoicePeriod", "invoicing period (BG-14)"),
    ("UBL-SR-09", _SELLER_LEGAL + "cbc:RegistrationName", "seller name (BT-27)"),
    ("UBL-SR-10", _SELLER + "cac:PartyName/cbc:Name", "seller trading name (BT-28)"),
    ("UBL-SR-11", _SELLER_LEGAL + "cbc:CompanyID", "seller legal registration id (BT-30)"),
    ("UBL-SR-14", _SELLER_LEGAL + "cbc:CompanyLegalForm", "seller legal information (BT-33)"),
    ("UBL-SR-15", _BUYER_LEGAL + "cbc:RegistrationName", "buyer name (BT-44)"),
    ("UBL-SR-16", _BUYER + "cac:PartyIdentification/cbc:ID", "buyer identifier (BT-46)"),
    ("UBL-SR-17", _BUYER_LEGAL + "cbc:CompanyID", "buyer legal registration id (BT-47)"),
    ("UBL-SR-24", "cac:Delivery", "delivery information (BG-13)"),
    ("UBL-SR-39", "cac:ProjectReference/cbc:ID", "project reference (BT-11)"),
    ("UBL-SR-40", _BUYER + "cac:PartyName/cbc:Name", "buyer trading name (BT-45)"),
    ("UBL-SR-45", "cac:PaymentMeans/cbc:PaymentDueDate", "payment due date (BT-9)"),
    ("UBL-SR-46", "cac:PaymentMeans/cbc:PaymentMeansCode/@name", "payment means text (BT-82)"),
    ("UBL-SR-49", "cac:InvoicePeriod/cbc:DescriptionCode", "VAT point date code (BT-8)"),
    ("UBL-SR-54", "cac:PaymentMeans/cac:CardAccount", "payment card information (BG-18)"),
    ("UBL-SR-55", "cac:PaymentMeans/cac:PaymentMandate", "direct debit mandate (BG-19)"),
    ("UBL-SR-56", "cac:OriginatorDocumentReference/cbc:ID", "tender or lot reference (BT-17)"),
)

_MEANS = ("cac:PaymentMeans",)
_AGENT = ("cac:TaxRepresentativeParty",)

# (id, contexts matched at any depth, path from a context, limit, the term).
_AT_MOST = (
    (
        "UBL-SR-06",
        ("cac:BillingReference",),
        "cac:InvoiceDocumentReference",
        1,
        "preceding invoice reference (BG-3)",
    ),
    ("UBL-SR-22", _AGENT, "cac:PartyName/cbc:Name", 1, "tax representative name (BT-62)"),
    ("UBL-SR-23", _AGENT, "cac:PartyTaxScheme/cbc:CompanyID", 1, "representative VAT id (BT-63)"),
    (
        "UBL-SR-25",
        ("cac:Delivery",),
        "cac:DeliveryParty/cac:PartyName/cbc:Name",
        1,
        "deliver to party name (BT-70)",
    ),
    ("UBL-SR-26", _MEANS, "cbc:PaymentID", 1, "remittance information (BT-83)"),
    ("UBL-SR-27", _MEANS, "cbc:PaymentMeansCode", 1, "payment means type code (BT-81)"),
    ("UBL-SR-28", _MEANS, "cac:PaymentMandate/cbc:ID", 1, "mandate reference (BT-89)"),
    (
        "UBL-SR-32",
        ("cac:TaxSubtotal",),
        "cac:TaxCategory/cbc:TaxExemptionReason",
        1,
        "VAT exemption reason text (BT-120)",
    ),
    (
        "UBL-SR-33",
        ("cac:AdditionalDocumentReference",),
        "cbc:DocumentDescription",
        1,
        "supporting document description (BT-123)",
    ),
    ("UBL-SR-34", LINES, "cbc:Note", 1, "invoice line note (BT-127)"),
    ("UBL-SR-35", LINES, "cac:OrderLineReference/cbc:LineID", 1, "order line reference (BT-132)"),
    ("UBL-SR-36", LINES, "cac:InvoicePeriod", 1, "invoice line period (BG-26)"),
    ("UBL-SR-37", LINES, "cac:Price/cac:AllowanceCharge/cbc:Amount", 1, "price discount (BT-147)"),
    (
        "UBL-SR-42",
        ("cac:AccountingSupplierParty/cac:Party",),
        "cac:PartyTaxScheme",
        2,
        "seller tax scheme: VAT (BT-31) and tax registration (BT-32)",
    ),
    ("UBL-SR-50", LINES, "cac:Item/cbc:Description", 1, "item description (BT-154)"),
    ("UBL-SR-51", ("cac:PostalAddress", "cac:Address"), "cac:AddressLine", 1, "address line 3"),
    ("UBL-SR-52", LINES, "cac:DocumentReference", 1, "invoice line object identifier (BT-128)"),
)


def _document_at_most_one(doc: Doc) -> Answers:
    """The ``_DOCUMENT_AT_MOST_ONE`` rows with more than one node at their path."""
    index = doc.index
    return {
        rid: (doc.root,) for rid, path, _ in _DOCUMENT_AT_MOST_ONE if len(index.get(path, ())) > 1
    }


_AT_MOST_ONE = Together("at_most_one", _document_at_most_one)


# The _AT_MOST rows as (id, paths of the counted nodes at any depth, steps
# from a node up to its context, limit): a context is over its limit when the
# nodes at one index key, walked up, meet it more than ``limit`` times.
_COUNTED = tuple(
    (rid, tuple(f"{c}/{rel}" for c in contexts), steps_up(rel), limit)
    for rid, contexts, rel, limit, _ in _AT_MOST
)
reach(*(path for row in _COUNTED for path in row[1]))


def _over_limits(doc: Doc) -> Answers:
    """The ``_AT_MOST`` rows: contexts over their limit, for every row at once."""
    reached, index = view(doc), doc.index
    found: Answers = {}
    for rid, paths, steps, limit in _COUNTED:
        over: list[Element] = []
        for path in paths:
            for key in reached.get(path, ()):
                nodes = index[key]
                # Most rows find their nodes once per context at most: a
                # length, or the contexts being all different, rules them out.
                if len(nodes) > limit:
                    owners = up(nodes, steps)
                    if len(set(owners)) < len(owners):
                        over.extend(c for c, n in Counter(owners).items() if n > limit)
        if over:
            found[rid] = over
    return found


_OVER_LIMITS = Together("over_limits", _over_limits)


def _per(contexts: tuple[str, ...], limit: int, term: str) -> str:
    times = "once" if limit == 1 else "twice"
    return f"At most {times} per {' or '.join(contexts)}: {term}"


RULES: tuple[Assert, ...] = (
    *(
        _AT_MOST_ONE.rule(rid, "fatal", f"A document has at most one {term}")
        for rid, _, term in _DOCUMENT_AT_MOST_ONE
    ),
    *(
        _OVER_LIMITS.rule(rid, "fatal", _per(contexts, limit, term))
        for rid, contexts, _, limit, term in _AT_MOST
    ),
    *CONDITIONS,
)
