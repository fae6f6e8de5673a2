"""The invoice page of the recipient portal: a UBL invoice or credit note as an
HTML fragment (gateway.channels.invoice_html), read back with lxml.html and
checked against the document's own values read with XPath."""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import json
import re
import tomllib
from decimal import Decimal
from pathlib import Path

import lxml.html
import pytest
from lxml import etree

from gateway.channels.invoice_html import invoice_html
from gateway.channels.invoice_words import FR_LABELS
from gateway.channels.print_layout import Totals, read_document
from gateway.channels.print_rows import total_rows
from gateway.config.settings import LimitSettings
from gateway.errors import NotXml, UnknownDocument
from gateway.validation.facts import NAMESPACES
from gateway.validation.parse import parse_xml
from tests.builders import credit_note, invoice
from tests.support import CORPUS, REPO, require_corpus

LIMITS = LimitSettings()
CHANNELS = REPO / "gateway" / "channels"
TEMPLATE = CHANNELS / "templates" / "invoice.html"
NS = {**NAMESPACES}

# Every element and attribute the template itself writes; anything else in
# the output would have come from a document.
TAGS = {
    "article",
    "header",
    "h2",
    "h3",
    "span",
    "dl",
    "dt",
    "dd",
    "section",
    "p",
    "br",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "data",
}
ATTRIBUTES = {"id", "class", "lang", "value", "scope"}


def _page(payload: bytes, lang: str = "en") -> lxml.html.HtmlElement:
    html = str(invoice_html(payload, LIMITS, lang))
    root = lxml.html.fragment_fromstring(html)  # fails unless exactly one element
    assert root.tag == "article" and root.get("id") == "invoice"
    return root


def _text(el: lxml.html.HtmlElement) -> str:
    """The text under ``el``, a space between elements; ASCII spaces collapsed, and
    no-break spaces kept (the French page writes 12\u202f345,60)."""
    return re.sub(r"[ \t\r\n]+", " ", " ".join(el.itertext())).strip()


def _all(el: lxml.html.HtmlElement, cls: str) -> list[lxml.html.HtmlElement]:
    """The elements under ``el`` with the class ``cls``."""
    found = el.xpath(f".//*[contains(concat(' ', @class, ' '), ' {cls} ')]")
    assert isinstance(found, list)
    return found


def _one(el: lxml.html.HtmlElement, cls: str) -> lxml.html.HtmlElement:
    (found,) = _all(el, cls)
    return found


def _xpath(root: etree._Element, path: str) -> str:
    return " ".join(str(root.xpath(f"string({path})", namespaces=NS)).split())


def _shown(value: str) -> str:
    """An amount as the English page shows it, computed here on its own: thousands
    separated by commas, at least two decimals and every decimal written."""
    amount = Decimal(value)
    places = max(2, -int(amount.as_tuple().exponent))
    return f"{amount:,.{places}f}"


def _corpus_documents() -> list[Path]:
    """Every schema-valid example invoice and credit note the corpus labels."""
    require_corpus()
    out = []
    for raw in (CORPUS / "labels.jsonl").read_text().splitlines():
        label = json.loads(raw)
        example = label["kind"] == "example" and label["schema_valid"]
        if example and label["root"] in ("Invoice", "CreditNote"):
            out.append(CORPUS / label["path"])
    return out


def _edit(payload: bytes, changes: dict[str, str]) -> bytes:
    root = parse_xml(payload, LIMITS)
    for path, value in changes.items():
        found = root.xpath(path, namespaces=NS)
        assert found, path
        for el in found:
            if isinstance(el, etree._ElementUnicodeResult):  # an attribute
                parent = el.getparent()
                assert parent is not None and el.attrname is not None
                parent.set(el.attrname, value)
            else:
                el.text = value
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def _totals(page: lxml.html.HtmlElement) -> dict[str, str]:
    rows = _one(page, "inv-totals-table").xpath(".//tr")
    out = {}
    for row in rows:
        data = row.xpath(".//data")
        out[_text(row.xpath("th")[0])] = data[0].get("value") if data else ""
    return out


# --- real documents -----------------------------------------------------------


