"""UBL-DT rules: the UBL data types as EN 16931 uses them.

Amounts have two decimals at most, attached documents say their MIME type
and file name, and the data type attributes EN 16931 has no use for are
left out (wherever they appear, the root element included).
"""

from __future__ import annotations

from collections.abc import Iterator

from gateway.validation.rules.kernel import string_value
from gateway.validation.rules.model import CBC, Doc, Element
from gateway.validation.rules.shape import Assert, Check, checked
from gateway.validation.rules.ubl_syntax_nav import (
    Answers,
    Together,
    attribute_anywhere,
    ending,
    in_priced_allowance,
    named,
    present,
    reach,
)

_MEANS_CODE = f"{{{CBC}}}PaymentMeansCode"

# (id, attribute): the attribute shall not be used, on any element.
_UNUSED_ATTRIBUTES = (
    ("UBL-DT-08", "schemeName"),
    ("UBL-DT-09", "schemeAgencyName"),
    ("UBL-DT-10", "schemeDataURI"),
    ("UBL-DT-11", "schemeURI"),
    ("UBL-DT-12", "format"),
    ("UBL-DT-13", "unitCodeListIdentifier"),
    ("UBL-DT-14", "unitCodeListAgencyIdentifier"),
    ("UBL-DT-15", "unitCodeListAgencyName"),
    ("UBL-DT-16", "listAgencyName"),
    ("UBL-DT-17", "listName"),
    ("UBL-DT-19", "languageID"),
    ("UBL-DT-20", "listURI"),
    ("UBL-DT-21", "listSchemeURI"),
    ("UBL-DT-22", "languageLocaleID"),
    ("UBL-DT-23", "uri"),
    ("UBL-DT-24", "currencyCodeListVersionID"),
    ("UBL-DT-25", "characterSetCode"),
    ("UBL-DT-26", "encodingCode"),
    ("UBL-DT-27", "schemeAgencyID"),
    ("UBL-DT-28", "listAgencyID"),
)

_ATTRIBUTE_PATHS = tuple((rid, "@" + name) for rid, name in _UNUSED_ATTRIBUTES)
reach("@name", *(path for _, path in _ATTRIBUTE_PATHS))
ending("Amount", "BinaryObject")


def _unused(doc: Doc) -> Answers:
    """The ``_UNUSED_ATTRIBUTES`` present in the document (one carrier each)."""
    return present(doc, _ATTRIBUTE_PATHS)


_UNUSED = Together("unused_attributes", _unused)


def _names(doc: Doc) -> list[Element]:
    """UBL-DT-18: the ``name`` attribute only on a payment means code (BT-82)."""
    return [e for e in attribute_anywhere(doc, "name") if e.tag != _MEANS_CODE][:1]


def _amount_decimals(doc: Doc) -> Iterator[Element]:
    """UBL-DT-01: at most two digits after the point, in every amount but prices.

    Prices (``...PriceAmount``) and anything under a price allowance (the
    base amount and discount of BT-147/BT-148) may have more.
    """
    index = doc.index
    for key in named(doc, "Amount"):
        if key.endswith("PriceAmount"):
            continue
        for amount in index[key]:
            text = amount.text if len(amount) == 0 else string_value(amount)
            if not text:
                continue
            point = text.find(".")
            if point >= 0 and len(text) - point > 3 and not in_priced_allowance(amount):
                yield amount


def _binary_attribute(attribute: str) -> Check:
    """UBL-DT-06/07: an attached document (BT-125) has a MIME code and a file name."""

    def check(doc: Doc) -> Iterator[Element]:
        index = doc.index
        for key in named(doc, "BinaryObject"):
            yield from (e for e in index[key] if e.get(attribute) is None)

    return check


RULES: tuple[Assert, ...] = (
    checked("UBL-DT-01", "fatal", "An amount has at most two decimals", _amount_decimals),
    checked(
        "UBL-DT-06",
        "fatal",
        "An attached document (BT-125) states its MIME code (BT-125-1)",
        _binary_attribute("mimeCode"),
    ),
    checked(
        "UBL-DT-07",
        "fatal",
        "An attached document (BT-125) states its file name (BT-125-2)",
        _binary_attribute("filename"),
    ),
    *(
        _UNUSED.rule(rid, "warning", f"The attribute {name} is not used by EN 16931")
        for rid, name in _UNUSED_ATTRIBUTES
    ),
    checked(
        "UBL-DT-18",
        "warning",
        "The attribute name is used only for the payment means text (BT-82)",
        _names,
    ),
)
