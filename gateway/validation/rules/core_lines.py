"""EN 16931 core rules on allowances, charges, lines and the VAT breakdown.

Presence and consistency rules (BR-12..BR-15, BR-21..BR-33, BR-36..BR-48,
BR-54, BR-64, BR-65, BR-CO-04..08, BR-CO-19..24) grouped by the node they are
checked on. Which allowance/charge or period each group sees (the first
matching Schematron rule wins) is decided in ``core_context``.
"""

from __future__ import annotations

from typing import Final

from gateway.validation.rules.core_context import (
    DOC_ALLOWANCES,
    DOC_CHARGES,
    ITEM_CLASSIFICATION,
    ITEM_STANDARD_ID,
    LINE,
    LINE_ALLOWANCES,
    LINE_CHARGES,
    LINE_PERIOD,
    MONETARY_TOTAL,
    PERIOD,
    TAX_SUBTOTAL,
    at,
    vat_scheme,
    vat_scheme_single,
)
from gateway.validation.rules.core_family import (
    Test,
    always,
    attribute,
    exists,
    filled,
    group,
)
from gateway.validation.rules.core_nav import Nav
from gateway.validation.rules.kernel import clark, either, normalize_space_of
from gateway.validation.rules.kernel_numbers import any_at_least_zero, date_key
from gateway.validation.rules.model import Children, Element
from gateway.validation.rules.shape import Context

REASON: Test = exists("cbc:AllowanceChargeReason", "cbc:AllowanceChargeReasonCode")


def vat_category_has(child: str) -> Test:
    """``exists(cac:TaxCategory[VAT scheme]/child)``."""
    return lambda x, n: any(
        vat_scheme(x, c) and x.has(c, child) for c in x.kids(n, "cac:TaxCategory")
    )


# --- allowances and charges -------------------------------------------------

_ALLOWANCES = (
    group("doc_allowance", DOC_ALLOWANCES, [
        ("BR-31", "fatal", "A document level allowance (BG-20) shall have an amount "
         "(BT-92).", exists("cbc:Amount")),
        ("BR-32", "fatal", "A document level allowance (BG-20) shall have a VAT category "
         "code (BT-95).", vat_category_has("cbc:ID")),
        ("BR-33", "fatal", "A document level allowance (BG-20) shall have a reason (BT-97) "
         "or reason code (BT-98).", REASON),
        ("BR-CO-05", "fatal", "The allowance reason code (BT-98) and reason (BT-97) shall "
         "mean the same allowance.", always),
        ("BR-CO-21", "fatal", "A document level allowance (BG-20) shall have a reason "
         "(BT-97), a reason code (BT-98), or both.", REASON),
    ])
    + group("doc_charge", DOC_CHARGES, [
        ("BR-36", "fatal", "A document level charge (BG-21) shall have an amount (BT-99).",
         exists("cbc:Amount")),
        ("BR-37", "fatal", "A document level charge (BG-21) shall have a VAT category code "
         "(BT-102).", vat_category_has("cbc:ID")),
        ("BR-38", "fatal", "A document level charge (BG-21) shall have a reason (BT-104) or "
         "reason code (BT-105).", REASON),
        ("BR-CO-06", "fatal", "The charge reason code (BT-105) and reason (BT-104) shall "
         "mean the same charge.", always),
        ("BR-CO-22", "fatal", "A document level charge (BG-21) shall have a reason (BT-104), "
         "a reason code (BT-105), or both.", REASON),
    ])
    + group("line_allowance", LINE_ALLOWANCES, [
        ("BR-41", "fatal", "An invoice line allowance (BG-27) shall have an amount (BT-136).",
         exists("cbc:Amount")),
        ("BR-42", "fatal", "An invoice line allowance (BG-27) shall have a reason (BT-139) "
         "or reason code (BT-140).", REASON),
        ("BR-CO-07", "fatal", "The line allowance reason code (BT-140) and reason (BT-139) "
         "shall mean the same allowance.", always),
        ("BR-CO-23", "fatal", "An invoice line allowance (BG-27) shall have a reason "
         "(BT-139), a reason code (BT-140), or both.", REASON),
    ])
    + group("line_charge", LINE_CHARGES, [
        ("BR-43", "fatal", "An invoice line charge (BG-28) shall have an amount (BT-141).",
         exists("cbc:Amount")),
        ("BR-44", "fatal", "An invoice line charge (BG-28) shall have a reason (BT-144) or "
         "reason code (BT-145).", REASON),
        ("BR-CO-08", "fatal", "The line charge reason code (BT-145) and reason (BT-144) "
         "shall mean the same charge.", always),
        ("BR-CO-24", "fatal", "An invoice line charge (BG-28) shall have a reason (BT-144), "
         "a reason code (BT-145), or both.", REASON),
    ])
)  # fmt: skip

