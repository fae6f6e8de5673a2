"""The UBL syntax rules (UBL-CR, UBL-SR, UBL-DT) on small hand-made documents.

The conformance test covers the labelled corpus; these pin the semantics it
rarely or never exercises: where a path is reached (root, lines, any depth,
extensions, the root's own attributes), first-match rule contexts, XPath
general comparisons, and the cases where the official validation stops.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from gateway.model import DocumentKind
from gateway.validation.rules import ubl_syntax
from gateway.validation.rules.engine import RuleSet
from gateway.validation.rules.kernel import string_value
from gateway.validation.rules.model import Doc
from gateway.validation.rules.shape import asserts
from gateway.validation.rules.ubl_syntax_nav import boolean_equals, keys_anywhere, last_step
from tests.support import CORPUS

_NS = (
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" '
    'xmlns:ext="urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"'
)
_ROOTS = {
    DocumentKind.INVOICE: ("Invoice", "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"),
    DocumentKind.CREDIT_NOTE: (
        "CreditNote",
        "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    ),
}
_RULES = RuleSet(ubl_syntax.RULES)


def _doc(body: str, kind: DocumentKind = DocumentKind.INVOICE, attrs: str = "") -> Doc:
    name, ns = _ROOTS[kind]
    xml = f'<{name} xmlns="{ns}" {_NS} {attrs}>{body}</{name}>'
    return Doc(etree.fromstring(xml.encode()), kind)


def fired(body: str, kind: DocumentKind = DocumentKind.INVOICE, attrs: str = "") -> dict[str, str]:
    """Rule id -> flag for every rule of the family that fails on the document."""
    return {f.id: f.flag for f in _RULES.evaluate(_doc(body, kind, attrs))}


def nest(path: str, inner: str = "", attrs: str = "") -> str:
    """``cac:A/cbc:B`` -> ``<cac:A><cbc:B attrs>inner</cbc:B></cac:A>``."""
    steps = path.split("/")
    head = "".join(f"<{s}>" for s in steps[:-1])
    tail = "".join(f"</{s}>" for s in reversed(steps[:-1]))
    last = steps[-1]
    return f"{head}<{last} {attrs}>{inner}</{last}>{tail}"


# A line with what every line needs (its one VAT category), plus ``extra``.
def line(extra: str = "", tag: str = "cac:InvoiceLine") -> str:
    vat = "<cac:Item><cac:ClassifiedTaxCategory/></cac:Item>"
    return f"<{tag}><cbc:ID>1</cbc:ID>{extra}{vat}</{tag}>"


# --- the family is complete --------------------------------------------------


def test_ids_are_unique_and_flags_are_known() -> None:
    """Each UBL syntax rule has a unique UBL-CR/SR/DT id and a fatal or warning flag."""
    ids = [r.id for r in asserts(ubl_syntax.RULES)]
    assert len(ids) == len(set(ids))
    assert all(r.flag in ("fatal", "warning") for r in asserts(ubl_syntax.RULES))
    assert all(re.match(r"^UBL-(CR|SR|DT)-\d+$", i) for i in ids)


def test_every_official_rule_is_implemented_with_its_flag() -> None:
    """All 756 official UBL-CR/SR/DT rules are implemented with their official flag, and no other
    (skipped without the corpus)."""
    sch = (
        CORPUS / "rules/en16931-ubl/schematron/preprocessed/EN16931-UBL-validation-preprocessed.sch"
    )
    if not sch.is_file():
        pytest.skip(f"the official Schematron is not at {sch}")
    found = etree.parse(str(sch)).iterfind(".//{http://purl.oclc.org/dsdl/schematron}assert")
    official = {
        a.get("id"): ("fatal" if a.get("flag") in ("fatal", "error") else "warning")
        for a in found
        if re.match(r"^UBL-(CR|SR|DT)-", a.get("id") or "")
    }
    ours = {r.id: r.flag for r in asserts(ubl_syntax.RULES)}
    assert len(official) == 756
    assert ours == official


def test_clean_document_fires_nothing() -> None:
    """A minimal clean document fires no UBL syntax rule."""
    assert fired(line()) == {}


# --- UBL-CR: where a path is reached ------------------------------------------


def test_root_path_fires_only_at_the_root() -> None:
    """A forbidden element at the root fires the root's rule; under a line it fires only the
    line's own rule, as a warning."""
    assert "UBL-CR-005" in fired("<cbc:UUID>x</cbc:UUID>")
    # the same element under a line is another rule (the line's own)
    found = fired(line("<cbc:UUID>x</cbc:UUID>"))
    assert "UBL-CR-005" not in found
    assert found["UBL-CR-515"] == "warning"


