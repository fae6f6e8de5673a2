"""One exception tree. Each error carries what it means at every boundary:
its HTTP status for the API, its ebMS error code for AS4 peers, and its exit
code for the CLI. Libraries' exceptions are translated into these at the edge.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""

    http_status = 500
    ebms_code = "EBMS:0004"
    exit_code = 1
    code = "internal_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


class ConfigError(GatewayError):
    """The configuration file is missing, unreadable or wrong.

    ``path`` is the file; ``key`` is the dotted key path, such as
    ``participants[2].id``.
    """

    exit_code = 2
    code = "config_error"

    def __init__(self, path: str, key: str, problem: str) -> None:
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {problem}", file=path, key=key)
        self.path = path
        self.key = key
        self.problem = problem


class InputError(GatewayError):
    """A submitted document is unacceptable before validation even starts."""

    http_status = 400
    ebms_code = "EBMS:0004"
    code = "bad_request"


class NotXml(InputError):
    code = "not_xml"


class UnsupportedMediaType(InputError):
    http_status = 415
    code = "unsupported_media_type"


class HostileXml(InputError):
    """DOCTYPE, entities, excessive depth or size: refused before parsing further."""

    code = "hostile_xml"


class UnknownDocument(InputError):
    """Well-formed XML but not a UBL 2.1 Invoice or CreditNote."""

    code = "unknown_document"


class PayloadTooLarge(InputError):
    http_status = 413
    code = "payload_too_large"


class Unauthorized(GatewayError):
    http_status = 401
    ebms_code = "EBMS:0101"
    code = "unauthorized"


class Forbidden(GatewayError):
    http_status = 403
    ebms_code = "EBMS:0101"
    code = "forbidden"


class StateConflict(GatewayError):
    """The document is not in a state that allows this (an ack before
    delivery, a retry of a document that did not fail)."""

    http_status = 409
    code = "state_conflict"


class NotFound(GatewayError):
    http_status = 404
    code = "not_found"


class IdempotencyConflict(GatewayError):
    """The same Idempotency-Key was reused with a different body."""

    http_status = 422
    code = "idempotency_conflict"


class NotServiced(GatewayError):
    """The recipient or document type is not served here."""

    http_status = 404
    ebms_code = "PEPPOL:NOT_SERVICED"
    code = "not_serviced"


class TransportError(GatewayError):
    """A delivery attempt to a peer failed.

    ``permanent`` says whether retrying can help: a refused document will be
    refused again, a timeout may not happen twice. ``from_peer`` says the
    peer itself refused (a signed error); any other failure arose here or on
    the way, and its reason must not blame the recipient's network.
    """

    code = "transport_error"

    def __init__(
        self, message: str, *, permanent: bool = False, from_peer: bool = False, **details: Any
    ) -> None:
        super().__init__(message, **details)
        self.permanent = permanent
        self.from_peer = from_peer


class SecurityError(GatewayError):
    """A signature, digest or certificate check failed."""

    http_status = 403
    ebms_code = "EBMS:0101"
    code = "security_error"


class StoreError(GatewayError):
    http_status = 503
    code = "store_unavailable"


class TooManyRequests(GatewayError):
    """Too many failed authentications from this address or with this token."""

    http_status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after_seconds=retry_after)
        self.retry_after = retry_after


class ValidationUnavailable(GatewayError):
    """The validation processes could not check a document (one died twice)."""

    http_status = 503
    code = "validation_unavailable"
