"""The native rule engine's machinery: the one record shape, the document model, XPath pieces.

The conformance tests cover the verdicts; these pin what the engine and its
speed-ups rest on: "report" patterns keep each error to its rules and report
in a fixed order, "stop" patterns stop together, contexts answered at once
report exactly what they would node by node, the model's one walk builds
what a plain reading of the tree gives, and nothing keeps a document alive
after ``native_findings``.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from gateway.model import DocumentKind
from gateway.validation import classify
from gateway.validation.rules import kernel_numbers, native_findings, paths
from gateway.validation.rules.core_family import family, group
from gateway.validation.rules.core_nav import Nav
from gateway.validation.rules.engine import Outcome, RuleSet, stage
from gateway.validation.rules.kernel import DynamicError
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.shape import Assert, Context, Pattern, checked, not_used, root
from tests.support import corpus_examples

INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
_NS = (
    f'xmlns="{INVOICE}" '
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
)


def _doc(body: str) -> Doc:
    return Doc(etree.fromstring(f"<Invoice {_NS}>{body}</Invoice>".encode()), DocumentKind.INVOICE)


def _ids(patterns: Sequence[Pattern], doc: Doc) -> list[tuple[str, str]]:
    return [(f.id, f.location) for f in RuleSet(patterns).evaluate(doc)]


def _stage(doc: Doc, patterns: Sequence[Pattern]) -> Outcome:
    return stage(doc, RuleSet(patterns).staged)


def _is(text: str) -> Assert:
    return Assert(f"T-{text}", "fatal", f"a note reads {text}", lambda e, d: e.text == text)


# --- "report" patterns ----------------------------------------------------------------


def test_report_patterns_keep_each_error_to_its_rules_and_report_in_assertion_order() -> None:
    """In "report" patterns an error in a test is a fatal finding of that rule only, an error in a
    context or a pattern condition one of each of its rules; the others still report, in the
    order of their assertions, each with its nodes in document order."""
    doc = _doc("<cbc:ID>1</cbc:ID><cbc:Note>a</cbc:Note><cbc:Note>b</cbc:Note>")

    def notes(d: Doc) -> list[Element]:
        return d.all("cbc:Note")

    def broken(d: Doc) -> list[Element]:
        raise KeyError("context")

    def boom(e: Element, d: Doc) -> bool:
        raise ValueError("boom")

    def unknown(d: Doc) -> bool:
        raise RuntimeError("condition")

    later = Pattern((Context("notes", notes, (_is("b"),)),), on_error="report")
    first = Pattern(
        (
            Context("notes", notes, (_is("x"), Assert("E-1", "warning", "", boom))),
            Context("broken", broken, (_is("y"), _is("z"))),
        ),
        on_error="report",
    )
    skipped = Pattern((Context("notes", notes, (_is("w"),)),), when=unknown, on_error="report")
    found = RuleSet([first, skipped, later]).evaluate(doc)
    assert [(f.id, f.location) for f in found if "evaluated" not in f.message] == [
        ("T-x", "/*/cbc:Note[1]"),
        ("T-x", "/*/cbc:Note[2]"),
        ("T-b", "/*/cbc:Note[1]"),
    ]
    errors = {f.id: f.message for f in found if "could not be evaluated" in f.message}
    assert set(errors) == {"E-1", "T-y", "T-z", "T-w"}
    assert "ValueError: boom" in errors["E-1"] and "KeyError" in errors["T-y"]
    assert all(f.flag == "fatal" for f in found if f.id in errors)


def test_not_used_rows_come_first_and_document_checks_report_their_nodes() -> None:
    """ "Shall not be used" rows fail once, at the first node of their path, before every other
    finding and in document order; a document-level check reports the nodes it yields, and an
    error it raises late is still that rule's fatal finding."""
    doc = _doc("<cbc:Note>a</cbc:Note><cbc:ID>1</cbc:ID><cbc:Note>b</cbc:Note>")

    def lazy_error(d: Doc) -> Iterator[Element]:
        yield d.root
        raise KeyError("late")  # only seen when the generator is consumed

    rows = Pattern(
        (not_used("N-ID", "warning", "", "cbc:ID"), not_used("N-Note", "warning", "", "cbc:Note"),
         not_used("N-Absent", "warning", "", "cbc:UUID")),
        on_error="report",
    )  # fmt: skip
    checks = Pattern(
        (
            Context(
                "the document",
                root,
                (
                    checked("C-1", "warning", "", lambda d: d.all("cbc:Note")[1:]),
                    checked("C-2", "warning", "", lambda d: ()),
                    checked("C-3", "warning", "", lazy_error),
                ),
            ),
        ),
        on_error="report",
    )
    found = RuleSet([checks, rows]).evaluate(doc)
    assert [(f.id, f.location) for f in found][:3] == [
        ("N-Note", "/*/cbc:Note[1]"),
        ("N-ID", "/*/cbc:ID"),
        ("C-1", "/*/cbc:Note[2]"),
    ]
    assert [(f.id, f.flag) for f in found[3:]] == [("C-3", "fatal")]
    assert "KeyError" in found[-1].message