@pytest.mark.parametrize("kind", list(DocumentKind))
@pytest.mark.parametrize("tag", ["cac:InvoiceLine", "cac:CreditNoteLine"])
def test_line_paths_hold_for_either_line_name(kind: DocumentKind, tag: str) -> None:
    """Line rules fire under InvoiceLine and CreditNoteLine alike, in invoices and credit notes."""
    assert "UBL-CR-563" in fired(
        line("<cac:Item><cbc:PackQuantity>1</cbc:PackQuantity></cac:Item>", tag), kind
    )


def test_attribute_paths() -> None:
    """A forbidden attribute fires its rule at the path it names, not on the same attribute
    elsewhere."""
    assert "UBL-CR-650" in fired('<cbc:ID schemeID="x">1</cbc:ID>')
    assert "UBL-CR-650" not in fired(
        '<cac:OrderReference><cbc:ID schemeID="x">1</cbc:ID></cac:OrderReference>'
    )


def test_any_depth_includes_extensions_and_nesting() -> None:
    """Rules for a path at any depth fire at the root, nested, and inside extensions, but not on
    another path ending in the same element."""
    tax = '<cac:TaxCategory><cbc:ID schemeID="UNCL5305">S</cbc:ID></cac:TaxCategory>'
    assert "UBL-CR-678" in fired(tax)
    assert "UBL-CR-678" in fired(f"<cac:AllowanceCharge>{tax}</cac:AllowanceCharge>")
    ext = nest("ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent", tax)
    found = fired(ext)
    assert "UBL-CR-678" in found and "UBL-CR-001" in found
    # the path must end there: a cbc:ID elsewhere with a scheme is another matter
    assert "UBL-CR-678" not in fired('<cac:X><cbc:ID schemeID="x"/></cac:X>')


def test_attribute_anywhere_includes_the_root_element() -> None:
    """Rules for an attribute anywhere fire on the root element's own attributes, but not on a
    namespaced attribute of the same local name."""
    assert fired("", attrs='unitCodeListID="x"').get("UBL-CR-663") == "warning"
    assert fired("", attrs='schemeName="x"').get("UBL-DT-08") == "warning"
    # a namespaced attribute of the same local name is another attribute
    assert "UBL-DT-08" not in fired("", attrs='xmlns:o="urn:o" o:schemeName="x"')


def test_ubl_version() -> None:
    """UBL-CR-002 passes only for UBLVersionID exactly "2.1", and passes when any one of several
    is."""
    assert "UBL-CR-002" not in fired("<cbc:UBLVersionID>2.1</cbc:UBLVersionID>")
    assert "UBL-CR-002" in fired("<cbc:UBLVersionID>2.0</cbc:UBLVersionID>")
    assert "UBL-CR-002" in fired("<cbc:UBLVersionID> 2.1</cbc:UBLVersionID>")  # exact compare
    # general comparison: one of them being 2.1 is enough
    two = "<cbc:UBLVersionID>2.0</cbc:UBLVersionID><cbc:UBLVersionID>2.1</cbc:UBLVersionID>"
    assert "UBL-CR-002" not in fired(two)


def test_payment_due_date_in_payment_means_only_warns_on_invoices() -> None:
    """A payment due date inside payment means fires UBL-CR-412 on invoices, not on credit notes."""
    means = (
        "<cac:PaymentMeans><cbc:PaymentDueDate>2024-01-01</cbc:PaymentDueDate></cac:PaymentMeans>"
    )
    assert "UBL-CR-412" in fired(means, DocumentKind.INVOICE)
    assert "UBL-CR-412" not in fired(means, DocumentKind.CREDIT_NOTE)


@pytest.mark.parametrize(
    ("codes", "parts", "expected"),
    [
        ("<cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>", "<cac:Attachment/>", {"UBL-CR-666"}),
        (
            "<cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>",
            "<cbc:DocumentDescription>d</cbc:DocumentDescription>",
            {"UBL-CR-673"},
        ),
        ("", "<cac:Attachment/>", set()),
        ("<cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>", "", set()),
    ],
)
def test_invoiced_object_reference(codes: str, parts: str, expected: set[str]) -> None:
    """An invoiced-object reference (type code 130) with an attachment or description fires
    UBL-CR-666 or 673 as fatal; without the code or the part it does not."""
    found = fired(
        f"<cac:AdditionalDocumentReference><cbc:ID>1</cbc:ID>{codes}{parts}</cac:AdditionalDocumentReference>"
    )
    assert {i for i in found if i in ("UBL-CR-666", "UBL-CR-673")} == expected
    assert all(found[i] == "fatal" for i in expected)


