"""The print channel: PDF rendering of UBL invoices and credit notes, checked by
reading the PDF back with pypdf, and the daily batch with its manifest."""

from __future__ import annotations

import asyncio
import copy
import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader

from gateway.channels.files import Delivered
from gateway.channels.printfonts import _register
from gateway.channels.printing import MANIFEST, MANIFEST_COLUMNS, NO_ADDRESS, PdfPrintChannel
from gateway.channels.printwords import money, number
from gateway.channels.render import (
    ADDRESS_FIELD,
    RECIPIENT_TOP_MM,
    font_covers,
    read_document,
    recipient_of,
    render_pdf,
)
from gateway.config.settings import LimitSettings
from gateway.model import DocumentKind, ParticipantId
from gateway.samples import sample_document
from gateway.validation.facts import BUYER_PARTY, NAMESPACES, SELLER_PARTY
from gateway.validation.parse import parse_xml

MM = 72 / 25.4  # PDF points per millimetre
A4_HEIGHT_MM = 297
SELLER = ParticipantId("0088", "3791045278369")
BUYER = ParticipantId("0088", "3792077184529")
CREATED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
WINDOW_LINES = ("Maison Verlaine", "3 quai de la Tournette", "74000 Annecy")


def _root(kind: DocumentKind = DocumentKind.INVOICE) -> etree._Element:
    return parse_xml(sample_document(kind, seller=SELLER, buyer=BUYER), LimitSettings())


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def _render(root: etree._Element, created: datetime = CREATED) -> bytes:
    return render_pdf(read_document(root), created=created).data


def _text(pdf: bytes) -> list[str]:
    """Each page's text, whitespace collapsed: table cells come out one per line."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def _placed(pdf: bytes) -> list[tuple[str, float, float]]:
    """Each text run on page 1 with its start, in mm from the left and the top."""
    runs: list[tuple[str, float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if text.strip():
            runs.append((text.strip(), x / MM, A4_HEIGHT_MM - y / MM))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return runs


def _set(root: etree._Element, path: str, value: str) -> None:
    found = root.find(path, NAMESPACES)
    assert found is not None, path
    found.text = value


def _many_lines(count: int) -> etree._Element:
    root = _root()
    first = root.find("cac:InvoiceLine", NAMESPACES)
    assert first is not None
    for old in root.findall("cac:InvoiceLine", NAMESPACES):
        root.remove(old)
    for n in range(1, count + 1):
        line = copy.deepcopy(first)
        _set(line, "cbc:ID", str(n))
        _set(line, "cac:Item/cbc:Name", f"Article number {n}")
        _set(line, "cbc:LineExtensionAmount", f"{n}.25")
        root.append(line)
    return root


# --- the rendered page --------------------------------------------------------


def test_invoice_shows_parties_number_lines_vat_totals_and_payment() -> None:
    """The printed invoice shows the parties, number, line amounts, allowances, VAT breakdown,
    totals, IBAN, payment reference, due date and page count."""
    (page,) = _text(_render(_root()))
    for expected in (
        "Invoice",
        "No. ABQ-2026-0147",
        "Atelier Bressand Quincaillerie",
        "FR31814273652",  # seller VAT id
        *WINDOW_LINES,
        "222.00",  # line net amounts
        "195.00",
        "18.50",  # unit price
        "\u2212 20.00 EUR",  # document level allowance, with a minus sign
        "+ 15.00 EUR",  # and charge
        "Standard rate 20% 412.00 EUR 82.40 EUR",  # VAT breakdown row
        "Sum of line net amounts 417.00 EUR",
        "Total without VAT 412.00 EUR",
        "Total with VAT 494.40 EUR",
        "Amount due 494.40 EUR",
        "FR47 3000 4028 3700 0123 4567 813",  # IBAN in groups of four
        "Payment reference ABQ-2026-0147",
        "Due date 2026-12-02",
        "page 1 of 1",
    ):
        assert expected in page, expected


def test_credit_note_is_titled_and_totalled_as_one() -> None:
    """A printed credit note is titled so, names the invoice it corrects, and shows the amount
    credited."""
    (page,) = _text(_render(_root(DocumentKind.CREDIT_NOTE)))
    assert "Credit note" in page
    assert "Invoice" not in page.replace("InvoiceDocument", "")
    for expected in (
        "No. ABQ-AV-2026-0031",
        "Corrects ABQ-2026-0147 of 2026-11-02",
        "37.00",
        "Standard rate 20% 37.00 EUR 7.40 EUR",
        "Amount credited 44.40 EUR",
        *WINDOW_LINES,
    ):
        assert expected in page, expected


def test_recipient_address_sits_in_the_window_envelope_field() -> None:
    """The recipient's address lines are printed inside the window-envelope field."""
    # The constants say where the window is; the PDF must put the lines there.
    assert (ADDRESS_FIELD.left_mm, ADDRESS_FIELD.top_mm) == (20, 45)
    assert ADDRESS_FIELD.top_mm < RECIPIENT_TOP_MM < ADDRESS_FIELD.top_mm + ADDRESS_FIELD.height_mm
    runs = _placed(_render(_root()))
    for line in WINDOW_LINES:
        x, top = next((x, y) for text, x, y in runs if text == line)
        assert x == pytest.approx(ADDRESS_FIELD.left_mm, abs=0.5)
        # The baseline lies inside the window, at least a text height below its top.
        assert RECIPIENT_TOP_MM < top < ADDRESS_FIELD.top_mm + ADDRESS_FIELD.height_mm - 2


