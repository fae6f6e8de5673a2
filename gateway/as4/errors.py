"""AS4 failures in the gateway's exception tree, and both directions of the
mapping between a GatewayError and an ebMS Error signal.

Codes, short descriptions and categories are those of ebMS 3.0 Core §6.7.1
and the AS4 profile §5.2 (EBMS:0301-0303). The Peppol AS4 profile adds one
error: EBMS:0004 with errorDetail ``PEPPOL:NOT_SERVICED`` for a recipient or
document type the receiving access point does not serve.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import GatewayError

NOT_SERVICED_DETAIL = "PEPPOL:NOT_SERVICED"
# Our own gateways prefix the detail of failures on their side with this, so
# that the sender knows a retry may succeed (EBMS:0004 says nothing about it).
TEMPORARY_PREFIX = "temporary: "

SHORT_DESCRIPTIONS = {
    "EBMS:0001": "ValueNotRecognized",
    "EBMS:0002": "FeatureNotSupported",
    "EBMS:0003": "ValueInconsistent",
    "EBMS:0004": "Other",
    "EBMS:0005": "ConnectionFailure",
    "EBMS:0006": "EmptyMessagePartitionChannel",
    "EBMS:0007": "MimeInconsistency",
    "EBMS:0008": "FeatureNotSupported",
    "EBMS:0009": "InvalidHeader",
    "EBMS:0010": "ProcessingModeMismatch",
    "EBMS:0011": "ExternalPayloadError",
    "EBMS:0101": "FailedAuthentication",
    "EBMS:0102": "FailedDecryption",
    "EBMS:0103": "PolicyNoncompliance",
    "EBMS:0201": "DysfunctionalReliability",
    "EBMS:0202": "DeliveryFailure",
    "EBMS:0301": "MissingReceipt",
    "EBMS:0302": "InvalidReceipt",
    "EBMS:0303": "DecompressionFailure",
}

# Errors that describe a passing condition: the same message may pass later.
_TRANSIENT_CODES = frozenset(
    {"EBMS:0005", "EBMS:0006", "EBMS:0201", "EBMS:0202", "EBMS:0301", "EBMS:0302"}
)


class As4Error(GatewayError):
    """A refusal of an AS4 message, answered with the ebMS error it names."""

    http_status = 400
    ebms_code = "EBMS:0004"
    category = "Content"
    code = "as4_error"


class FeatureNotSupported(As4Error):
    ebms_code = "EBMS:0002"
    code = "as4_feature_not_supported"


class ValueInconsistent(As4Error):
    ebms_code = "EBMS:0003"
    code = "as4_value_inconsistent"


class MimeInconsistency(As4Error):
    ebms_code = "EBMS:0007"
    category = "Unpackaging"
    code = "as4_mime"


class InvalidHeader(As4Error):
    ebms_code = "EBMS:0009"
    category = "Unpackaging"
    code = "as4_invalid_header"


class PModeMismatch(As4Error):
    """The message does not follow the Peppol profile (parties, service, agreement)."""

    ebms_code = "EBMS:0010"
    code = "as4_pmode_mismatch"


class FailedAuthentication(As4Error):
    http_status = 403
    ebms_code = "EBMS:0101"
    category = "Processing"
    code = "as4_failed_authentication"


class FailedDecryption(As4Error):
    http_status = 403
    ebms_code = "EBMS:0102"
    category = "Processing"
    code = "as4_failed_decryption"


class PolicyNoncompliance(As4Error):
    """Algorithms, coverage or tokens other than the profile's."""

    http_status = 403
    ebms_code = "EBMS:0103"
    category = "Processing"
    code = "as4_policy"


class InvalidEnvelope(As4Error):
    """The payload is not a Peppol Business Message Envelope (SBDH) we can route."""

    code = "sbdh_invalid"


class DecompressionFailure(As4Error):
    ebms_code = "EBMS:0303"
    category = "Communication"
    code = "as4_decompression"


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """The content of one eb:Error."""

    code: str  # errorCode, e.g. "EBMS:0101"
    detail: str  # eb:ErrorDetail
    severity: str = "failure"
    category: str = "Content"
    short_description: str = ""
    description: str = ""  # eb:Description
    origin: str = "ebMS"
    ref_to_message_id: str = ""

    @property
    def not_serviced(self) -> bool:
        return self.code == "EBMS:0004" and self.detail.strip() == NOT_SERVICED_DETAIL

    @property
    def permanent(self) -> bool:
        """Whether sending the same message again is pointless.

        An ebMS error means the receiving MSH processed the message and
        refused it, which it will do again, except for the codes that name
        a passing condition and our own gateways' temporary failures.
        """
        if self.severity != "failure" or self.code in _TRANSIENT_CODES:
            return False
        return not (self.code == "EBMS:0004" and self.detail.startswith(TEMPORARY_PREFIX))


def error_info(exc: GatewayError, *, ref_to_message_id: str = "") -> ErrorInfo:
    """The eb:Error answering ``exc``. Its message is sent as is: raise
    errors whose text is fit for a peer."""
    if exc.ebms_code == NOT_SERVICED_DETAIL:
        # Peppol AS4 2.0.3: EBMS:0004 with this exact errorDetail.
        code, detail = "EBMS:0004", NOT_SERVICED_DETAIL
    else:
        code = exc.ebms_code if exc.ebms_code in SHORT_DESCRIPTIONS else "EBMS:0004"
        detail = f"{exc.code}: {exc.message}"
        if code == "EBMS:0004" and exc.http_status >= 500:
            detail = TEMPORARY_PREFIX + detail
    category = getattr(exc, "category", None) or _category(code)
    return ErrorInfo(
        code=code,
        detail=detail[:1024],
        category=category,
        short_description=SHORT_DESCRIPTIONS[code],
        description=exc.message[:1024],
        origin="security" if code in ("EBMS:0101", "EBMS:0102", "EBMS:0103") else "ebMS",
        ref_to_message_id=ref_to_message_id,
    )


def _category(code: str) -> str:
    if code in ("EBMS:0101", "EBMS:0102", "EBMS:0103"):
        return "Processing"
    if code in ("EBMS:0007", "EBMS:0009"):
        return "Unpackaging"
    if code in ("EBMS:0005", "EBMS:0303"):
        return "Communication"
    return "Content"