def test_scheme_identifier_outside_invoiced_objects() -> None:
    """A document reference with a scheme id fires UBL-CR-665 unless its type code is 130, and
    fires when any one of several codes differs."""

    def ref(codes: str) -> str:
        scheme = nest("cbc:ID", "1", 'schemeID="AAA"')
        return nest("cac:AdditionalDocumentReference", scheme + codes)

    code = "<cbc:DocumentTypeCode>{}</cbc:DocumentTypeCode>"
    assert "UBL-CR-665" in fired(ref(""))
    assert "UBL-CR-665" not in fired(ref(code.format("130")))
    # != holds when any code differs from 130
    assert "UBL-CR-665" in fired(ref(code.format("130") + code.format("50")))


# --- UBL-SR: counts per context -------------------------------------------------


def test_document_level_count() -> None:
    """Two invoice periods fire UBL-SR-08; one does not."""
    one = "<cac:InvoicePeriod/>"
    assert "UBL-SR-08" not in fired(one)
    assert fired(one * 2)["UBL-SR-08"] == "fatal"


def test_counts_are_per_context_not_per_document() -> None:
    """Note counts are per line: one note on each of two lines passes, two on one line fires
    UBL-SR-34."""
    note = "<cbc:Note>n</cbc:Note>"
    assert "UBL-SR-34" not in fired(line(note) + line(note))
    assert "UBL-SR-34" in fired(line(note) + line(note * 2))


def test_contexts_match_at_any_depth() -> None:
    """Address line counts are checked in every postal address, at any depth."""
    address = "<cac:PostalAddress><cac:AddressLine/><cac:AddressLine/></cac:PostalAddress>"
    deep = nest("cac:AccountingCustomerParty/cac:Party", address)
    assert "UBL-SR-51" in fired(deep)
    lines = "<cac:AddressLine/><cac:AddressLine/>"
    assert "UBL-SR-51" in fired(nest("cac:Delivery/cac:DeliveryLocation/cac:Address", lines))


def test_line_vat_category_exactly_once() -> None:
    """Each line needs exactly one VAT category: none or two fire UBL-SR-48, once per offending
    line."""
    assert "UBL-SR-48" not in fired(line())
    assert "UBL-SR-48" in fired("<cac:InvoiceLine><cbc:ID>1</cbc:ID></cac:InvoiceLine>")
    assert "UBL-SR-48" in fired(
        line("<cac:Item><cac:ClassifiedTaxCategory/></cac:Item>").replace(
            "<cac:Item><cac:ClassifiedTaxCategory/></cac:Item>",
            "<cac:Item><cac:ClassifiedTaxCategory/><cac:ClassifiedTaxCategory/></cac:Item>",
            1,
        )
    )
    # one line with two and one with none: both fail, together as many as lines
    two = nest("cac:InvoiceLine/cac:Item", "<cac:ClassifiedTaxCategory/>" * 2)
    none = "<cac:InvoiceLine/>"
    assert len([f for f in _RULES.evaluate(_doc(two + none)) if f.id == "UBL-SR-48"]) == 2


def _charge(indicators: str, reasons: int = 2) -> str:
    reason = "<cbc:AllowanceChargeReason>r</cbc:AllowanceChargeReason>" * reasons
    return f"<cac:AllowanceCharge>{indicators}{reason}</cac:AllowanceCharge>"


