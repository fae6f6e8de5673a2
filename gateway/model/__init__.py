"""The shared vocabulary: frozen values that every layer passes around.

Nothing here does I/O. Times are timezone-aware UTC datetimes passed in by
the caller, so the core stays deterministic under test. The values live in
small modules by subject; this package names them all, so a caller writes
``from gateway.model import ParticipantId, Partner``.
"""

from gateway.model.agreements import (
    DIRECTIONS,
    PAYERS,
    Agreement,
    Due,
    Exchange,
    ExchangeCount,
    Fees,
    Mandate,
)
from gateway.model.documents import (
    AcceptResult,
    Direction,
    DocumentMeta,
    OutboxJob,
    RouteDecision,
    RouteKind,
    State,
    StatusEvent,
    status_view,
)
from gateway.model.ids import (
    BIS3_CUSTOMIZATION,
    BIS3_DOCUMENT_TYPES,
    BIS3_PROCESS,
    DOCTYPE_SCHEME,
    PARTICIPANT_SCHEME,
    PROCESS_SCHEME,
    UBL_CREDITNOTE_NS,
    UBL_INVOICE_NS,
    DocumentKind,
    InvalidIdentifier,
    ParticipantId,
    document_type_id,
)
from gateway.model.partners import (
    DEFAULT_DOCUMENT_TYPES,
    RECEPTION_SEPARATOR,
    RECEPTIONS,
    Partner,
    reception_modes,
)
from gateway.model.recipients import (
    LISTING_LIMIT,
    LISTING_MAX,
    Cursor,
    Listed,
    ListingPage,
    ListingQuery,
    RecipientAccount,
)

__all__ = [
    "BIS3_CUSTOMIZATION",
    "BIS3_DOCUMENT_TYPES",
    "BIS3_PROCESS",
    "DEFAULT_DOCUMENT_TYPES",
    "DIRECTIONS",
    "DOCTYPE_SCHEME",
    "LISTING_LIMIT",
    "LISTING_MAX",
    "PARTICIPANT_SCHEME",
    "PAYERS",
    "PROCESS_SCHEME",
    "RECEPTIONS",
    "RECEPTION_SEPARATOR",
    "UBL_CREDITNOTE_NS",
    "UBL_INVOICE_NS",
    "AcceptResult",
    "Agreement",
    "Cursor",
    "Direction",
    "DocumentKind",
    "DocumentMeta",
    "Due",
    "Exchange",
    "ExchangeCount",
    "Fees",
    "InvalidIdentifier",
    "Listed",
    "ListingPage",
    "ListingQuery",
    "Mandate",
    "OutboxJob",
    "ParticipantId",
    "Partner",
    "RecipientAccount",
    "RouteDecision",
    "RouteKind",
    "State",
    "StatusEvent",
    "document_type_id",
    "reception_modes",
    "status_view",
]
