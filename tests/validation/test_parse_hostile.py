"""The hardened parser: every hostile or broken input gets the right exception
class (the API maps it to an HTTP status), a message that says what and where,
and an answer within moments: no hang, no expansion, no fetch."""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.config.settings import LimitSettings
from gateway.errors import HostileXml, InputError, NotXml, PayloadTooLarge, UnknownDocument
from gateway.model import DocumentKind
from gateway.samples import sample_bytes
from gateway.validation import classify, parse_xml, validate
from gateway.validation.parse import LIBXML2_MAX_DEPTH
from tests.support import corpus_examples
from tests.validation import docs

LIMITS = LimitSettings()
QUICK = 2.0  # seconds; a refusal takes milliseconds, a hang or a fetch would not

DOCTYPE = r"DOCTYPE declarations are refused"
REFUSED_CASES = [
    pytest.param(b"", NotXml, r"empty", id="empty"),
    pytest.param(b" \n\t ", NotXml, r"empty", id="whitespace-only"),
    pytest.param(bytes(range(256)) * 16, NotXml, r"line 1, column 1", id="binary-garbage"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", NotXml, r"line 1", id="png-header"),
    pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", NotXml, r"line 1", id="pdf-header"),
    pytest.param(b'{"invoice": 1}', NotXml, r"line 1, column 1", id="json"),
    pytest.param(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<r>caf\xe9</r>',
        NotXml,
        r"line 2, column \d+: .*encoding",
        id="latin1-bytes-declared-utf8",
    ),
    pytest.param(
        b'<?xml version="1.0" encoding="x-no-such-charset"?><r/>',
        NotXml,
        r"[Uu]nsupported encoding",
        id="unknown-encoding",
    ),
    pytest.param(b"<r><a></r>", NotXml, r"line 1, column \d+: .*mismatch", id="tag-mismatch"),
    pytest.param(b"<r>\n<a>\n", NotXml, r"line \d+", id="truncated"),
    pytest.param(b"<a/><b/>", NotXml, r"Extra content", id="two-roots"),
    pytest.param(b"<r>&x;</r>", NotXml, r"'x' not defined", id="undeclared-entity"),
    pytest.param(b"<!DOCTYPE r><r/>", HostileXml, DOCTYPE, id="doctype"),
    pytest.param(docs.BILLION_LAUGHS, HostileXml, rf"{DOCTYPE}|safety limit", id="billion-laughs"),
    pytest.param(
        docs.QUADRATIC_BLOWUP, HostileXml, rf"{DOCTYPE}|safety limit", id="quadratic-blowup"
    ),
    pytest.param(docs.xxe("file:///etc/passwd"), HostileXml, DOCTYPE, id="xxe-file"),
    pytest.param(docs.xxe("http://127.0.0.1:9/x"), HostileXml, DOCTYPE, id="xxe-http"),
    pytest.param(
        docs.parameter_entity("file:///etc/passwd"), HostileXml, DOCTYPE, id="parameter-entity"
    ),
    pytest.param(
        docs.parameter_entity("http://127.0.0.1:9/evil.dtd"),
        HostileXml,
        DOCTYPE,
        id="parameter-entity-http",
    ),
    pytest.param(docs.external_dtd("http://127.0.0.1:9/x.dtd"), HostileXml, DOCTYPE, id="ext-dtd"),
    pytest.param(
        docs.nested(LIBXML2_MAX_DEPTH + 1), HostileXml, r"safety limit", id="deep-nesting"
    ),
    pytest.param(docs.nested(100_000), HostileXml, r"safety limit", id="very-deep-nesting"),
    # A text node over 10 MB is not hostile: an embedded attachment makes one. It is
    # parsed (test_large_text_nodes_parse_but_depth_is_still_limited below).
]


@pytest.mark.parametrize(("data", "error", "pattern"), REFUSED_CASES)
def test_refused_with_the_right_exception_quickly(
    data: bytes, error: type[InputError], pattern: str
) -> None:
    """Empty, binary, non-XML, mis-encoded, malformed, DOCTYPE, entity-expansion, external entity
    or DTD, and too deeply nested inputs are refused within 2 s as not XML or hostile, with a
    message saying what and where."""
    start = time.perf_counter()
    with pytest.raises(InputError) as raised:
        parse_xml(data, LimitSettings(max_document_bytes=20_000_000))
    assert time.perf_counter() - start < QUICK
    assert type(raised.value) is error, raised.value.message
    assert re.search(pattern, raised.value.message), raised.value.message


@pytest.mark.parametrize(
    ("limits", "data", "pattern"),
    [
        (LimitSettings(max_depth=10), docs.nested(11), r"deeper than 10 levels"),
        (LimitSettings(max_elements=1000), docs.flat(1001), r"more than 1000 elements"),
        (LimitSettings(max_elements=1000), docs.nested(200), None),  # within both
    ],
)
def test_configured_depth_and_element_limits(
    limits: LimitSettings, data: bytes, pattern: str | None
) -> None:
    """Configured depth and element limits refuse documents beyond them, naming the limit, and
    accept documents within both."""
    if pattern is None:
        parse_xml(data, limits)
        return
    with pytest.raises(HostileXml, match=pattern):
        parse_xml(data, limits)


@pytest.mark.parametrize("encode", [lambda d: d, docs.utf16], ids=["utf8", "utf16"])
@pytest.mark.parametrize("limit", [1, 7, 64])
def test_limits_are_exact_at_the_boundary(encode: Callable[[bytes], bytes], limit: int) -> None:
    """A document exactly at the depth or element limit parses and one more level or element is
    refused, in UTF-8 and UTF-16."""
    at_depth, at_count = LimitSettings(max_depth=limit), LimitSettings(max_elements=limit)
    header = b'<?xml version="1.0" encoding="UTF-8"?>'
    parse_xml(encode(header + docs.nested(limit)), at_depth)
    parse_xml(encode(header + docs.flat(limit)), at_count)
    with pytest.raises(HostileXml):
        parse_xml(encode(header + docs.nested(limit + 1)), at_depth)
    with pytest.raises(HostileXml):
        parse_xml(encode(header + docs.flat(limit + 1)), at_count)


def test_libxml2_depth_ceiling_applies_to_higher_settings() -> None:
    """A configured depth above libxml2's ceiling still stops at that ceiling."""
    parse_xml(docs.nested(LIBXML2_MAX_DEPTH), LimitSettings(max_depth=1000))
    with pytest.raises(HostileXml):
        parse_xml(docs.nested(LIBXML2_MAX_DEPTH + 1), LimitSettings(max_depth=1000))


def test_element_flood_stops_at_the_limit() -> None:
    """A flood of two million elements is refused at the element limit within 2 s."""
    flood = docs.flat(2_000_000)  # 8 MB of "<b/>"
    start = time.perf_counter()
    with pytest.raises(HostileXml, match="more than 20000 elements"):
        parse_xml(flood, LimitSettings(max_elements=20_000))
    assert time.perf_counter() - start < QUICK


def test_exotic_encodings_are_counted_exactly() -> None:
    """Elements in a UTF-7 document are counted exactly, so the element limit holds there too."""
    # In UTF-7 "<" can be spelled without the byte "<": no byte-count shortcut.
    body = "<a>" + "<b/>" * 30 + "</a>"
    data = b'<?xml version="1.0" encoding="UTF-7"?>' + body.encode("utf-7")
    assert len(parse_xml(data, LIMITS)) == 30
    with pytest.raises(HostileXml):
        parse_xml(data, LimitSettings(max_elements=30))


def test_oversized_is_refused_before_parsing() -> None:
    """A document one byte over the size limit is refused naming its size and the limit, even
    when it is not XML."""
    data = sample_bytes(DocumentKind.INVOICE)
    parse_xml(data, LimitSettings(max_document_bytes=len(data)))
    with pytest.raises(PayloadTooLarge, match=rf"{len(data)} bytes; the limit is {len(data) - 1}"):
        parse_xml(data, LimitSettings(max_document_bytes=len(data) - 1))
    with pytest.raises(PayloadTooLarge):  # even when it is not XML at all
        parse_xml(b"\x00" * 101, LimitSettings(max_document_bytes=100))


def test_the_file_behind_an_external_entity_is_never_read(tmp_path: Path) -> None:
    """A document with an external entity pointing at a local file is refused as hostile and the
    report holds nothing of that file."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7731")
    report, root, facts = validate(docs.xxe(secret.as_uri()), LIMITS)
    assert root is None and facts is None
    assert report.fatal_ids == ["XML-HOSTILE"]
    assert "TOP-SECRET" not in str(report.to_json())


@pytest.fixture
def listener() -> Iterator[tuple[str, socket.socket]]:
    """A local TCP port that records whether anything connects to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", server
    finally:
        server.close()


def test_nothing_is_fetched_over_the_network(listener: tuple[str, socket.socket]) -> None:
    """Validating documents with external entities, DTDs, schemaLocation or XInclude makes no
    network connection."""
    url, server = listener
    attempts = [
        docs.xxe(f"{url}/entity"),
        docs.parameter_entity(f"{url}/evil.dtd"),
        docs.external_dtd(f"{url}/x.dtd"),
        docs.replace_once(
            sample_bytes(DocumentKind.INVOICE),
            b"<Invoice ",
            b'<Invoice xmlns:xi="http://www.w3.org/2001/XInclude" '
            b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            b'xsi:schemaLocation="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2 '
            + f"{url}/invoice.xsd".encode()
            + b'" ',
        ),
        b'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="'
        + f"{url}/inc".encode()
        + b'"/></r>',
    ]
    for data in attempts:
        validate(data, LIMITS)
    with pytest.raises(TimeoutError):
        server.accept()


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (
            b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>',
            r"'Order' in namespace 'urn:oasis:names:specification:ubl:schema:xsd:Order-2'",
        ),
        (
            b'<Invoice xmlns="urn:example:invoice"/>',
            r"'Invoice' in namespace 'urn:example:invoice'",
        ),
        (b"<Invoice/>", r"'Invoice' in no namespace"),
        (
            b'<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>',
            r"'CreditNote' in namespace 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'",
        ),
        (
            b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:'
            b'CrossIndustryInvoice:100"/>',
            r"'CrossIndustryInvoice'",
        ),
    ],
)
def test_unknown_roots_are_named(data: bytes, found: str) -> None:
    """A document whose root is not a UBL Invoice or CreditNote is refused naming the root
    element and its namespace."""
    root = parse_xml(data, LIMITS)
    with pytest.raises(UnknownDocument, match=found):
        classify(root)