@pytest.mark.parametrize(
    ("indicators", "expected"),
    [
        ("<cbc:ChargeIndicator>false</cbc:ChargeIndicator>", {"UBL-SR-30"}),
        ("<cbc:ChargeIndicator>0</cbc:ChargeIndicator>", {"UBL-SR-30"}),
        ("<cbc:ChargeIndicator> true </cbc:ChargeIndicator>", {"UBL-SR-31"}),
        ("<cbc:ChargeIndicator>1</cbc:ChargeIndicator>", {"UBL-SR-31"}),
        # not a boolean: neither context matches (an error in a match pattern)
        ("<cbc:ChargeIndicator>TRUE</cbc:ChargeIndicator>", set()),
        ("", set()),
        # both: the allowance context comes first and takes the node
        (
            "<cbc:ChargeIndicator>true</cbc:ChargeIndicator><cbc:ChargeIndicator>false</cbc:ChargeIndicator>",
            {"UBL-SR-30"},
        ),
        # the first value decides when it matches, before the bad one is met
        (
            "<cbc:ChargeIndicator>true</cbc:ChargeIndicator><cbc:ChargeIndicator>x</cbc:ChargeIndicator>",
            {"UBL-SR-31"},
        ),
    ],
)
def test_allowance_or_charge_reason(indicators: str, expected: set[str]) -> None:
    """Two reasons fire UBL-SR-30 for an allowance or UBL-SR-31 for a charge by its boolean
    indicator (first matching value decides); a non-boolean or no indicator fires neither."""
    found = fired(_charge(indicators))
    assert {i for i in found if i in ("UBL-SR-30", "UBL-SR-31")} == expected
    assert not {i for i in fired(_charge(indicators, 1)) if i in ("UBL-SR-30", "UBL-SR-31")}


def test_scheme_identifier_only_for_invoiced_objects() -> None:
    """A scheme id or a bare type code on a document reference fires UBL-SR-43 unless the code is
    130 (or 50 on a credit note)."""

    def ref(code: str) -> str:
        codes = f"<cbc:DocumentTypeCode>{code}</cbc:DocumentTypeCode>" if code else ""
        scheme = nest("cbc:ID", "1", 'schemeID="AAA"')
        return nest("cac:AdditionalDocumentReference", scheme + codes)

    assert "UBL-SR-43" not in fired(ref("130"))
    assert "UBL-SR-43" in fired(ref(""))
    assert "UBL-SR-43" in fired(ref("50"), DocumentKind.INVOICE)
    assert "UBL-SR-43" not in fired(ref("50"), DocumentKind.CREDIT_NOTE)
    # a type code alone (no scheme) is not allowed either, unless 130 / 50
    plain = nest(
        "cac:AdditionalDocumentReference", "<cbc:DocumentTypeCode>916</cbc:DocumentTypeCode>"
    )
    assert "UBL-SR-43" in fired(plain)


def test_distinct_values_over_the_document() -> None:
    """Payment means codes must be equal across the document, compared as exact strings."""

    def means(code: str) -> str:
        return nest("cac:PaymentMeans/cbc:PaymentMeansCode", code)

    assert "UBL-SR-47" not in fired(means("30") + means("30"))
    assert "UBL-SR-47" in fired(means("30") + means("58"))
    assert "UBL-SR-47" in fired(means("30") + means(" 30"))  # string compare, no trimming


_SELLER = nest(
    "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName", "Seller"
)


@pytest.mark.parametrize(
    ("payee", "fails"),
    [
        ("<cac:PartyName><cbc:Name>Payee</cbc:Name></cac:PartyName>", False),
        ("<cac:PartyName><cbc:Name>Seller</cbc:Name></cac:PartyName>", True),
        ("", True),  # no name: the comparison with the seller is false
    ],
)
def test_payee_is_another_party(payee: str, fails: bool) -> None:
    """A payee whose name equals the seller's, or has none, fires UBL-SR-19/20/21; a different
    name does not."""
    found = fired(_SELLER + f"<cac:PayeeParty>{payee}</cac:PayeeParty>")
    assert (
        {"UBL-SR-19", "UBL-SR-20", "UBL-SR-21"} <= set(found)
        if fails
        else not {"UBL-SR-19", "UBL-SR-20", "UBL-SR-21"} & set(found)
    )


def test_payee_without_seller_name_fails() -> None:
    """A payee when the seller has no name fires UBL-SR-19."""
    assert "UBL-SR-19" in fired(
        "<cac:PayeeParty><cac:PartyName><cbc:Name>P</cbc:Name></cac:PartyName></cac:PayeeParty>"
    )


def test_payee_names_compare_as_sequences() -> None:
    """A payee with two names, one differing from the seller's, fires only the name count rule."""
    # one of two names differs from the seller's: the comparison holds, and
    # only the count of names fails
    names = "<cbc:Name>Seller</cbc:Name><cbc:Name>Other</cbc:Name>"
    found = fired(_SELLER + nest("cac:PayeeParty/cac:PartyName", names))
    assert {i for i in found if i in ("UBL-SR-19", "UBL-SR-20", "UBL-SR-21")} == {"UBL-SR-19"}