# --- lines and periods ------------------------------------------------------


def _line_vat_category(x: Nav, line: Element) -> bool:
    # cac:Item/cac:ClassifiedTaxCategory, in document order, until one passes
    children = x.children
    for item in children.get(line, _NO_CHILDREN).get(_ITEM, _NONE):
        for c in children.get(item, _NO_CHILDREN).get(_CLASSIFIED, _NONE):
            if vat_scheme_single(x, c) and _ID in children.get(c, _NO_CHILDREN):
                return True
    return False


def _gross_price_not_negative(x: Nav, line: Element) -> bool:
    bases = x.path(line, "cac:Price/cac:AllowanceCharge/cbc:BaseAmount")
    # ``bases >= 0 or not(bases)``: with no base amount the second operand holds;
    # with some, it is false and the comparison (or its error) decides.
    return not bases or any_at_least_zero(bases)


def _period_ordered(x: Nav, period: Element) -> bool:
    ends = x.kids(period, "cbc:EndDate")
    starts = x.kids(period, "cbc:StartDate")
    return not ends or not starts or date_key(ends) >= date_key(starts)


def _has_unit(x: Nav, line: Element) -> bool:
    kids = x.children.get(line, _NO_CHILDREN)
    return any(q.get("unitCode") is not None for tag in _QUANTITIES for q in kids.get(tag, _NONE))


_ITEM: Final = clark("cac:Item")
_CLASSIFIED: Final = clark("cac:ClassifiedTaxCategory")
_ID: Final = clark("cbc:ID")
_QUANTITIES: Final = (clark("cbc:InvoicedQuantity"), clark("cbc:CreditedQuantity"))
_NO_CHILDREN: Final[Children] = {}
_NONE: Final[list[Element]] = []