def test_both_ubl_roots_are_recognised() -> None:
    """The UBL Invoice and CreditNote samples are recognised as their kind."""
    for kind in DocumentKind:
        assert classify(parse_xml(sample_bytes(kind), LIMITS)) is kind


def test_utf16_documents_parse() -> None:
    """A UTF-16 invoice with a BOM parses and validates, with its facts read."""
    data = docs.utf16(sample_bytes(DocumentKind.INVOICE))
    assert data.startswith(b"\xff\xfe")
    report, _root, facts = validate(data, LIMITS)
    assert report.valid and facts is not None
    assert facts.business_id == "ABQ-2026-0147"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_only_ever_give_input_errors(data: bytes) -> None:
    """Any bytes either parse or are refused with an input error, and validation always gives a
    valid report or fatal findings, never another exception."""
    with contextlib.suppress(InputError):  # any other exception fails the test
        parse_xml(data, LIMITS)
    report, _root, _facts = validate(data, LIMITS)
    assert report.valid or report.fatal_ids


_SAMPLE = sample_bytes(DocumentKind.INVOICE)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, len(_SAMPLE) - 1),
    st.integers(0, len(_SAMPLE)),
    st.binary(min_size=0, max_size=8),
)
def test_damaged_samples_never_crash(start: int, end: int, junk: bytes) -> None:
    """A sample damaged by a random splice validates to a consistent report: a refusal when
    unparsable, valid exactly when schema-valid without fatal findings."""
    damaged = _SAMPLE[:start] + junk + _SAMPLE[max(start, end) :]
    report, root, facts = validate(damaged, LIMITS)
    if root is None:
        assert report.rejection is not None
        assert not report.valid
    if facts is not None:
        assert facts.kind is report.kind
    assert report.valid == (not report.fatal_ids and report.schema_valid)