def test_every_corpus_example_shows_its_number_totals_and_line_amounts() -> None:
    """Each valid example invoice and credit note of the corpus renders; its page shows the
    document's number, amount due, totals with and without VAT, and every line with its id
    and net amount, the same values XPath reads from the UBL."""
    kinds = {"Invoice": 0, "CreditNote": 0}
    for path in _corpus_documents():
        payload, name = path.read_bytes(), path.name
        root = etree.fromstring(payload)
        kind = etree.QName(root).localname
        kinds[kind] += 1
        page = _page(payload)
        assert _text(_one(page, "inv-number")) == _xpath(root, "cbc:ID"), name
        expected_class = "inv inv-invoice" if kind == "Invoice" else "inv inv-credit-note"
        assert page.get("class") == expected_class, name
        shown = list(_totals(page).values())
        for total in ("PayableAmount", "TaxExclusiveAmount", "TaxInclusiveAmount"):
            written = _xpath(root, f"cac:LegalMonetaryTotal/cbc:{total}")
            assert any(v and Decimal(v) == Decimal(written) for v in shown), (name, total)
        due = _xpath(root, "cac:LegalMonetaryTotal/cbc:PayableAmount")
        assert Decimal(shown[-1]) == Decimal(due), name  # the amount due comes last
        lines = root.xpath(f"cac:{kind}Line", namespaces=NS)
        rows = _all(page, "inv-line")
        assert len(rows) == len(lines) > 0, name
        for row, line in zip(rows, lines, strict=True):
            written = _xpath(line, "cbc:LineExtensionAmount")
            (net,) = _one(row, "inv-net").xpath(".//data")
            assert Decimal(net.get("value")) == Decimal(written), name
            assert _text(net) == _shown(written), name
            assert _text(_one(row, "inv-line-id")) == _xpath(line, "cbc:ID"), name
            item = _xpath(line, "cac:Item/cbc:Name")
            assert _text(_one(row, "inv-item-name")) == item, name
    assert kinds["Invoice"] >= 50 and kinds["CreditNote"] >= 5, kinds


def test_sample_invoice_shows_parties_lines_vat_totals_and_payment() -> None:
    """The sample invoice's page shows the facts, both parties with their identifiers and
    addresses, the lines with quantity, unit, price and VAT, the allowance and the charge,
    the VAT breakdown, the totals and the payment details, labelled in English."""
    page = _page(invoice("ABQ-2026-0147"))
    text = _text(page)
    assert _text(_one(page, "inv-title")) == "Invoice ABQ-2026-0147"
    facts = [_text(el) for el in _one(page, "inv-facts").xpath("dt|dd")]
    assert facts[:8] == [
        "Issue date",
        "2026-11-02",
        "Due date",
        "2026-12-02",
        "Buyer reference",
        "MVH-ACH-88213",
        "Order reference",
        "PO-88213",
    ]
    (seller,) = _all(page, "inv-seller")
    (buyer,) = _all(page, "inv-buyer")
    for expected in (
        "Seller",
        "Atelier Bressand Quincaillerie SAS",
        "VAT id FR31814273652",
        "Registration no. 814273652",
        "14 rue des Tanneurs 69002 Lyon France",
    ):
        assert expected in _text(seller), expected
    for expected in (
        "Buyer",
        "Maison Verlaine",
        "VAT id FR28529381741",
        "3 quai de la Tournette 74000 Annecy France",
    ):
        assert expected in _text(buyer), expected
    first = [_text(td) for td in _all(page, "inv-line")[0].xpath("td")]
    assert first[0] == "1" and first[1].startswith("Concealed hinge set")
    assert first[2:] == ["12", "unit", "18.50", "222.00", "S 20%"]
    assert [_text(tr) for tr in _one(page, "inv-allowances-table").xpath("tbody/tr")] == [
        "Allowance Discount S 20% \u2212 20.00",
        "Charge Freight service S 20% + 15.00",
    ]
    assert [_text(tr) for tr in _one(page, "inv-vat-table").xpath("tbody/tr")] == [
        "Standard rate 20% 412.00 82.40"
    ]
    assert [_text(tr) for tr in _one(page, "inv-totals-table").xpath(".//tr")] == [
        "Sum of line net amounts 417.00 EUR",
        "Allowances 20.00 EUR",
        "Charges 15.00 EUR",
        "Total without VAT 412.00 EUR",
        "VAT 82.40 EUR",
        "Total with VAT 494.40 EUR",
        "Amount due 494.40 EUR",
    ]
    assert _one(page, "inv-totals-table").xpath(".//tr")[-1].get("class") == "inv-due"
    for expected in (
        "Payment means Credit transfer",
        "IBAN FR47 3000 4028 3700 0123 4567 813",
        "Payment reference ABQ-2026-0147",
        "Terms Payment within 30 days",
    ):
        assert expected in text, expected
    assert "Hinges and fitting for the east wing refurbishment." in text


