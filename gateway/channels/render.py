"""A UBL 2.1 Invoice or CreditNote read into a small print model, and that model
rendered as a print-ready A4 PDF for a recipient in no network.

Both steps are pure: ``read_document`` (in ``printmodel``) takes an lxml root
to a frozen ``PrintDocument``; ``render_pdf`` takes that to PDF bytes. Reading
never fails on a thin document (a missing value is "" or None). The only files
ever read are the fonts, once per process (``printfonts``); the wording and
number formats are in ``printwords``.

The PDF is deterministic: reportlab's invariant mode fixes the document id and
timestamps, and the creation date shown is the ``created`` argument.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    FrameBreak,
    KeepInFrame,
    KeepTogether,
    LongTable,
    NextPageTemplate,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from gateway.channels.print_layout import (
    Line,
    PrintDocument,
    Recipient,
    read_document,
    recipient_of,
)
from gateway.channels.print_rows import (
    identity_rows,
    info_rows,
    payment_rows,
    return_address,
    total_rows,
)
from gateway.channels.printfonts import Fonts, font_covers, load_fonts
from gateway.channels.printwords import country_name, money, number, percent, unit_name, vat_label

__all__ = [
    "ADDRESS_FIELD",
    "RECIPIENT_TOP_MM",
    "PrintDocument",
    "Recipient",
    "RenderedPdf",
    "Window",
    "font_covers",
    "read_document",
    "recipient_of",
    "render_pdf",
]


@dataclass(frozen=True, slots=True)
class Window:
    """A rectangle on the page, in millimetres from the top-left corner."""

    left_mm: float
    top_mm: float
    width_mm: float
    height_mm: float


# DIN 5008 form B address field, which a DL (DIN 680) left-window envelope
# shows when the A4 sheet is folded in three at 105 and 210 mm: 20 mm from the
# left edge, 45 mm from the top, 85 x 45 mm. Its first 17.7 mm are the zone for
# the return address and postal notes, so the recipient starts at 62.7 mm and
# stays clear of the window's edges (the envelope's own window begins at about
# 50 mm). French right-window envelopes would need another rectangle; the
# address lines already follow NF Z 10-011 (6 lines, country last in capitals).
ADDRESS_FIELD = Window(left_mm=20, top_mm=45, width_mm=85, height_mm=45)
RECIPIENT_TOP_MM = 62.7
_RECIPIENT_MAX_SIZE, _RECIPIENT_MIN_SIZE = 10.0, 7.0  # points; postal readers want 9-12

_PAGE_W, _PAGE_H = A4
_LEFT, _RIGHT, _TOP, _BOTTOM = 20 * mm, 15 * mm, 15 * mm, 20 * mm
_BODY_W = _PAGE_W - _LEFT - _RIGHT
_INFO_X = 118 * mm  # right of the address field, like DIN 5008's information block
_INFO_H = 58 * mm
_FIRST_FLOW_TOP = 103 * mm  # below the address field and the first fold mark
_FOLDS_MM = (105.0, 210.0)  # DIN 5008 form B fold marks; the punch mark sits mid-page
_GREY = colors.HexColor("#555555")
_RULE = colors.HexColor("#BBBBBB")
_SHADE = colors.HexColor("#EEEEEE")
_MINUS = "\u2212"  # as wide as "+", so signed amounts line up
_CELL_SIZE, _CELL_PAD = 8, 2  # points
_SIDES = ("TOP", "BOTTOM", "LEFT", "RIGHT")

# reportlab keeps per-document state in shared font objects and module globals;
# rendering is CPU-bound under the GIL anyway, so one at a time costs nothing.
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class RenderedPdf:
    data: bytes
    pages: int


def render_pdf(
    doc: PrintDocument, *, created: datetime, recipient: Recipient | None = None
) -> RenderedPdf:
    """A4 PDF of ``doc``, addressed to ``recipient`` (by default, the buyer)."""
    who = recipient if recipient is not None else recipient_of(doc)
    with _LOCK:
        fonts = load_fonts()
        # "page N of M" needs M before the footers are drawn. Most documents
        # fit one page, so build once assuming 1 and again only when wrong;
        # footers sit outside the frames, so the second pass paginates alike.
        data, pages = _Layout(doc, who, fonts, created, total=1).build()
        if pages != 1:
            data, pages = _Layout(doc, who, fonts, created, total=pages).build()
    return RenderedPdf(data=data, pages=pages)


class _Layout:
    """One build of one document: page decorations and the flowing story."""

    def __init__(
        self, doc: PrintDocument, who: Recipient, fonts: Fonts, created: datetime, *, total: int
    ) -> None:
        self.doc, self.who, self.f, self.total = doc, who, fonts, total
        if created.tzinfo is not None:
            created = created.astimezone(UTC)
        self.stamp = created.strftime("D:%Y%m%d%H%M%S+00'00'")  # PDF date syntax, UTC
        self.pages = 0
        self.s = _Styles(fonts)

    def build(self) -> tuple[bytes, int]:
        out = io.BytesIO()
        d = self.doc
        tmpl = BaseDocTemplate(
            out,
            pagesize=A4,
            invariant=1,
            title=f"{d.title} {d.number}",  # metadata is UTF-16: no font, no folding
            author=d.seller.name,
            creator="einvoice-gateway",
            subject=f"{d.title} {d.number} for {d.buyer.name}",
        )
        info_w = _PAGE_W - _RIGHT - _INFO_X
        first = [
            _frame("info", _INFO_X, _PAGE_H - 45 * mm - _INFO_H, info_w, _INFO_H, pad=0),
            _frame("body1", _LEFT, _BOTTOM, _BODY_W, _PAGE_H - _FIRST_FLOW_TOP - _BOTTOM),
        ]
        later = _frame("body", _LEFT, _BOTTOM, _BODY_W, _PAGE_H - _TOP - 10 * mm - _BOTTOM)
        tmpl.addPageTemplates(
            [
                PageTemplate(id="first", frames=first, onPage=self._first_page),
                PageTemplate(id="later", frames=[later], onPage=self._later_page),
            ]
        )
        tmpl.build(self._story())
        return out.getvalue(), self.pages

    # --- page decorations (drawn at fixed places, outside the frames) ------

    def _first_page(self, canv: Any, _tmpl: Any) -> None:
        canv.setDateFormatter(lambda *_: self.stamp)
        self.pages = canv.getPageNumber()
        self._seller_block(canv)
        self._address(canv)
        canv.setStrokeColor(_RULE)
        canv.setLineWidth(0.4)
        for top in (*_FOLDS_MM, _PAGE_H / mm / 2):
            y = _PAGE_H - top * mm
            canv.line(3 * mm, y, 7 * mm, y)
        self._footer(canv)

    def _later_page(self, canv: Any, _tmpl: Any) -> None:
        self.pages = canv.getPageNumber()
        d, y = self.doc, _PAGE_H - _TOP
        canv.setFont(self.f.bold, 9)
        canv.setFillColor(colors.black)
        canv.drawString(_LEFT, y, self._fit(f"{d.title} {d.number}", self.f.bold, 9, 90 * mm))
        canv.setFont(self.f.regular, 8)
        canv.drawRightString(
            _PAGE_W - _RIGHT, y, self._fit(d.buyer.name, self.f.regular, 8, 80 * mm)
        )
        canv.setStrokeColor(_RULE)
        canv.line(_LEFT, y - 2.5 * mm, _PAGE_W - _RIGHT, y - 2.5 * mm)
        self._footer(canv)

    def _footer(self, canv: Any) -> None:
        d, y = self.doc, 10 * mm
        canv.setFont(self.f.regular, 7.5)
        canv.setFillColor(_GREY)
        left = f"{d.seller.name} · {d.title} {d.number}"
        canv.drawString(_LEFT, y, self._fit(left, self.f.regular, 7.5, 130 * mm))
        canv.drawRightString(_PAGE_W - _RIGHT, y, f"page {canv.getPageNumber()} of {self.total}")
        canv.setFillColor(colors.black)

    def _seller_block(self, canv: Any) -> None:
        seller, s = self.doc.seller, self.s
        left = [Paragraph(self._x(seller.name), s.seller_name)]
        left += [Paragraph(self._x(line), s.small) for line in seller.address]
        if seller.country:
            left.append(Paragraph(self._x(country_name(seller.country)), s.small))
        right = [Paragraph(self._x(f"{k}: {v}"), s.small) for k, v in identity_rows(seller)]
        for box, x, w in ((left, _LEFT, 95 * mm), (right, _INFO_X, _PAGE_W - _RIGHT - _INFO_X)):
            # Shrinks instead of spilling into the address field below.
            kif = KeepInFrame(w, 28 * mm, box, mode="shrink")
            _, h = kif.wrapOn(canv, w, 28 * mm)
            kif.drawOn(canv, x, _PAGE_H - _TOP - h)

    def _address(self, canv: Any) -> None:
        win, f = ADDRESS_FIELD, self.f
        x, width = win.left_mm * mm, win.width_mm * mm
        ret = return_address(self.doc.seller)
        if ret:  # the sender's line in the notes zone, as DIN 5008 places it
            canv.setFont(f.regular, 6.5)
            canv.setFillColor(_GREY)
            canv.drawString(x, _PAGE_H - 58 * mm, self._fit(ret, f.regular, 6.5, width))
            canv.setFillColor(colors.black)
        lines = [f.fold(line) for line in self.who.lines]
        zone = (win.top_mm + win.height_mm - RECIPIENT_TOP_MM) * mm
        size = _RECIPIENT_MAX_SIZE
        while size > _RECIPIENT_MIN_SIZE and (
            len(lines) * size * 1.2 > zone or any(f.width(t, size) > width for t in lines)
        ):
            size -= 0.5
        keep = int(zone // (size * 1.2))
        if len(lines) > keep:  # the name and the locality and country lines matter most
            lines = [lines[0], *lines[len(lines) - keep + 1 :]]
        canv.setFont(f.regular, size)
        y = _PAGE_H - RECIPIENT_TOP_MM * mm - size
        for text in lines:
            canv.drawString(x, y, self._fit(text, f.regular, size, width))
            y -= size * 1.2

    def _fit(self, text: str, font: str, size: float, width: float) -> str:
        """``text`` folded to the font, cut with an ellipsis to ``width`` points."""
        text = self.f.fold(text)
        if self.f.width(text, size, font) <= width:
            return text
        while text and self.f.width(text + "…", size, font) > width:
            text = text[: max(len(text) * 9 // 10, len(text) - 1)]
        return text + "…"

    # --- the story ----------------------------------------------------------

    def _story(self) -> list[Any]:
        d, s = self.doc, self.s
        info = [
            Paragraph(self._x(d.title), s.title),
            Paragraph(self._x(f"No. {d.number}"), s.number),
            Spacer(1, 3 * mm),
            self._pairs(info_rows(d), (28 * mm, 49 * mm)),
        ]
        story: list[Any] = [
            NextPageTemplate("later"),
            KeepInFrame(_PAGE_W - _RIGHT - _INFO_X, _INFO_H, info, mode="shrink"),
            FrameBreak(),
        ]
        story += [Paragraph(self._x(n, keep_breaks=True), s.body) for n in d.notes]
        story += [Spacer(1, 4 * mm), self._lines_table()]
        if d.allowances_charges:
            story += [Spacer(1, 4 * mm), self._allowances_table()]
        story.append(Spacer(1, 5 * mm))
        story.append(KeepTogether([self._heading("VAT breakdown"), self._vat_table()]))
        story.append(Spacer(1, 4 * mm))
        story.append(KeepTogether([self._totals_table()]))
        payments = payment_rows(d)
        if payments:
            pay = [self._heading("Payment details"), self._pairs(payments, (40 * mm, 135 * mm))]
            story += [Spacer(1, 5 * mm), KeepTogether(pay)]
        return story

    def _lines_table(self) -> Any:
        cur = self.doc.currency
        head = ["#", "Description", "Quantity", "Unit", f"Unit price ({cur})", "VAT",
                f"Net amount ({cur})"]  # fmt: skip
        rows = [self._line_row(line) for line in self.doc.lines]
        table = self._grid(head, rows, (9, 69, 18, 14, 23, 16, 26), right={2, 4, 5, 6})
        table.setStyle(TableStyle([("LEFTPADDING", (3, 0), (3, -1), 3 * _CELL_PAD)]))
        return table  # the unit, set apart from the right-aligned quantity

    def _line_row(self, line: Line) -> list[Any]:
        text = self._x(line.name or line.description)
        extra = [line.description if line.name else "", line.note]
        extra.append(f"Item {line.item_id}" if line.item_id else "")
        for e in filter(None, extra):
            text += f"<br/><font size='7' color='#555555'>{self._x(e)}</font>"
        price = number(line.unit_price, 2)
        if line.base_quantity not in (None, Decimal(1)):  # a price per 100 kg, say
            price += f" / {number(line.base_quantity)}"
        cells = (number(line.quantity), unit_name(line.unit), price, line.vat, number(line.net, 2))
        return [line.number, Paragraph(text, self.s.cell), *cells]

    def _allowances_table(self) -> Any:
        cur = self.doc.currency
        rows = [
            ["Charge" if ac.charge else "Allowance", ac.reason, ac.vat,
             f"{'+' if ac.charge else _MINUS} {money(ac.amount, cur)}"]
            for ac in self.doc.allowances_charges
        ]  # fmt: skip
        head = ["Document level", "Reason", "VAT", "Amount"]
        return self._grid(head, rows, (30, 85, 25, 35), right={3}, wrap={1})

    def _vat_table(self) -> Any:
        cur = self.doc.currency
        rows = [
            [vat_label(v.category) + (f" ({v.reason})" if v.reason else ""), percent(v.rate),
             money(v.taxable, cur), money(v.tax, cur)]
            for v in self.doc.vat
        ]  # fmt: skip
        head = ["Category", "Rate", "Taxable amount", "VAT amount"]
        return self._grid(head, rows, (85, 20, 35, 35), right={1, 2, 3}, wrap={0})

    def _grid(
        self,
        head: list[str],
        rows: list[list[Any]],
        widths_mm: tuple[int, ...],
        *,
        right: set[int],
        wrap: frozenset[int] | set[int] = frozenset(),
    ) -> Any:
        """A ruled table whose header repeats on every page it runs over.

        Text in a ``wrap`` column becomes a paragraph; text elsewhere stays
        one line, cut to the column: a narrow column never grows a row taller
        than a page, and plain strings lay out far faster than paragraphs.
        """
        s, widths = self.s, [w * mm for w in widths_mm]

        def cell(i: int, value: Any) -> Any:
            if not isinstance(value, str):
                return value
            if i in wrap:
                return Paragraph(self._x(value), s.cell)
            return self._fit(value, self.f.regular, _CELL_SIZE, widths[i] - 2 * _CELL_PAD)

        data = [[Paragraph(self._x(h), s.head_r if i in right else s.head)
                 for i, h in enumerate(head)]]  # fmt: skip
        data += [[cell(i, v) for i, v in enumerate(row)] for row in rows]
        # splitInRow: a row taller than a page (a hostile description) splits
        # instead of failing the whole print.
        table = LongTable(data, colWidths=widths, repeatRows=1, splitInRow=1)
        pads = [(f"{side}PADDING", (0, 0), (-1, -1), _CELL_PAD) for side in _SIDES]
        style = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("FONT", (0, 1), (-1, -1), self.f.regular, _CELL_SIZE, _CELL_SIZE * 1.25),
            ("BACKGROUND", (0, 0), (-1, 0), _SHADE),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, _RULE),
            *pads,
            *[("ALIGN", (i, 1), (i, -1), "RIGHT") for i in right],
        ]
        table.setStyle(TableStyle(style))
        return table

    def _totals_table(self) -> Any:
        d, s = self.doc, self.s
        rows = total_rows(d)
        last = len(rows) - 1
        data = [
            [Paragraph(self._x(k), s.total if i == last else s.body),
             Paragraph(self._x(money(v, d.currency)), s.total_r if i == last else s.cell_r)]
            for i, (k, v) in enumerate(rows)
        ]  # fmt: skip
        table = Table(data, colWidths=[55 * mm, 40 * mm], hAlign="RIGHT")
        style = [
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LINEABOVE", (0, last), (-1, last), 0.8, colors.black),
            ("BACKGROUND", (0, last), (-1, last), _SHADE),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ]
        table.setStyle(TableStyle(style))
        return table

    def _pairs(self, rows: list[tuple[str, str]], widths: tuple[float, float]) -> Any:
        s = self.s
        data = [[Paragraph(self._x(k), s.label), Paragraph(self._x(v), s.body)] for k, v in rows]
        table = Table(data or [["", ""]], colWidths=list(widths), hAlign="LEFT")
        pad = [
            (f"{side}PADDING", (0, 0), (-1, -1), p)
            for side, p in (("LEFT", 0), ("RIGHT", 3), ("TOP", 0.8), ("BOTTOM", 0.8))
        ]
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), *pad]))
        return table

    def _heading(self, text: str) -> Any:
        return Paragraph(self._x(text), self.s.heading)

    def _x(self, text: str, *, keep_breaks: bool = False) -> str:
        """Document text made safe for reportlab's paragraph markup."""
        return self.f.markup(text, keep_breaks=keep_breaks)