def test_a_rule_id_defined_twice_is_refused() -> None:
    """Two assertions with one id cannot make a rule set: each finding names one rule."""
    twice = Pattern((Context("root", root, (_is("a"),)), Context("again", root, (_is("a"),))))
    with pytest.raises(ValueError, match="T-a"):
        RuleSet([twice])


# --- the core family: tests answered for many nodes at once -------------------------------


class _Listed:
    """A test with a bulk form that raises: the family falls back to node by node."""

    def __call__(self, x: Nav, n: Element) -> bool:
        if n.text == "bad":
            raise ValueError(f"cannot read {n.text}")
        return n.text == "ok"

    def failing(self, x: Nav, nodes: list[Element]) -> list[Element]:
        return [n for n in nodes if not self(x, n)]


def test_bulk_tests_fall_back_node_by_node_on_an_error() -> None:
    """A rule tested on many nodes at once reports the failing node; when a node cannot be read,
    the rule reports one finding at / carrying the error message."""
    notes = "<cbc:Note>ok</cbc:Note><cbc:Note>no</cbc:Note>"
    rules = family(
        "test_bulk",
        group("notes", lambda x: x.kids(x.root, "cbc:Note"), [("T-1", "fatal", "", _Listed())]),
    )
    assert _ids(rules, _doc(notes)) == [("T-1", "/*/cbc:Note[2]")]
    found = RuleSet(rules).evaluate(_doc(notes + "<cbc:Note>bad</cbc:Note>"))
    assert [(f.id, f.location) for f in found] == [("T-1", "/")]
    assert "cannot read bad" in found[0].message


# --- the Peppol patterns: contexts answered at once ---------------------------------------


def _pattern(at_once: bool, overlapping: bool) -> Pattern:
    def not_ok(nodes: list[Element], doc: Doc) -> list[Element]:
        return [n for n in nodes if n.text != "ok"]

    def notes(doc: Doc) -> list[Element]:
        return doc.all("cbc:Note")

    def first_note(doc: Doc) -> list[Element]:
        return doc.all("cbc:Note")[:1] + doc.all("cbc:ID")

    return Pattern(
        (
            Context(
                "first", first_note, (Assert("P-1", "fatal", "", lambda e, d: e.text == "ok"),)
            ),
            Context(
                "notes",
                notes,
                (
                    Assert(
                        "P-2", "fatal", "", lambda e, d: e.text == "ok", not_ok if at_once else None
                    ),
                ),
            ),
        ),
        overlapping=overlapping,
    )


@pytest.mark.parametrize("overlapping", [False, True])
def test_contexts_answered_at_once_equal_node_by_node(overlapping: bool) -> None:
    """Peppol contexts answered at once fail the same nodes as node by node; with overlapping
    contexts a node taken by an earlier context is not tested again."""
    doc = _doc(
        "<cbc:ID>x</cbc:ID><cbc:Note>no</cbc:Note><cbc:Note>ok</cbc:Note><cbc:Note>n</cbc:Note>"
    )
    plain = _stage(doc, [_pattern(False, overlapping)])
    fast = _stage(doc, [_pattern(True, overlapping)])
    assert fast.failed == plain.failed
    assert [e.text for e in fast.failed["P-2"]] == (["n"] if overlapping else ["no", "n"])


def test_the_first_stopping_assertion_is_reported() -> None:
    """An assertion that stops the stage is reported as the stage's abort, with no failures."""

    def stops(e: Element, d: Doc) -> bool:
        raise DynamicError("stop", schema=False)

    pattern = Pattern((Context("root", lambda d: [d.root], (Assert("S-1", "fatal", "", stops),)),))
    outcome = _stage(_doc(""), [pattern])
    assert outcome.aborted_by == "S-1" and outcome.failed == {}


# --- the document model -------------------------------------------------------------------