def test_credit_note_page_is_titled_and_totalled_as_one() -> None:
    """A credit note's page says Credit note (Avoir in French), names the invoice it
    corrects, lists its CreditNoteLine amounts and ends with the amount credited."""
    page = _page(credit_note("AV-7"))
    assert page.get("class") == "inv inv-credit-note"
    assert _text(_one(page, "inv-title")) == "Credit note AV-7"
    assert "Corrects ABQ-2026-0147 of 2026-11-02" in _text(page)
    assert [_text(td) for td in _all(page, "inv-net")] == ["37.00"]
    assert list(_totals(page).items())[-1] == ("Amount credited", "44.40")
    fr = _page(credit_note("AV-7"), "fr")
    assert _text(_one(fr, "inv-title")) == "Avoir AV-7"
    assert "Rectifie ABQ-2026-0147 du 2026-11-02" in _text(fr)
    assert list(_totals(fr).items())[-1] == ("Montant crédité", "44.40")


def test_price_per_base_quantity_and_account_that_is_no_iban_are_shown_as_such() -> None:
    """A price per 100 units shows "/ 100"; an account id that is no IBAN is labelled
    Account and shown as written, not cut into groups of four."""
    payload = _edit(
        invoice("B-1"),
        {
            "cac:InvoiceLine[2]/cac:Price/cbc:BaseQuantity": "100",
            "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID": "123456789012",
        },
    )
    page = _page(payload)
    assert _text(_all(page, "inv-price")[1]) == "65.00 / 100"
    assert "Account 123456789012" in _text(_one(page, "inv-payment"))
    assert "IBAN" not in _text(page)


# --- French -------------------------------------------------------------------


def test_french_page_has_french_labels_and_numbers() -> None:
    """With lang="fr" the headings, labels and code names are French and amounts are
    written 12 345,60 (narrow no-break space, decimal comma); the values are unchanged."""
    payload = _edit(
        invoice("F-1"),
        {
            "cac:LegalMonetaryTotal/cbc:PayableAmount": "12345.6",
            "cac:InvoiceLine[1]/cac:Price/cbc:PriceAmount": "18.5025",
        },
    )
    page = _page(payload, "fr")
    assert page.get("lang") == "fr"
    text = _text(page)
    headings = [_text(h) for h in page.xpath(".//h3")]
    assert headings == [
        "Vendeur",
        "Acheteur",
        "Notes",
        "Lignes",
        "Remises et frais",
        "Ventilation de la TVA",
        "Totaux",
        "Paiement",
    ]
    for expected in (
        "Date d'émission 2026-11-02",
        "Date d'échéance 2026-12-02",
        "Référence acheteur MVH-ACH-88213",
        "N° de TVA FR31814273652",
        "Taux normal 20\u202f% 412,00 82,40",
        "Total TTC 494,40 EUR",
        "Montant à payer 12\u202f345,60 EUR",
        "Moyen de paiement Virement",
        "Conditions de paiement",
        "heure",
        "Adresse 3 quai de la Tournette",
    ):
        assert expected in text, expected
    assert _text(_all(page, "inv-price")[0]) == "18,5025"
    assert _totals(page)["Montant à payer"] == "12345.6"
    for english in ("Seller", "Amount due", "Total with VAT", "Unit price", "Payment means"):
        assert english not in text, english
    en = _page(payload)
    assert _totals(en)["Amount due"] == "12345.6"
    assert "Amount due 12,345.60 EUR" in _text(en)


def test_every_label_the_page_uses_has_a_french_translation() -> None:
    """No English label is left on a French page: each label the template, the page's
    code and the totals' rows can show has its French wording."""
    sources = TEMPLATE.read_text() + (CHANNELS / "invoice_html.py").read_text()
    used = set(re.findall(r'\bw\("([^"]+)"', sources))
    assert len(used) > 40
    every = Totals(**{name: Decimal(1) for name in Totals.__dataclass_fields__})
    for payload in (invoice(), credit_note()):
        doc = dataclasses.replace(read_document(parse_xml(payload, LIMITS)), totals=every)
        used |= {label for label, _ in total_rows(doc)}
    assert used - FR_LABELS == set()


# --- hostile text ---------------------------------------------------------------

HOSTILE = (
    "<script>alert(1)</script>",
    '"onmouseover="alert(2)',
    "</article><img src=x onerror=alert(3)>",
    "' autofocus onfocus='alert(4)",
    "{{ 7*7 }}<!--",
    '<a href="javascript:alert(5)" style="color:red">x</a>',
)