def test_foreign_recipient_gets_the_country_as_last_line() -> None:
    """A recipient abroad gets the country name in capitals as the last address line."""
    root = _root()
    _set(root, f"{BUYER_PARTY}/cac:PostalAddress/cac:Country/cbc:IdentificationCode", "DE")
    _set(root, f"{BUYER_PARTY}/cac:PostalAddress/cbc:PostalZone", "10115")
    _set(root, f"{BUYER_PARTY}/cac:PostalAddress/cbc:CityName", "Berlin")
    who = recipient_of(read_document(root))
    assert who.lines[-2:] == ("10115 Berlin", "GERMANY") and who.has_address
    assert any(text == "GERMANY" for text, _, _ in _placed(_render(root)))


def test_long_invoice_flows_over_pages_with_headers_and_page_numbers() -> None:
    """An invoice of 120 lines flows over several pages, each numbered and repeating the table
    header, with every line and the total shown."""
    pdf = render_pdf(read_document(_many_lines(120)), created=CREATED)
    pages = _text(pdf.data)
    assert pdf.pages == len(pages) >= 3
    for n, page in enumerate(pages, start=1):
        assert f"page {n} of {len(pages)}" in page
    with_lines = [p for p in pages if "Article number" in p]
    assert len(with_lines) >= 3
    assert all("Net amount (EUR)" in p for p in with_lines)  # the header repeats
    everything = " ".join(pages)
    assert all(f"Article number {n} " in everything for n in (1, 60, 120))
    assert "120.25" in everything and "Amount due 494.40 EUR" in pages[-1]


def test_same_input_gives_the_same_bytes_and_the_given_creation_date() -> None:
    """The same document and date render to the same PDF bytes, with that creation date and
    title; another date gives other bytes."""
    first = _render(_root())
    _render(_root(DocumentKind.CREDIT_NOTE))  # no state carried from one to the next
    assert _render(_root()) == first
    info = PdfReader(io.BytesIO(first)).metadata
    assert info is not None and info.creation_date == CREATED
    assert info.title == "Invoice ABQ-2026-0147"
    assert _render(_root(), datetime(2027, 1, 1, tzinfo=UTC)) != first


