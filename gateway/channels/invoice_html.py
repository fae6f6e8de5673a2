"""The invoice or credit note as an HTML fragment, for the recipient portal's
document page: ``<article id="invoice">`` with the facts, parties, notes,
lines, allowances and charges, VAT breakdown, totals and payment details.

It reads the print model (``print_layout.read_document``, the one UBL reader
of the channels) and renders ``templates/invoice.html`` with Jinja2's
autoescape on: every text from the document, a name or a note written to
attack the page included, comes out as text. The fragment holds no script, no
event handler and no style attribute (the portal's Content-Security-Policy
forbids inline script; the portal's stylesheet styles the ``inv-`` classes).
Pure apart from loading the template once.

Amounts show every decimal the document wrote (at least two), and each
carries its value as written in a ``<data value>`` for machines and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from gateway.channels.invoice_words import LANGUAGES, Words
from gateway.channels.print_layout import Line, Party, PrintDocument, read_document
from gateway.channels.print_rows import total_rows
from gateway.channels.printwords import iban
from gateway.config.settings import LimitSettings
from gateway.model import DocumentKind
from gateway.validation.parse import parse_xml

__all__ = ["LANGUAGES", "invoice_html", "invoice_page"]

_ENV = Environment(
    loader=PackageLoader("gateway.channels", "templates"),
    autoescape=True,  # every {{ value }} escaped, whatever the file's name
    undefined=StrictUndefined,  # a misspelt name fails the tests, not the page
    trim_blocks=True,
    lstrip_blocks=True,
)

Lines = tuple[str, ...]  # a value shown on lines of its own (an address, a note)


@dataclass(frozen=True, slots=True)
class Amount:
    text: str  # as the reader reads it: "1,234.50"
    value: str  # as the document wrote it: "1234.50"; "" when absent


@dataclass(frozen=True, slots=True)
class PartyView:
    role: str  # "seller", "buyer": the section's class
    heading: str
    rows: tuple[tuple[str, Lines], ...]


@dataclass(frozen=True, slots=True)
class LineView:
    number: str
    name: str
    details: Lines  # description, note, item number
    quantity: str
    unit: str
    price: Amount
    per: str  # the base quantity of a price per 100 kg, say; "" for 1
    net: Amount
    vat: str


@dataclass(frozen=True, slots=True)
class AllowanceView:
    charge: bool
    kind: str
    reason: str
    vat: str
    sign: str
    amount: Amount


@dataclass(frozen=True, slots=True)
class VatView:
    category: str
    rate: str
    taxable: Amount
    tax: Amount


@dataclass(frozen=True, slots=True)
class PageView:
    kind: str  # the article's class: "inv-invoice" or "inv-credit-note"
    title: str
    number: str
    currency: str
    facts: tuple[tuple[str, str], ...]
    parties: tuple[PartyView, ...]
    notes: tuple[Lines, ...]
    lines: tuple[LineView, ...]
    allowances: tuple[AllowanceView, ...]
    vat: tuple[VatView, ...]
    totals: tuple[tuple[str, Amount], ...]  # the amount due last
    payments: tuple[tuple[tuple[str, str], ...], ...]  # one group per means, then terms


def invoice_html(payload: bytes, limits: LimitSettings, lang: str = "en") -> Markup:
    """``<article id="invoice">...</article>`` for the UBL Invoice or CreditNote
    ``payload``, labelled in ``lang`` ("en" or "fr").

    Raises ``ValueError`` for another language, and the parser's ``InputError``
    (``NotXml``, ``HostileXml``, ``PayloadTooLarge``, ``UnknownDocument``) for a
    payload that is not an invoice or credit note within ``limits``.
    """
    words = Words(lang)  # a wrong language is refused before any parsing
    return invoice_page(read_document(parse_xml(payload, limits)), words)


def invoice_page(doc: PrintDocument, words: Words) -> Markup:
    """The fragment for an already read document."""
    html = _ENV.get_template("invoice.html").render(page=_view(doc, words), w=words)
    # Safe to mark: autoescape escaped every value the template was given.
    return Markup(html)  # noqa: S704


def _view(doc: PrintDocument, w: Words) -> PageView:
    credit = doc.kind is DocumentKind.CREDIT_NOTE
    return PageView(
        kind="inv-credit-note" if credit else "inv-invoice",
        title=w.title(doc),
        number=doc.number,
        currency=doc.currency,
        facts=_facts(doc, w),
        parties=(
            _party("seller", w("Seller"), doc.seller, w),
            _party("buyer", w("Buyer"), doc.buyer, w),
        ),
        notes=tuple(tuple(note.splitlines()) for note in doc.notes if note),
        lines=tuple(_line(line, w) for line in doc.lines),
        allowances=tuple(
            AllowanceView(
                charge=ac.charge,
                kind=w("Charge" if ac.charge else "Allowance"),
                reason=ac.reason,
                vat=ac.vat,
                sign="+" if ac.charge else "\u2212",
                amount=_amount(ac.amount, w),
            )
            for ac in doc.allowances_charges
        ),
        vat=tuple(
            VatView(
                category=w.vat(v.category) + (f" ({v.reason})" if v.reason else ""),
                rate=w.percent(v.rate),
                taxable=_amount(v.taxable, w),
                tax=_amount(v.tax, w),
            )
            for v in doc.vat
        ),
        totals=tuple((w(label), _amount(value, w)) for label, value in total_rows(doc)),
        payments=_payments(doc, w),
    )


def _line(line: Line, w: Words) -> LineView:
    details = (
        line.description if line.name else "",
        line.note,
        f"{w('Item no.')} {line.item_id}" if line.item_id else "",
    )
    per = line.base_quantity not in (None, Decimal(1))
    return LineView(
        number=line.number,
        name=line.name or line.description,
        details=_present(details),
        quantity=w.quantity(line.quantity),
        unit=w.unit(line.unit),
        price=_amount(line.unit_price, w),
        per=w.quantity(line.base_quantity) if per else "",
        net=_amount(line.net, w),
        vat=line.vat,
    )


def _present(values: tuple[str, ...]) -> Lines:
    return tuple(v for v in values if v)


def _amount(value: Decimal | None, w: Words) -> Amount:
    return Amount(text=w.amount(value), value="" if value is None else str(value))


def _facts(doc: PrintDocument, w: Words) -> tuple[tuple[str, str], ...]:
    start, end = doc.period_dates
    period = w("{0} to {1}").format(start, end) if start and end else start or end
    corrects = ", ".join(
        w("{0} of {1}").format(number, day) if day else number for number, day in doc.corrected
    )
    rows = (
        (w("Issue date"), doc.issue_date),
        (w("Due date"), doc.due_date),
        (w("Buyer reference"), doc.buyer_reference),
        (w("Order reference"), doc.order_reference),
        (w("Corrects"), corrects),
        (w("Delivery date"), doc.delivery_date),
        (w("Invoicing period"), period),
        (w("Currency"), doc.currency),
    )
    return tuple((k, v) for k, v in rows if v)


def _party(role: str, heading: str, party: Party, w: Words) -> PartyView:
    legal = party.legal_name if party.legal_name != party.name else ""
    country = (w.country(party.country),) if party.country else ()
    rows: tuple[tuple[str, Lines], ...] = (
        (w("Name"), (party.name,)),
        (w("Legal name"), (legal,)),
        (w("VAT id"), (party.vat_id,)),
        (w("Registration no."), (party.company_id,)),
        (w("Identifier"), party.identifiers),
        (w("Electronic address"), (party.endpoint,)),
        (w("Address"), (*party.address, *country)),
        (w("Contact"), (party.contact,)),
    )
    kept = tuple((k, _present(v)) for k, v in rows)
    return PartyView(role=role, heading=heading, rows=tuple((k, v) for k, v in kept if v))


def _payments(doc: PrintDocument, w: Words) -> tuple[tuple[tuple[str, str], ...], ...]:
    groups = []
    for p in doc.payments:
        rows = (
            (w("Payment means"), w.means(p)),
            (w("IBAN") if _is_iban(p.iban) else w("Account"), iban(p.iban)),
            (w("BIC"), p.bic),
            (w("Account holder"), p.account_name),
            (w("Payment reference"), p.reference),
            (w("Mandate"), p.mandate),
            (w("Debited account"), iban(p.debited)),
        )
        groups.append(tuple((k, v) for k, v in rows if v))
    due = doc.due_date if doc.kind is DocumentKind.INVOICE else ""
    terms = tuple((k, v) for k, v in ((w("Due date"), due), (w("Terms"), doc.payment_terms)) if v)
    return tuple(g for g in (*groups, terms) if g)


def _is_iban(account: str) -> bool:
    """Shaped like an IBAN (country letters, check digits); another account id is not."""
    compact = account.replace(" ", "")
    return 15 <= len(compact) <= 34 and compact[:2].isalpha() and compact[2:4].isdigit()