_LINES = (
    group("line", LINE, [
        ("BR-21", "fatal", "An invoice line (BG-25) shall have a line identifier (BT-126).",
         filled("cbc:ID")),
        ("BR-22", "fatal", "An invoice line (BG-25) shall have an invoiced quantity "
         "(BT-129).", exists("cbc:InvoicedQuantity", "cbc:CreditedQuantity")),
        ("BR-23", "fatal", "An invoice line (BG-25) shall have a quantity unit of measure "
         "(BT-130).", _has_unit),
        ("BR-24", "fatal", "An invoice line (BG-25) shall have a line net amount (BT-131).",
         exists("cbc:LineExtensionAmount")),
        ("BR-25", "fatal", "An invoice line (BG-25) shall have an item name (BT-153).",
         filled("cac:Item/cbc:Name")),
        ("BR-26", "fatal", "An invoice line (BG-25) shall have an item net price (BT-146).",
         exists("cac:Price/cbc:PriceAmount")),
        ("BR-27", "fatal", "The item net price (BT-146) shall not be negative.",
         lambda x, n: any_at_least_zero(x.path(n, "cac:Price/cbc:PriceAmount"))),
        ("BR-28", "fatal", "The item gross price (BT-148) shall not be negative.",
         _gross_price_not_negative),
        ("BR-CO-04", "fatal", "An invoice line (BG-25) shall have an item VAT category code "
         "(BT-151).", _line_vat_category),
    ])
    + group("line_period", LINE_PERIOD, [
        ("BR-30", "fatal", "The invoice line period end date (BT-135) shall not be before "
         "its start date (BT-134).", _period_ordered),
        ("BR-CO-20", "fatal", "An invoice line period (BG-26) shall have a start date "
         "(BT-134) or an end date (BT-135).", exists("cbc:StartDate", "cbc:EndDate")),
    ])
    + group("period", PERIOD, [
        ("BR-29", "fatal", "The invoicing period end date (BT-74) shall not be before its "
         "start date (BT-73).", _period_ordered),
        ("BR-CO-19", "fatal", "An invoicing period (BG-14) shall have a start date (BT-73) "
         "or an end date (BT-74).",
         exists("cbc:StartDate", "cbc:EndDate", "cbc:DescriptionCode")),
    ])
    + group("item_property", at("cac:AdditionalItemProperty"), [
        ("BR-54", "fatal", "An item attribute (BG-32) shall have a name (BT-160) and a "
         "value (BT-161).", lambda x, n: x.has(n, "cbc:Name") and x.has(n, "cbc:Value")),
    ])
    + group("item_classification", ITEM_CLASSIFICATION, [
        ("BR-65", "fatal", "An item classification identifier (BT-158) shall have a scheme "
         "identifier.", attribute("listID")),
    ])
    + group("item_standard_id", ITEM_STANDARD_ID, [
        ("BR-64", "fatal", "An item standard identifier (BT-157) shall have a scheme "
         "identifier.", attribute("schemeID")),
    ])
)  # fmt: skip

# --- totals and VAT breakdown (presence) ------------------------------------


def _vat_categories(x: Nav, subtotal: Element) -> list[Element]:
    return [c for c in x.kids(subtotal, "cac:TaxCategory") if vat_scheme(x, c)]


def _percent_or_not_subject(x: Nav, subtotal: Element) -> bool:
    return either(
        lambda: any(x.has(c, "cbc:Percent") for c in _vat_categories(x, subtotal)),
        lambda: any(
            normalize_space_of(x.kids(c, "cbc:ID")) == "O" for c in _vat_categories(x, subtotal)
        ),
    )


_TOTALS = (
    group("monetary_total", MONETARY_TOTAL, [
        ("BR-12", "fatal", "An invoice shall have the sum of line net amounts (BT-106).",
         exists("cbc:LineExtensionAmount")),
        ("BR-13", "fatal", "An invoice shall have the total amount without VAT (BT-109).",
         exists("cbc:TaxExclusiveAmount")),
        ("BR-14", "fatal", "An invoice shall have the total amount with VAT (BT-112).",
         exists("cbc:TaxInclusiveAmount")),
        ("BR-15", "fatal", "An invoice shall have the amount due for payment (BT-115).",
         exists("cbc:PayableAmount")),
    ])
    + group("tax_subtotal", TAX_SUBTOTAL, [
        ("BR-45", "fatal", "A VAT breakdown (BG-23) shall have the VAT category taxable "
         "amount (BT-116).", exists("cbc:TaxableAmount")),
        ("BR-46", "fatal", "A VAT breakdown (BG-23) shall have the VAT category tax amount "
         "(BT-117).", exists("cbc:TaxAmount")),
        ("BR-47", "fatal", "A VAT breakdown (BG-23) shall have a VAT category code (BT-118).",
         vat_category_has("cbc:ID")),
        ("BR-48", "fatal", "A VAT breakdown (BG-23) shall have a VAT category rate (BT-119), "
         "unless not subject to VAT.", _percent_or_not_subject),
    ])
)  # fmt: skip

GROUPS: tuple[Context, ...] = _ALLOWANCES + _LINES + _TOTALS