def _hostile_invoice() -> bytes:
    base = invoice(HOSTILE[0])
    root = parse_xml(base, LIMITS)
    party = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    assert party is not None
    ident = etree.SubElement(party, f"{{{NS['cac']}}}PartyIdentification")
    ident_id = etree.SubElement(ident, f"{{{NS['cbc']}}}ID", schemeID=HOSTILE[1])
    ident_id.text = HOSTILE[2]
    name = party.find("cac:PartyName", NS)
    assert name is not None
    name.addprevious(ident)  # where the schema wants it
    note = root.find("cbc:Note", NS)
    assert note is not None
    second = copy.deepcopy(note)
    second.text = f"{HOSTILE[5]}\n{HOSTILE[4]}"
    note.addnext(second)
    payload = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    return _edit(
        payload,
        {
            "cac:AccountingSupplierParty/cac:Party/cac:PartyName/cbc:Name": HOSTILE[1],
            "cac:AccountingCustomerParty/cac:Party/cac:PartyName/cbc:Name": HOSTILE[2],
            "cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cbc:StreetName": HOSTILE[3],
            "cbc:Note[1]": HOSTILE[0],
            "cbc:BuyerReference": HOSTILE[3],
            "cac:OrderReference/cbc:ID": HOSTILE[5],
            "cac:InvoiceLine[1]/cac:Item/cbc:Name": HOSTILE[2],
            "cac:InvoiceLine[2]/cac:Item/cbc:Name": HOSTILE[4],
            "cac:InvoiceLine[1]/cbc:ID": HOSTILE[1],
            "cac:InvoiceLine[1]/cbc:InvoicedQuantity/@unitCode": HOSTILE[2],
            "cac:AllowanceCharge[1]/cbc:AllowanceChargeReason": HOSTILE[0],
            "cac:PaymentMeans/cbc:PaymentID": HOSTILE[2],
            "cac:PaymentMeans/cbc:PaymentMeansCode/@name": HOSTILE[0],
            "cac:PaymentTerms/cbc:Note": HOSTILE[5],
            "cbc:DocumentCurrencyCode": '"><i>',
        },
    )


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_hostile_invoice_text_comes_out_as_text(lang: str) -> None:
    """Markup, quotes and comment or template syntax in names, notes, item names,
    references, codes and identifiers are shown as the text they are: the page holds
    only the elements and attributes the template writes, no script, no event handler,
    no style, one article."""
    payload = _hostile_invoice()
    html = str(invoice_html(payload, LIMITS, lang))
    page = _page(payload, lang)
    assert html.count("<article") == 1 and html.count("</article>") == 1
    assert "<script" not in html.lower() and "<img" not in html.lower()
    for el in page.iter():
        assert isinstance(el.tag, str), el  # no comment or processing instruction
        assert el.tag in TAGS, el.tag
        assert set(el.attrib) <= ATTRIBUTES, el.attrib
        for attr, value in el.attrib.items():
            if attr == "class":
                assert re.fullmatch(r"inv(-[a-z]+)*( inv(-[a-z]+)*)*", value), value
            elif attr == "value":
                Decimal(value)  # amounts only
            else:
                assert (attr, value) in {
                    ("id", "invoice"),
                    ("lang", lang),
                    ("scope", "col"),
                    ("scope", "row"),
                }, (attr, value)
    text = page.text_content()
    for hostile in HOSTILE:
        assert hostile in text, hostile
    assert f"{HOSTILE[1][:16]}:{HOSTILE[2]}" in text  # the scheme of an identifier, cut
    assert "49" not in _text(_all(page, "inv-line")[1])  # no template evaluation


# --- bad input ------------------------------------------------------------------


def test_bad_payload_or_language_is_refused_with_a_clear_error() -> None:
    """Bytes that are not XML, a UBL document that is no invoice or credit note, and a
    language other than en or fr are refused with an error naming the problem."""
    with pytest.raises(NotXml):
        invoice_html(b"this is not xml", LIMITS)
    order = b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>'
    with pytest.raises(UnknownDocument):
        invoice_html(order, LIMITS)
    with pytest.raises(ValueError, match="'de' is not one of en, fr"):
        invoice_html(invoice(), LIMITS, "de")


def test_thin_invoice_renders_with_dashes_for_missing_amounts() -> None:
    """An invoice whose amounts are missing or unreadable still renders; the missing
    amounts show a dash instead of failing the page."""
    payload = _edit(
        invoice("THIN-1"),
        {
            "cac:InvoiceLine[1]/cbc:LineExtensionAmount": "twelve",
            "cac:LegalMonetaryTotal/cbc:PayableAmount": "",
        },
    )
    page = _page(payload)
    assert _text(_all(page, "inv-net")[0]) == "\u2014"
    assert _text(_one(page, "inv-due").xpath("td")[0]) == "\u2014"


def test_template_is_shipped_with_the_package() -> None:
    """The installed package carries the page's template: pyproject's package data
    names it, so a wheel-installed gateway renders the same page."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["gateway"]
    relative = TEMPLATE.relative_to(REPO / "gateway").as_posix()
    assert any(fnmatch.fnmatch(relative, g) for g in globs), globs
    assert "jinja2==3.1.6" in config["project"]["dependencies"]