def test_odd_and_hostile_text_is_drawn_readably() -> None:
    """Non-Latin, markup-like and very long text prints readably: as written (or folded by the
    fallback font), long names cut with an ellipsis, the note's subject code dropped, and the
    total still shown."""
    root = _root()
    huge = "Aktiengesellschaft" * 60  # one 1080-character word
    _set(root, f"{BUYER_PARTY}/cac:PartyName/cbc:Name", "Ελλάδα Ltd <b>&amp; \u202e" + huge)
    _set(root, f"{BUYER_PARTY}/cac:PostalAddress/cbc:StreetName", "ul. Piotrkowska 12, Łódź")
    _set(root, f"{BUYER_PARTY}/cac:PostalAddress/cbc:CityName", "Zürich")
    _set(root, f"{SELLER_PARTY}/cac:PartyName/cbc:Name", "Ñandú " * 80)
    _set(root, "cac:InvoiceLine/cac:Item/cbc:Name", "日本語 😀 " + "x" * 3000)
    _set(root, "cbc:Note", "#AAI#Line one\nLine two with <tags> & ampersands")
    pages = _text(_render(root))
    text = " ".join(pages)
    assert "Zürich" in text and "Ñandú" in text
    assert "<b>&amp;" in text  # shown as written, not taken as markup
    assert "Line one" in text and "Line two with <tags> & ampersands" in text
    assert "#AAI#" not in text
    if font_covers("Łódź Ελλάδα"):
        assert "Łódź" in text and "Ελλάδα" in text
    else:  # the Vera fallback folds what it cannot draw
        assert "Łódz" in text
    assert "…" in text  # the long name was cut to the window's width
    assert "494.40 EUR" in pages[-1]