# A random tree: each node is a list of children.
_trees = st.recursive(st.just([]), lambda kids: st.lists(kids, max_size=5), max_leaves=60)


def _shape(tree: list[object], level: int = 1) -> tuple[int, int]:
    """(elements, depth) of a tree."""
    counts = [_shape(child, level + 1) for child in tree if isinstance(child, list)]
    return 1 + sum(c for c, _ in counts), max([level, *(d for _, d in counts)])


def _xml(tree: list[object]) -> bytes:
    inner = b"".join(_xml(child) for child in tree if isinstance(child, list))
    return b"<e>" + inner + b"</e>" if inner else b"<e/>"


@settings(max_examples=200, deadline=None)
@given(_trees, st.integers(1, 70), st.integers(1, 12), st.booleans())
def test_limits_hold_for_any_shape(
    tree: list[object], max_elements: int, max_depth: int, as_utf16: bool
) -> None:
    """For any tree shape, in UTF-8 or UTF-16, parsing succeeds exactly when element count and
    depth are within the limits, and is refused as hostile otherwise."""
    elements, depth = _shape(tree)
    data = _xml(tree)
    if as_utf16:
        data = docs.utf16(b'<?xml version="1.0" encoding="UTF-8"?>' + data)
    limits = LimitSettings(max_elements=max_elements, max_depth=max_depth)
    if elements <= max_elements and depth <= max_depth:
        parse_xml(data, limits)
    else:
        with pytest.raises(HostileXml):
            parse_xml(data, limits)