def _frame(name: str, x: float, y: float, w: float, h: float, *, pad: float = 6) -> Any:
    # Frames pad 6 points by default; the body is flush with the margins.
    return Frame(x, y, w, h, id=name, leftPadding=0, rightPadding=0, topPadding=pad,
                 bottomPadding=pad)  # fmt: skip


class _Styles:
    def __init__(self, f: Fonts) -> None:
        def style(name: str, size: float, *, bold: bool = False, **kw: Any) -> Any:
            font = f.bold if bold else f.regular
            return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.25, **kw)

        self.body = style("body", 8.5)
        self.small = style("small", 8, textColor=_GREY)
        self.label = style("label", 8.5, textColor=_GREY)
        self.cell = style("cell", _CELL_SIZE)
        self.cell_r = style("cell_r", _CELL_SIZE, alignment=TA_RIGHT)
        self.head = style("head", 8, bold=True)
        self.head_r = style("head_r", 8, bold=True, alignment=TA_RIGHT)
        self.heading = style("heading", 10, bold=True, spaceAfter=2 * mm)
        self.title = style("title", 17, bold=True)
        self.number = style("number", 10.5, bold=True)
        self.seller_name = style("seller", 12, bold=True, spaceAfter=1 * mm)
        self.total = style("total", 9.5, bold=True)
        self.total_r = style("total_r", 9.5, bold=True, alignment=TA_RIGHT)