def test_without_dejavu_the_vera_fallback_folds_what_it_cannot_draw(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the DejaVu fonts, the bundled Vera font folds characters it cannot draw and the
    invoice still prints."""
    # A machine without fonts-dejavu-core gets Bitstream Vera, which ships
    # inside reportlab and covers Western Latin only.
    vera = _register("Vera.ttf", "VeraBd.ttf", unicode=False, name="TestVera")
    assert vera.fold("Zürich Łódź Ελλάδα 日本") == "Zürich Łódz ?????? ??"
    assert vera.fold("a\u200bb") == "ab"  # invisible format characters go
    assert vera.markup("<b>&\nx", keep_breaks=True) == "&lt;b&gt;&amp;<br/>x"
    monkeypatch.setattr("gateway.channels.render.load_fonts", lambda: vera)
    root = _root()
    _set(root, f"{BUYER_PARTY}/cac:PostalAddress/cbc:CityName", "Łódź")
    (page,) = _text(_render(root))
    assert "74000 Łódz" in page and "Amount due 494.40 EUR" in page


def test_every_field_at_its_longest_still_prints() -> None:
    """A document with every field at an absurd length prints on fewer than 12 numbered pages,
    and a non-numeric amount shows as missing."""
    # Wide letters in every text node and attribute: no row, block or line
    # may grow past a page, and amounts that are not numbers show as missing.
    root = _many_lines(3)
    for n, el in enumerate(root.iter()):
        if el.text and el.text.strip():
            el.text = ("WW" * 400) if n % 2 else ("WIDE " * 160)
        for key in el.attrib:
            el.set(key, "M" * 300)
    pdf = render_pdf(read_document(root), created=CREATED)
    pages = _text(pdf.data)
    assert pdf.pages == len(pages) < 12
    assert all(f"page {n} of {len(pages)}" in p for n, p in enumerate(pages, start=1))
    assert "Amount due —" in " ".join(pages)


def test_number_formats() -> None:
    """Amounts print with thousands separators, two decimals and the currency, and a missing
    amount as a dash."""
    assert money(Decimal("1234.5"), "EUR") == "1,234.50 EUR"
    assert money(Decimal("-0.005"), "SEK") == "-0.00 SEK"
    assert money(None, "EUR") == "—"
    assert number(Decimal("12.500")) == "12.5"
    assert number(Decimal("1200")) == "1,200"
    assert number(Decimal("1" * 35), 2).endswith(".00")


# --- the channel ----------------------------------------------------------------


def _manifest(root: Path, day: str = "2026-11-02") -> list[dict[str, str]]:
    with open(root / day / MANIFEST, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == MANIFEST_COLUMNS
    return [dict(zip(MANIFEST_COLUMNS, row, strict=True)) for row in rows[1:]]


async def test_channel_writes_the_pdf_and_one_manifest_row_even_when_delivered_twice(
    tmp_path: Path,
) -> None:
    """Printing a document writes its PDF and one manifest row in the day's batch, and printing
    it again, even after a restart, adds nothing."""
    payload = _bytes(_root())
    channel = PdfPrintChannel(tmp_path)
    done = await channel.deliver(str(BUYER), "doc-1", payload, now=CREATED)
    assert done == Delivered(
        location=str(tmp_path / "2026-11-02" / "doc-1.pdf"), batch="2026-11-02"
    )
    again = await channel.deliver(str(BUYER), "doc-1", payload, now=CREATED)
    # After a restart too: the new process reads the manifest from disk.
    await PdfPrintChannel(tmp_path).deliver(str(BUYER), "doc-1", payload, now=CREATED)
    assert again == done
    assert _manifest(tmp_path) == [
        {
            "document_id": "doc-1",
            "recipient": str(BUYER),
            "pages": "1",
            "address": " / ".join(WINDOW_LINES),
            "file": "doc-1.pdf",
        }
    ]
    pdf = await asyncio.to_thread(Path(done.location).read_bytes)
    assert "Amount due 494.40 EUR" in _text(pdf)[0]
    assert sorted(p.name for p in (tmp_path / "2026-11-02").iterdir()) == ["doc-1.pdf", MANIFEST]


async def test_a_crash_between_pdf_and_manifest_row_is_repaired_by_the_retry(
    tmp_path: Path,
) -> None:
    """A half-written PDF left by a crash is replaced on retry and the manifest gets its row."""
    (tmp_path / "2026-11-02").mkdir()
    (tmp_path / "2026-11-02" / "doc-1.pdf").write_bytes(b"half an attempt")
    await PdfPrintChannel(tmp_path).deliver(str(BUYER), "doc-1", _bytes(_root()), now=CREATED)
    assert [row["document_id"] for row in _manifest(tmp_path)] == ["doc-1"]
    assert (tmp_path / "2026-11-02" / "doc-1.pdf").read_bytes().startswith(b"%PDF")


async def test_concurrent_deliveries_each_get_one_row(tmp_path: Path) -> None:
    """Concurrent prints, some of the same documents, give exactly one manifest row per document."""
    channel = PdfPrintChannel(tmp_path)
    payload = _bytes(_root())
    ids = [f"doc-{n}" for n in range(8)]
    await asyncio.gather(
        *(channel.deliver(str(BUYER), i, payload, now=CREATED) for i in ids + ids[:3])
    )
    assert sorted(row["document_id"] for row in _manifest(tmp_path)) == sorted(ids)


async def test_missing_postal_address_is_printed_and_flagged(tmp_path: Path) -> None:
    """A document whose buyer has no postal address is still printed and flagged in the manifest."""
    root = _root()
    address = root.find(f"{BUYER_PARTY}/cac:PostalAddress", NAMESPACES)
    assert address is not None
    for tag in ("cbc:StreetName", "cbc:CityName", "cbc:PostalZone"):
        found = address.find(tag, NAMESPACES)
        assert found is not None
        address.remove(found)
    done = await PdfPrintChannel(tmp_path).deliver(str(BUYER), "d", _bytes(root), now=CREATED)
    assert await asyncio.to_thread(Path(done.location).is_file)
    assert _manifest(tmp_path)[0]["address"] == NO_ADDRESS


async def test_address_from_the_directory_replaces_the_documents(tmp_path: Path) -> None:
    """An address from the partner directory replaces the document's on the page and in the
    manifest, where a leading = is escaped so spreadsheets do not run it."""
    channel = PdfPrintChannel(tmp_path)
    done = await channel.deliver(
        str(BUYER),
        "d",
        _bytes(_root()),
        now=datetime(2026, 11, 3, 23, 59, tzinfo=UTC),
        address=("Postfach 12", "8001 Zürich", "SWITZERLAND"),
        name="=Verlaine Suisse SA",  # a spreadsheet must not run it as a formula
    )
    assert done.batch == "2026-11-03"
    (row,) = _manifest(tmp_path, "2026-11-03")
    assert row["address"] == "'=Verlaine Suisse SA / Postfach 12 / 8001 Zürich / SWITZERLAND"
    pdf = await asyncio.to_thread(Path(done.location).read_bytes)
    runs = [text for text, x, _ in _placed(pdf) if x < 25]
    assert "8001 Zürich" in runs and "=Verlaine Suisse SA" in runs
