"""What the VAT category rules read from a document, gathered once.

One pass over the elements the rules look at (``Doc.by_tag`` on a few tags,
each in document order, as the XPath visits them) finds every tax category,
wherever it is (the rules use ``//``): VAT breakdown categories (BG-23),
allowance and charge categories (BG-20/BG-21, at any depth, as the rules
match them), invoice line categories (BG-30), and the VAT identifiers of the
parties. Each category is read once into a ``Cat`` record. A value the XPath
could not compute (two ``cbc:ID`` where one is expected, a ChargeIndicator
that is not a boolean) is kept as a ``DynamicError`` and raised only by the
rule that reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from gateway.validation.rules.kernel import (
    ID,
    DynamicError,
    attempt,
    cast_boolean,
    child_string,
    normalize_space,
    string_value,
)
from gateway.validation.rules.kernel_numbers import to_decimal
from gateway.validation.rules.model import CAC, CBC, Children, Doc, Element

CACHE_KEY: Final = "vat.facts"


def _cac(name: str) -> str:
    return f"{{{CAC}}}{name}"


TAX_CATEGORY: Final = _cac("TaxCategory")
CLASSIFIED: Final = _cac("ClassifiedTaxCategory")
INVOICE_LINE: Final = _cac("InvoiceLine")
CREDIT_NOTE_LINE: Final = _cac("CreditNoteLine")
ALLOWANCE_CHARGE: Final = _cac("AllowanceCharge")
PARTY_TAX_SCHEME: Final = _cac("PartyTaxScheme")
PARTY_LEGAL_ENTITY: Final = _cac("PartyLegalEntity")
TAX_SCHEME: Final = _cac("TaxScheme")
TAX_SUBTOTAL: Final = _cac("TaxSubtotal")
TAX_TOTAL: Final = _cac("TaxTotal")
ITEM: Final = _cac("Item")
PARTY: Final = _cac("Party")
SELLER: Final = _cac("AccountingSupplierParty")
BUYER: Final = _cac("AccountingCustomerParty")
TAX_REPRESENTATIVE: Final = _cac("TaxRepresentativeParty")
COMPANY_ID: Final = f"{{{CBC}}}CompanyID"
CHARGE_INDICATOR: Final = f"{{{CBC}}}ChargeIndicator"
PERCENT: Final = f"{{{CBC}}}Percent"
LINE_AMOUNT: Final = f"{{{CBC}}}LineExtensionAmount"
AMOUNT: Final = f"{{{CBC}}}Amount"
_LINES: Final = (INVOICE_LINE, CREDIT_NOTE_LINE)
_NO_CHILDREN: Final[Children] = {}
_NONE: Final[list[Element]] = []


def _upper_is_vat(scheme: Element, children: dict[Element, Children]) -> bool | DynamicError:
    """``normalize-space(upper-case(cbc:ID)) = 'VAT'`` on one cac:TaxScheme."""
    try:
        text = child_string(children.get(scheme, _NO_CHILDREN), ID)
    except DynamicError as exc:
        return exc
    return normalize_space((text or "").upper()) == "VAT"


def _party_scheme_is_vat(
    element: Element, children: dict[Element, Children]
) -> bool | DynamicError:
    """``[cac:TaxScheme/(normalize-space(upper-case(cbc:ID)) = 'VAT')]``.

    The predicate is one boolean per TaxScheme: its effective boolean value
    is an error when there are several.
    """
    schemes = children.get(element, _NO_CHILDREN).get(TAX_SCHEME, _NONE)
    if len(schemes) > 1:
        return DynamicError("several cac:TaxScheme in one cac:PartyTaxScheme")
    return _upper_is_vat(schemes[0], children) if schemes else False


@dataclass(slots=True)
class Cat:
    """One cac:TaxCategory or cac:ClassifiedTaxCategory element."""

    el: Element
    kids: Children  # its child elements by tag
    ids: tuple[str, ...]  # string values of the cbc:ID children
    norm_ids: tuple[str, ...]  # the same, normalize-space'd
    code: str | DynamicError  # normalize-space(cbc:ID); an error for several cbc:ID
    vat: bool | DynamicError  # the VAT tax scheme predicate
    rate: Decimal | DynamicError | None  # xs:decimal(cbc:Percent); None when absent

    def is_(self, code: str) -> bool:
        """``normalize-space(cbc:ID) = code`` (raises where the XPath would)."""
        own = self.code
        if isinstance(own, DynamicError):
            raise own
        return own == code

    def is_vat(self) -> bool:
        vat = self.vat
        if isinstance(vat, DynamicError):
            raise vat
        return vat

    def has_id(self, code: str) -> bool:
        """``cbc:ID = code``: any cbc:ID, compared as is."""
        return code in self.ids

    def has_normalized_id(self, code: str) -> bool:
        """``cbc:ID[normalize-space(.) = code]``: any cbc:ID, normalized."""
        return code in self.norm_ids

    def count_normalized_id(self, code: str) -> int:
        return self.norm_ids.count(code)


def _cat(element: Element, children: dict[Element, Children]) -> Cat:
    """Read a category from its children."""
    kids = children.get(element, _NO_CHILDREN)
    ids = [string_value(e) for e in kids.get(ID, _NONE)]
    percents = kids.get(PERCENT, _NONE)
    vat: bool | DynamicError = False
    for scheme in kids.get(TAX_SCHEME, _NONE):  # any one with 'VAT' (or the first error)
        vat = _upper_is_vat(scheme, children)
        if vat is not False:
            break
    norm_ids = tuple(normalize_space(i) for i in ids)
    code: str | DynamicError = (
        norm_ids[0] if len(ids) == 1 else "" if not ids else DynamicError("several cbc:ID")
    )
    rate: Decimal | DynamicError | None = None
    if len(percents) == 1:
        rate = attempt(lambda: to_decimal(string_value(percents[0])))
    elif percents:
        rate = DynamicError("several cbc:Percent")
    return Cat(element, kids, tuple(ids), norm_ids, code, vat, rate)


def _indicators(kids: Children) -> tuple[bool | DynamicError, bool | DynamicError]:
    """``cbc:ChargeIndicator = false()`` and ``= true()``: each cast in
    document order until one matches (an uncastable one first is an error)."""
    found: dict[bool, bool | DynamicError] = {}
    for child in kids.get(CHARGE_INDICATOR, _NONE):
        try:
            value = cast_boolean(string_value(child))
        except DynamicError as exc:
            found.setdefault(False, exc)
            found.setdefault(True, exc)
            break
        found.setdefault(value, True)
    return found.get(False, False), found.get(True, False)


@dataclass(slots=True)
class AllowanceCharge:
    """One cac:AllowanceCharge (any depth) and its tax categories."""

    el: Element
    allowance: bool | DynamicError  # [cbc:ChargeIndicator = false()]
    charge: bool | DynamicError  # [cbc:ChargeIndicator = true()]
    root_level: bool  # a document level allowance or charge
    cats: list[Cat] = field(default_factory=list)
    amounts: list[Element] = field(default_factory=list)  # cbc:Amount


@dataclass(slots=True)
class Line:
    """One cac:InvoiceLine or cac:CreditNoteLine (any depth)."""

    el: Element
    root_level: bool  # a line of the document itself (/*/cac:InvoiceLine)
    cats: list[Cat] = field(default_factory=list)  # cac:Item/cac:ClassifiedTaxCategory
    amounts: list[Element] = field(default_factory=list)  # cbc:LineExtensionAmount


@dataclass(slots=True)
class Parties:
    """The VAT identifiers (and buyer legal registration) the rules ask for."""

    seller_any: bool = False  # //Seller/Party/PartyTaxScheme/CompanyID, any scheme
    seller_vat: bool | DynamicError = False  # ... with the VAT scheme (BT-31)
    tax_rep_vat: bool | DynamicError = False  # BT-63
    buyer_vat: bool | DynamicError = False  # BT-48
    buyer_legal: bool = False  # BT-47


def _has_company_id(element: Element, children: dict[Element, Children]) -> bool:
    return COMPANY_ID in children.get(element, _NO_CHILDREN)


def _any_vat_company(
    schemes: list[Element], children: dict[Element, Children]
) -> bool | DynamicError:
    """``exists(PartyTaxScheme[VAT scheme]/cbc:CompanyID)`` over ``schemes``."""
    for scheme in schemes:
        vat = _party_scheme_is_vat(scheme, children)
        if isinstance(vat, DynamicError):
            return vat
        if vat and _has_company_id(scheme, children):
            return True
    return False


@dataclass(slots=True)
class Facts:
    taxcats: list[Cat] = field(default_factory=list)  # //cac:TaxCategory
    classified: list[Cat] = field(default_factory=list)  # //cac:ClassifiedTaxCategory
    breakdown: list[Cat] = field(default_factory=list)  # /*/TaxTotal/TaxSubtotal/TaxCategory
    line_cats: list[Cat] = field(default_factory=list)  # //(Invoice|CreditNote)Line/Item/CTC
    allowance_charges: list[AllowanceCharge] = field(default_factory=list)
    allowance_cats: list[Cat] = field(default_factory=list)  # //AllowanceCharge/TaxCategory
    invoice_lines: list[Line] = field(default_factory=list)  # //cac:InvoiceLine
    credit_note_lines: list[Line] = field(default_factory=list)  # //cac:CreditNoteLine
    parties: Parties = field(default_factory=Parties)
    # no category, allowance/charge or party value is an XPath error
    clean: bool = True
    # every category code in the document, as is and normalized
    codes: set[str] = field(default_factory=set)
    # rule contexts: (where, code) -> the categories a rule of that code checks;
    # where is "line", "allowance", "charge" or "breakdown"
    contexts: dict[tuple[str, str], list[Cat]] = field(default_factory=dict)

    def unused(self, code: str) -> bool:
        """No category of ``code`` anywhere (and nothing an XPath would fail
        on): then every rule about that code holds."""
        return self.clean and code not in self.codes


def facts(doc: Doc) -> Facts:
    """The VAT facts of ``doc``, computed on first use and cached."""
    found: Facts | None = doc.cache.get(CACHE_KEY)
    if found is None:
        found = doc.cache[CACHE_KEY] = _gather(doc.root, doc.children, doc.by_tag)
    return found


def _tag(element: Element | None) -> object:
    return None if element is None else element.tag


def _is_breakdown(parent: Element, root: Element) -> bool:
    """A TaxCategory under /*/cac:TaxTotal/cac:TaxSubtotal."""
    if parent.tag != TAX_SUBTOTAL:
        return False
    total = parent.getparent()
    return total is not None and total.tag == TAX_TOTAL and total.getparent() is root


def _gather(root: Element, children: dict[Element, Children], by_tag: Children) -> Facts:
    """Read the categories, allowances/charges, lines and party schemes, tag by tag
    (each list in document order; owners before what they own)."""
    f = Facts()
    allowances: dict[Element, AllowanceCharge] = {}
    lines: dict[Element, Line] = {}
    schemes: dict[object, list[Element]] = {SELLER: [], BUYER: [], TAX_REPRESENTATIVE: []}
    for el in by_tag.get(ALLOWANCE_CHARGE, _NONE):
        ac = AllowanceCharge(
            el, *_indicators(children.get(el, _NO_CHILDREN)), el.getparent() is root
        )
        allowances[el] = ac
        f.allowance_charges.append(ac)
    for tag, found in ((INVOICE_LINE, f.invoice_lines), (CREDIT_NOTE_LINE, f.credit_note_lines)):
        for el in by_tag.get(tag, _NONE):
            line = lines[el] = Line(el, el.getparent() is root)
            found.append(line)
    for el in by_tag.get(TAX_CATEGORY, _NONE):
        cat = _cat(el, children)
        f.taxcats.append(cat)
        parent = el.getparent()
        assert parent is not None  # the root is not a tax category
        if parent.tag == ALLOWANCE_CHARGE:
            allowances[parent].cats.append(cat)
            f.allowance_cats.append(cat)
        elif _is_breakdown(parent, root):
            f.breakdown.append(cat)
    for el in by_tag.get(CLASSIFIED, _NONE):
        cat = _cat(el, children)
        f.classified.append(cat)
        parent = el.getparent()
        assert parent is not None
        if parent.tag == ITEM:
            owner = parent.getparent()
            if owner is not None and owner.tag in _LINES:
                f.line_cats.append(cat)
                lines[owner].cats.append(cat)
    for el in by_tag.get(LINE_AMOUNT, _NONE):
        parent = el.getparent()
        if parent is not None and parent.tag in _LINES:
            lines[parent].amounts.append(el)
    for el in by_tag.get(AMOUNT, _NONE):
        parent = el.getparent()
        if parent is not None and parent.tag == ALLOWANCE_CHARGE:
            allowances[parent].amounts.append(el)
    for el in by_tag.get(PARTY_TAX_SCHEME, _NONE):
        parent = el.getparent()
        assert parent is not None
        if parent.tag == TAX_REPRESENTATIVE:
            schemes[TAX_REPRESENTATIVE].append(el)
        elif parent.tag == PARTY:
            party = _tag(parent.getparent())
            if party in schemes:
                schemes[party].append(el)
    for el in by_tag.get(PARTY_LEGAL_ENTITY, _NONE):
        parent = el.getparent()
        assert parent is not None
        if (
            parent.tag == PARTY
            and _tag(parent.getparent()) == BUYER
            and _has_company_id(el, children)
        ):
            f.parties.buyer_legal = True
    p = f.parties
    p.seller_any = any(_has_company_id(s, children) for s in schemes[SELLER])
    p.seller_vat = _any_vat_company(schemes[SELLER], children)
    p.buyer_vat = _any_vat_company(schemes[BUYER], children)
    p.tax_rep_vat = _any_vat_company(schemes[TAX_REPRESENTATIVE], children)
    _index_contexts(f)
    _summarize(f)
    return f


def _summarize(f: Facts) -> None:
    codes = f.codes
    clean = True
    for cats in (f.taxcats, f.classified):
        for cat in cats:
            codes.update(cat.ids)
            codes.update(cat.norm_ids)
            clean = clean and isinstance(cat.code, str) and isinstance(cat.vat, bool)
    for ac in f.allowance_charges:
        clean = clean and isinstance(ac.allowance, bool) and isinstance(ac.charge, bool)
    p = f.parties
    f.clean = clean and not any(
        isinstance(v, DynamicError) for v in (p.seller_vat, p.buyer_vat, p.tax_rep_vat)
    )


def _index_contexts(f: Facts) -> None:
    """Group the categories by the rule contexts that match them.

    A context matches a category of the code with the VAT scheme; within the
    Schematron pattern the allowance context (ChargeIndicator = false) comes
    before the charge context, so a category matched by both is checked only
    as an allowance. An error while matching a context means "no match".
    """
    groups = f.contexts

    def add(where: str, cat: Cat) -> None:
        if cat.vat is True and isinstance(cat.code, str):
            groups.setdefault((where, cat.code), []).append(cat)

    for cat in f.breakdown:
        add("breakdown", cat)
    for cat in f.line_cats:
        add("line", cat)
    for ac in f.allowance_charges:
        where = "allowance" if ac.allowance is True else "charge" if ac.charge is True else ""
        if where:
            for cat in ac.cats:
                add(where, cat)