def test_payee_compares_with_the_seller_beside_it() -> None:
    """A payee is compared with the seller under its own parent, not another one elsewhere."""
    # a payee nested elsewhere compares with the seller name under its own parent
    payee = nest("cac:PayeeParty/cac:PartyName/cbc:Name", "Seller")
    nested = nest("cac:X", _SELLER + payee)
    assert "UBL-SR-19" in fired(nested)
    other = nest("cac:X", _SELLER.replace("Seller", "Else") + payee)
    assert "UBL-SR-19" not in fired(_SELLER + other)


def _supplier_schemes(*ids: str) -> str:
    schemes = "".join(
        f"<cac:PartyTaxScheme><cbc:CompanyID>X{n}</cbc:CompanyID><cac:TaxScheme><cbc:ID>{i}</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"
        for n, i in enumerate(ids)
    )
    return nest("cac:AccountingSupplierParty/cac:Party", schemes)


def test_seller_vat_identifiers_compare_upper_case() -> None:
    """Seller tax schemes compare case-insensitively: VAT twice fires UBL-SR-12, two non-VAT
    schemes UBL-SR-13, three schemes UBL-SR-42."""
    assert "UBL-SR-12" not in fired(_supplier_schemes("VAT", "FC"))
    assert "UBL-SR-12" in fired(_supplier_schemes("VAT", "vat"))
    assert "UBL-SR-13" in fired(_supplier_schemes("FC", "XY"))
    assert "UBL-SR-42" in fired(_supplier_schemes("VAT", "FC", "XY"))


def test_several_ids_in_one_tax_scheme_stop_the_rule() -> None:
    """Two ids in one tax scheme make UBL-SR-12 report "could not be evaluated" as fatal."""
    # upper-case() of two values is a dynamic error: the official validation
    # stops, and the engine reports the rule as not evaluable (fatal).
    scheme = "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cac:TaxScheme"
    bad = nest(scheme, "<cbc:ID>VAT</cbc:ID><cbc:ID>VAT</cbc:ID>")
    findings = [f for f in _RULES.evaluate(_doc(bad)) if f.id == "UBL-SR-12"]
    assert (
        findings and findings[0].flag == "fatal" and "could not be evaluated" in findings[0].message
    )


def test_party_tax_scheme_needs_both_parts() -> None:
    """A party tax scheme without a company id or without a tax scheme fires UBL-SR-53."""
    assert "UBL-SR-53" not in fired(_supplier_schemes("VAT"))
    assert "UBL-SR-53" in fired(
        "<cac:PartyTaxScheme><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"
    )
    assert "UBL-SR-53" in fired(
        "<cac:PartyTaxScheme><cbc:CompanyID>1</cbc:CompanyID></cac:PartyTaxScheme>"
    )


def test_sepa_creditor_identifiers() -> None:
    """One SEPA party identifier passes and two fire UBL-SR-29, whatever the scheme's case."""
    party = '<cac:PartyIdentification><cbc:ID schemeID="{}">1</cbc:ID></cac:PartyIdentification>'
    assert "UBL-SR-29" not in fired(party.format("SEPA"))
    assert "UBL-SR-29" in fired(party.format("SEPA") + party.format("sepa"))


# --- UBL-DT ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "fails"),
    [
        ("<cbc:TaxAmount>1.00</cbc:TaxAmount>", False),
        ("<cbc:TaxAmount>1.001</cbc:TaxAmount>", True),
        ("<cbc:TaxAmount>1.00 </cbc:TaxAmount>", True),  # the text after the point counts
        ("<cbc:TaxAmount>100</cbc:TaxAmount>", False),
        ("<cbc:PriceAmount>1.0001</cbc:PriceAmount>", False),
        ('<o:TotalAmount xmlns:o="urn:o/x">1.001</o:TotalAmount>', True),  # any namespace
        (
            "<cac:Price><cac:AllowanceCharge><cbc:BaseAmount>1.001</cbc:BaseAmount></cac:AllowanceCharge></cac:Price>",
            False,
        ),
        # under a price that has an allowance, even outside it
        (
            "<cac:Price><cac:AllowanceCharge/><cac:X><cbc:BaseAmount>1.001</cbc:BaseAmount></cac:X></cac:Price>",
            False,
        ),
        ("<cac:Price><cac:X><cbc:BaseAmount>1.001</cbc:BaseAmount></cac:X></cac:Price>", True),
    ],
)
def test_amount_decimals(element: str, fails: bool) -> None:
    """Amounts with more than two decimals (as written, any namespace) fire UBL-DT-01, except
    price amounts and base amounts under a price with an allowance."""
    assert ("UBL-DT-01" in fired(element)) is fails


