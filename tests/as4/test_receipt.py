"""Receipts and error signals: built signed, read back, checked strictly."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.as4 import receipt, wssec
from gateway.as4.errors import (
    DecompressionFailure,
    ErrorInfo,
    FailedAuthentication,
    FailedDecryption,
    PModeMismatch,
    PolicyNoncompliance,
    error_info,
)
from gateway.as4.ns import EB, EBBP, q
from gateway.errors import GatewayError, NotServiced, SecurityError, StoreError
from tests.as4.helpers import NOW, Pki, read, request


class _Rejected(GatewayError):
    """Stands for pipeline.DocumentRejected (the core must not import the pipeline)."""

    http_status = 400
    code = "document_rejected"


def _receipt_for(pki: Pki) -> tuple[bytes, list[wssec.Reference], str]:
    req = request(pki)
    got = read(pki, req.content_type, req.body())
    raw = receipt.build_receipt(
        ref_to_message_id=got.user_message.message_id,
        references=got.references,
        receipt_id="receipt-1@beta",
        now=NOW,
        key=pki.beta[0],
        cert=pki.beta[1],
    )
    return raw, list(req.references), req.message_id


def test_receipt_echoes_every_signed_reference(pki: Pki) -> None:
    """A signed receipt reads back for the right message without errors, passes the strict check,
    and acknowledges all three signed references."""
    raw, refs, message_id = _receipt_for(pki)
    signal = receipt.read_signal(receipt.CONTENT_TYPE, raw, signer=pki.beta[1])
    assert signal.ref_to_message_id == message_id and not signal.errors
    receipt.check_receipt(signal, message_id=message_id, references=refs)
    root = etree.fromstring(raw)
    parts = root.findall(f".//{q(EBBP, 'MessagePartNRInformation')}")
    assert len(parts) == len(refs) == 3


def test_receipt_checks(pki: Pki) -> None:
    """A receipt is refused as proof when it is about another message, misses a reference, or
    acknowledges a different digest."""
    raw, refs, message_id = _receipt_for(pki)
    signal = receipt.read_signal(receipt.CONTENT_TYPE, raw, signer=pki.beta[1])
    with pytest.raises(FailedAuthentication, match="about message"):
        receipt.check_receipt(signal, message_id="other@x", references=refs)
    with pytest.raises(FailedAuthentication, match="did not send"):
        receipt.check_receipt(signal, message_id=message_id, references=refs[:2])
    other = wssec.Reference(refs[2].uri, b"\0" * 32, transforms=refs[2].transforms)
    with pytest.raises(FailedAuthentication, match="does not acknowledge"):
        receipt.check_receipt(signal, message_id=message_id, references=[*refs[:2], other])


def test_receipt_from_another_certificate_is_refused(pki: Pki) -> None:
    """A receipt signed with another certificate than the peer's is refused."""
    raw, _, _ = _receipt_for(pki)
    with pytest.raises(FailedAuthentication, match="another certificate"):
        receipt.read_signal(receipt.CONTENT_TYPE, raw, signer=pki.alpha[1])


def test_tampered_receipt_is_refused(pki: Pki) -> None:
    """A receipt with a changed value fails its digest, and one without a signature is refused
    with EBMS:0103."""
    raw, _, message_id = _receipt_for(pki)
    forged = raw.replace(message_id.encode(), b"doc-2@POP000101")
    with pytest.raises(FailedAuthentication, match="digest"):
        receipt.read_signal(receipt.CONTENT_TYPE, forged, signer=pki.beta[1])
    unsigned = etree.fromstring(raw)
    sig = unsigned.find(".//{http://www.w3.org/2000/09/xmldsig#}Signature")
    assert sig is not None and sig.getparent() is not None
    sig.getparent().remove(sig)  # type: ignore[union-attr]
    with pytest.raises(GatewayError) as caught:
        receipt.read_signal(receipt.CONTENT_TYPE, etree.tostring(unsigned), signer=pki.beta[1])
    assert caught.value.ebms_code == "EBMS:0103"


@pytest.mark.parametrize(
    ("error", "code", "detail", "permanent"),
    [
        (NotServiced("recipient 0088:1 is not served"), "EBMS:0004", "PEPPOL:NOT_SERVICED", True),
        (_Rejected("the document failed validation"), "EBMS:0004", "document_rejected: the", True),
        (StoreError("store down"), "EBMS:0004", "temporary: store_unavailable", False),
        (SecurityError("certificate expired"), "EBMS:0101", "security_error: certificate", True),
        (FailedAuthentication("bad digest"), "EBMS:0101", "as4_failed_authentication", True),
        (FailedDecryption("x"), "EBMS:0102", "as4_failed_decryption", True),
        (PolicyNoncompliance("x"), "EBMS:0103", "as4_policy", True),
        (DecompressionFailure("x"), "EBMS:0303", "as4_decompression", True),
        (PModeMismatch("x"), "EBMS:0010", "as4_pmode_mismatch", True),
        (GatewayError("internal error while receiving"), "EBMS:0004", "temporary: internal", False),
    ],
)
def test_error_signals(
    pki: Pki, error: GatewayError, code: str, detail: str, permanent: bool
) -> None:
    """Each kind of refusal becomes a signed ebMS error with its code, detail prefix and whether
    it is permanent, and reads back the same."""
    info = error_info(error, ref_to_message_id="doc-1@x")
    raw = receipt.build_error(
        info, signal_id="e-1@beta", now=NOW, key=pki.beta[0], cert=pki.beta[1]
    )
    signal = receipt.read_signal(None, raw, signer=pki.beta[1])
    (got,) = signal.errors
    assert (got.code, got.severity, got.ref_to_message_id) == (code, "failure", "doc-1@x")
    assert got.detail.startswith(detail)
    assert got.permanent is permanent
    assert got.short_description and got.category
    assert signal.ref_to_message_id == "doc-1@x"
    el = etree.fromstring(raw).find(f".//{q(EB, 'Error')}")
    assert el is not None and el.get("errorCode") == code


def test_transient_codes() -> None:
    """Connection errors and warnings are temporary, other EBMS:0004 errors permanent, and
    PEPPOL:NOT_SERVICED is recognised with surrounding spaces."""
    assert not ErrorInfo("EBMS:0005", "connection").permanent
    assert not ErrorInfo("EBMS:0004", "x", severity="warning").permanent
    assert ErrorInfo("EBMS:0004", "a foreign refusal").permanent
    assert ErrorInfo("EBMS:0004", " PEPPOL:NOT_SERVICED ").not_serviced
