"""UBL syntax rules: UBL-CR (UBL elements EN 16931 does not use), UBL-SR
(how often a term may occur), UBL-DT (data types).

Most UBL-CR rules are rows of data (``ubl_syntax_cr_*``): a path whose
presence alone decides. Paths from the root become "shall not be used"
contexts (``shape.not_used``); paths under an invoice line hold for either
line name, and some paths hold at any depth, so those are document-level
assertions answered together over the index. The few UBL-CR rules with a
condition are functions here; UBL-SR and UBL-DT have their modules. The
family is two ``shape.Pattern``s: ``NOT_USED`` and ``DOCUMENT_RULES``.
"""

from __future__ import annotations

from typing import Final

from gateway.model import DocumentKind
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.shape import Assert, Pattern, checked, not_used
from gateway.validation.rules.ubl_syntax_cr_document import ATTRIBUTES, DOCUMENT
from gateway.validation.rules.ubl_syntax_cr_lines import ANYWHERE, LINE
from gateway.validation.rules.ubl_syntax_cr_parties import PARTIES
from gateway.validation.rules.ubl_syntax_dt import RULES as DT_RULES
from gateway.validation.rules.ubl_syntax_nav import (
    Answers,
    PerContext,
    Together,
    contexts,
    keys_anywhere,
    present,
    reach,
    values,
)
from gateway.validation.rules.ubl_syntax_sr import RULES as SR_RULES

_NOT_USED = "is not used by EN 16931"
_REFERENCE = "cac:AdditionalDocumentReference"
_ANYWHERE_PATHS = tuple((rid, path) for rid, _, path in ANYWHERE)
reach(*(path for _, path in _ANYWHERE_PATHS))


# The ``LINE`` rows under either line name, whatever the document: path -> rule.
_LINE_RULE_OF = {
    f"{line}/{rel}": rid
    for rid, _, rel in LINE
    for line in ("cac:InvoiceLine", "cac:CreditNoteLine")
}
_LINE_PATHS = frozenset(_LINE_RULE_OF)


def _on_lines(doc: Doc) -> Answers:
    """The ``LINE`` rows present under an invoice or credit note line (at the root)."""
    found = doc.index.keys() & _LINE_PATHS
    if not found:
        return {}
    root = (doc.root,)
    return {_LINE_RULE_OF[path]: root for path in found}


_LINES = Together("lines", _on_lines)


def _at_any_depth(doc: Doc) -> Answers:
    """The ``ANYWHERE`` rows present in the document (one node each)."""
    return present(doc, _ANYWHERE_PATHS)


_ANYWHERE = Together("anywhere", _at_any_depth)


def _version(doc: Doc) -> tuple[Element, ...]:
    """UBL-CR-002: no UBL version, or 2.1."""
    found = doc.all("cbc:UBLVersionID")
    return (doc.root,) if found and "2.1" not in values(found) else ()


def _invoice_due_date(doc: Doc) -> tuple[Element, ...]:
    """UBL-CR-412: an invoice gives its due date (BT-9) outside the payment means."""
    due = doc.kind is DocumentKind.INVOICE and doc.has("cac:PaymentMeans/cbc:PaymentDueDate")
    return (doc.root,) if due else ()


# (id, part of a document reference, whether the rule is about invoiced
# objects (type code 130) or about the other references)
_REFERENCE_RULES = (
    ("UBL-CR-665", "cbc:ID/@schemeID", False),
    ("UBL-CR-666", "cac:Attachment", True),
    ("UBL-CR-673", "cbc:DocumentDescription", True),
)
reach(_REFERENCE, *(f"{_REFERENCE}/{part}" for _, part, _ in _REFERENCE_RULES))


def _references(doc: Doc) -> Answers:
    """Additional document references with a part, typed 130 (invoiced object) or not."""
    wanted = [row for row in _REFERENCE_RULES if keys_anywhere(doc, f"{_REFERENCE}/{row[1]}")]
    if not wanted:
        return {}
    found: dict[str, list[Element]] = {}
    for key in keys_anywhere(doc, _REFERENCE):
        of = PerContext(doc, key)
        for ref in doc.index[key]:
            codes = values(of(ref, "cbc:DocumentTypeCode"))
            # XPath: DocumentTypeCode = '130' / != '130' hold for any of the codes
            is_object = "130" in codes
            other = not codes or any(c != "130" for c in codes)
            for rid, part, about_objects in wanted:
                if (is_object if about_objects else other) and of(ref, part):
                    found.setdefault(rid, []).append(ref)
    return dict(found)


_REFERENCES = Together("references", _references)


def _message(path: str, where: str = "") -> str:
    return f"{path}{where} {_NOT_USED}"


# The "shall not be used" rows: one context each, at their path (the engine
# answers them all in one pass over the paths of the document).
_NOT_USED_ROWS = (*DOCUMENT, *PARTIES, *ATTRIBUTES)
NOT_USED: Final = Pattern(
    tuple(not_used(rid, flag, _message(path), path) for rid, flag, path in _NOT_USED_ROWS),
    on_error="report",
    name="ubl_syntax.not_used",
)

# Everything else: document-level assertions, most of them generated from
# the tables and answered together per table (a context per table).
_DOCUMENT: tuple[Assert, ...] = (
    *(
        _LINES.rule(rid, flag, _message(f"cac:InvoiceLine/{rel}", " (or in a credit note line)"))
        for rid, flag, rel in LINE
    ),
    *(_ANYWHERE.rule(rid, flag, _message(path, " (at any depth)")) for rid, flag, path in ANYWHERE),
    checked("UBL-CR-002", "warning", "The UBL version, if given, is 2.1", _version),
    checked(
        "UBL-CR-412",
        "warning",
        "An invoice gives its payment due date (BT-9) in cbc:DueDate, not in the payment means",
        _invoice_due_date,
    ),
    _REFERENCES.rule(
        "UBL-CR-665",
        "warning",
        "A scheme identifier is used only on an invoiced object identifier (BT-18)",
    ),
    _REFERENCES.rule(
        "UBL-CR-666", "fatal", "An invoiced object reference (BT-18) has no attachment"
    ),
    _REFERENCES.rule(
        "UBL-CR-673", "fatal", "An invoiced object reference (BT-18) has no description"
    ),
    *SR_RULES,
    *DT_RULES,
)
DOCUMENT_RULES: Final = Pattern(contexts(_DOCUMENT), on_error="report", name="ubl_syntax")

RULES: Final[tuple[Pattern, ...]] = (NOT_USED, DOCUMENT_RULES)