_AMOUNTS = st.integers(0, 5).flatmap(
    lambda places: st.decimals(min_value=-(10**6), max_value=10**6, places=places)
)


@given(_AMOUNTS)
def test_amount_decimals_follow_the_text(value: Decimal) -> None:
    """UBL-DT-01 fires on a payable amount exactly when its text has more than two decimals."""
    text = format(value, "f")
    digits = len(text.partition(".")[2]) if "." in text else 0
    assert ("UBL-DT-01" in fired(f"<cbc:PayableAmount>{text}</cbc:PayableAmount>")) is (digits > 2)


def test_binary_objects_name_their_type_and_file() -> None:
    """An embedded binary object without mimeCode and filename fires UBL-DT-06 and 07; without
    only a filename, UBL-DT-07."""

    def ref(attrs: str) -> str:
        path = "cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject"
        return nest(path, "AA==", attrs)

    assert not {"UBL-DT-06", "UBL-DT-07"} & set(
        fired(ref('mimeCode="application/pdf" filename="a.pdf"'))
    )
    assert {"UBL-DT-06", "UBL-DT-07"} <= set(fired(ref("")))
    assert set(fired(ref('mimeCode="application/pdf"'))) & {"UBL-DT-06", "UBL-DT-07"} == {
        "UBL-DT-07"
    }


def test_name_attribute_only_on_payment_means_code() -> None:
    """A name attribute passes on the payment means code and fires UBL-DT-18 anywhere else."""
    ok = nest("cac:PaymentMeans/cbc:PaymentMeansCode", "30", 'name="Credit transfer"')
    assert "UBL-DT-18" not in fired(ok)
    assert "UBL-DT-18" in fired(ok + '<cbc:Note name="x">n</cbc:Note>')


# --- helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "step"),
    [
        ("cac:Party/cbc:ID", "cbc:ID"),
        ("cbc:ID/@schemeID", "@schemeID"),
        ("cac:X/{urn:a/b}Amount", "{urn:a/b}Amount"),
        ("cac:X/{urn:a/b}Y/@{urn:c/d}z", "@{urn:c/d}z"),
        ("cbc:ID", "cbc:ID"),
    ],
)
def test_last_step_minds_namespace_uris(key: str, step: str) -> None:
    """The last step of a path key is found even when namespace URIs contain slashes."""
    assert last_step(key) == step


@given(st.lists(st.sampled_from(["true", "false", "1", "0", " true", "x", "", "TRUE"]), max_size=4))
def test_boolean_comparison_is_first_match_in_order(texts: list[str]) -> None:
    """A boolean comparison over several values is decided by the first value, in order, and a
    non-boolean value before a match ends it unmatched."""
    elements = [etree.fromstring(f"<i>{t}</i>") for t in texts]
    for wanted in (True, False):
        expected = False
        for t in texts:
            v = t.strip()
            if v not in ("true", "false", "1", "0"):
                break  # a cast error: no match
            if (v in ("true", "1")) is wanted:
                expected = True
                break
        assert boolean_equals(elements, wanted) is expected


def test_string_value_skips_comments() -> None:
    """An element's string value joins its text and descendants' text, skipping comments."""
    assert string_value(etree.fromstring("<a>1.<!-- c -->5<b>0</b></a>")) == "1.50"


def test_unregistered_paths_are_refused() -> None:
    """Asking for a path the rules never registered raises KeyError."""
    with pytest.raises(KeyError):
        keys_anywhere(_doc(""), "cac:NotRegistered")


def test_not_used_rows_and_document_rules_are_generated_records() -> None:
    """The family's tables become shape records: each "shall not be used" row a context at its
    path failing wherever that path exists, the rest document-level assertions, and together they
    hold every one of the family's 756 rules once."""
    not_used, document = ubl_syntax.RULES
    rows = [c for c in not_used.contexts if c.at is not None]
    assert rows and len(rows) == len(not_used.contexts)
    assert [c.what for c in rows] == [c.at for c in rows]
    assert all(c.at is None and c.asserts for c in document.contexts)
    assert len(_RULES.ids) == len(asserts(ubl_syntax.RULES)) == 756
    (row,) = [c for c in rows if c.at == "cbc:ProfileExecutionID"]
    found = _RULES.evaluate(_doc("<cbc:ProfileExecutionID>x</cbc:ProfileExecutionID>"))
    assert row.asserts[0].id in {f.id for f in found}