_TAGS = ["a", "b", "c"]


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> str:
    """Small XML fragments: nested elements, attributes, blank and filled text,
    comments and processing instructions."""
    parts = []
    for _ in range(draw(st.integers(0, 3 if depth < 3 else 0))):
        kind = draw(st.sampled_from(["element", "element", "comment", "pi", "text"]))
        if kind == "comment":
            parts.append("<!--c-->")
        elif kind == "pi":
            parts.append("<?p x?>")
        elif kind == "text":
            parts.append(draw(st.sampled_from([" ", "\t\n", "x", " y "])))
        else:
            tag = draw(st.sampled_from(_TAGS))
            attrs = " ".join(f'{n}="v"' for n in draw(st.sets(st.sampled_from(["k", "m"]))))
            parts.append(f"<{tag} {attrs}>{draw(trees(depth + 1))}</{tag}>")
    return "".join(parts)


@given(trees())
def test_the_walk_builds_what_the_tree_says(body: str) -> None:
    """The document model's children, tag lists, empty elements and path index equal a plain
    reading of any generated tree."""
    root = etree.fromstring(f"<Invoice>{body}</Invoice>".encode())
    doc = Doc(root, DocumentKind.INVOICE)
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    for e in elements:
        kids = [c for c in e if isinstance(c.tag, str)]
        for tag in _TAGS:
            assert doc.kids(e, tag) == [c for c in kids if c.tag == tag]
    for tag in _TAGS:
        assert doc.by_tag.get(tag, []) == [e for e in root.iter(tag) if e is not root]
    assert doc.empty == root.xpath("//*[not(*) and not(normalize-space())]")
    paths: dict[str, list[Element]] = {}
    for e in elements[1:]:
        path = "/".join(a.tag for a in reversed([e, *e.iterancestors()][:-1]))
        paths.setdefault(path, []).append(e)
        for name in e.attrib:
            paths.setdefault(f"{path}/@{name!s}", []).append(e)
    assert doc.index == paths


def test_paths_reached_at_any_depth_are_grouped_in_index_order() -> None:
    """A path reached at any depth lists its full paths in document order."""
    (pattern,) = paths.reach("cac:Party/cbc:Name")
    doc = _doc(
        "<cac:AccountingSupplierParty><cac:Party><cbc:Name>s</cbc:Name></cac:Party>"
        "</cac:AccountingSupplierParty><cac:Delivery><cac:DeliveryParty><cac:Party>"
        "<cbc:Name>d</cbc:Name></cac:Party></cac:DeliveryParty></cac:Delivery>"
    )
    assert doc.reached[pattern] == [
        "cac:AccountingSupplierParty/cac:Party/cbc:Name",
        "cac:Delivery/cac:DeliveryParty/cac:Party/cbc:Name",
    ]


def test_nothing_keeps_a_document_alive_after_the_rules() -> None:
    """Running the rules on a document leaves nothing in reference cycles for the garbage
    collector."""
    root = _doc(
        "<cbc:ID>1</cbc:ID><cac:InvoiceLine><cbc:ID>1</cbc:ID></cac:InvoiceLine>"
        "<cac:TaxTotal><cac:TaxSubtotal><cac:TaxCategory><cbc:ID>S</cbc:ID>"
        "</cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>"
    ).root
    native_findings(root, DocumentKind.INVOICE)
    gc.collect()
    gc.disable()
    try:
        native_findings(root, DocumentKind.INVOICE)
        assert gc.collect() == 0  # freed on return, not left to the cycle collector
    finally:
        gc.enable()


def test_no_corpus_example_is_left_to_the_cycle_collector() -> None:
    """The same on every example of the corpus: the VAT, national and Peppol
    paths they take leave no reference cycle either (compiled or not)."""
    kept: dict[str, int] = {}
    for path in corpus_examples():
        root = etree.parse(str(path)).getroot()
        kind = classify(root)
        native_findings(root, kind)
        gc.collect()
        gc.disable()
        try:
            native_findings(root, kind)
            found = gc.collect()
        finally:
            gc.enable()
        if found:
            kept[path.name] = found
    assert not kept, f"objects left in reference cycles, per document: {kept}"


# --- shared XPath values ----------------------------------------------------------------

_XS_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


@given(st.text(alphabet="0123456789.+-eE \t\n\r\u00a0\u0663_xN", max_size=8))
def test_xs_decimal_is_the_lexical_space(text: str) -> None:
    """The shared xs:decimal reader accepts exactly the XSD lexical space, around XML whitespace."""
    s = text.strip(" \t\n\r")
    expected = Decimal(s) if _XS_DECIMAL.fullmatch(s) else None
    assert kernel_numbers.decimal(text) == expected