def test_large_text_nodes_parse_but_depth_is_still_limited() -> None:
    """A text node over 10 MB parses, but deep nesting after it is still refused at 256 levels."""
    # Over 10 MB, libxml2's own limits are lifted (an invoice may embed a big
    # PDF); ours still refuse deep nesting.
    big = LimitSettings(max_document_bytes=64 * 1024 * 1024)
    text = b"<a>" + b"y" * 11_000_000 + b"</a>"
    assert parse_xml(text, big).tag == "a"
    deep = b"<a>" + b"y" * 11_000_000 + b"<b>" * 300 + b"</b>" * 300 + b"</a>"
    with pytest.raises(HostileXml, match="deeper than 256"):
        parse_xml(deep, big)


def _spread(elements: int, each: int) -> bytes:
    """A root with ``elements`` children of ``each`` attributes."""
    child = b"<b" + docs.attributes(each) + b"/>"
    return b"<a>" + child * elements + b"</a>"


@pytest.mark.parametrize("encode", [lambda d: d, docs.utf16], ids=["utf8", "utf16"])
@pytest.mark.parametrize("limit", [1, 5, 64])
def test_attribute_limits_are_exact_at_the_boundary(
    encode: Callable[[bytes], bytes], limit: int
) -> None:
    """Attributes exactly at the per-element or total limit parse and one more is refused naming
    the element and the count, in UTF-8 and UTF-16."""
    header = b'<?xml version="1.0" encoding="UTF-8"?>'
    per_element = LimitSettings(max_attributes_per_element=limit)
    in_all = LimitSettings(max_attributes=limit)
    parse_xml(encode(header + _spread(3, limit)), per_element)
    parse_xml(encode(header + _spread(limit, 1)), in_all)
    with pytest.raises(HostileXml, match=rf"with {limit + 1} attributes.*= {limit} \(<b> at"):
        parse_xml(encode(header + _spread(3, limit + 1)), per_element)
    with pytest.raises(HostileXml, match=rf"more than {limit} attributes .*{limit + 1} counted"):
        parse_xml(encode(header + _spread(limit + 1, 1)), in_all)


def test_namespace_declarations_count_toward_the_total_only() -> None:
    """Namespace declarations count toward the total attribute limit but not the per-element one."""
    declarations = b"".join(b' xmlns:n%d="urn:x:%d"' % (i, i) for i in range(10))
    data = b"<a" + declarations + b' k="v"/>'
    parse_xml(data, LimitSettings(max_attributes_per_element=1, max_attributes=11))
    with pytest.raises(HostileXml, match=r"limits\.max_attributes; 11 counted"):
        parse_xml(data, LimitSettings(max_attributes=10))


def test_equals_signs_in_text_and_values_are_not_attributes() -> None:
    """Equals signs in text and attribute values are not counted as attributes."""
    # The byte-count shortcut sees 201 "=" here; the exact count sees 1 attribute.
    data = b'<a k="' + b"=" * 100 + b'">' + b"x=y " * 100 + b"</a>"
    assert parse_xml(data, LimitSettings(max_attributes_per_element=1, max_attributes=1)).tag == "a"


def test_a_million_attributes_are_refused_while_parsing() -> None:
    """One element with a million attributes, or 1.2 million attributes over small elements, is
    refused naming the count and the limit."""
    data = docs.many_attributes(1_000_000)  # 8 MB, as in issue #9
    with pytest.raises(HostileXml, match="an element with 1000000 attributes"):
        parse_xml(data, LIMITS)
    flood = _spread(400_000, 3)  # 1.2 million attributes on small elements
    with pytest.raises(HostileXml, match=r"more than 250000 attributes .*25000[1-3] counted"):
        parse_xml(flood, LimitSettings(max_document_bytes=20_000_000))


def test_the_default_limits_accept_every_corpus_example() -> None:
    """The default parsing limits accept every example document of the corpus."""
    for path in corpus_examples():
        parse_xml(path.read_bytes(), LimitSettings(max_document_bytes=64 * 1024 * 1024))
