"""What tests build: documents, settings, keys and certificates, AS4
messages, revocation responders and in-process gateways.

Import from here (``from tests.builders import invoice, make_pki``); the
modules group them by subject. Processes and HTTP on free ports are
``tests.support``'s; hostile XML is ``tests.validation.docs``'.
"""

from .as4 import (
    DOCTYPE,
    PROCESS,
    MemoryReceiver,
    envelope,
    outbound_message,
    read,
    request,
    serve,
    user_message,
)
from .gateways import Api, serve_api
from .invoices import (
    BUYER,
    SELLER,
    STRANGER,
    as_foreign_consumer,
    attach,
    big_invoice,
    credit_note,
    document,
    invoice,
    with_attachment,
)
from .parcels import parcel_of
from .pki import (
    ALPHA,
    BETA,
    FIXED_NOW,
    NOW,
    Pki,
    make_pki,
    peer_certificate,
    server_certificate,
    write_pki,
)
from .revocation import Responder, build_crl, build_ocsp, dead_url, issue_certificate
from .settings import (
    NetworkConfig,
    network_config,
    peer_toml,
    set_delivery,
    set_participant,
    settings,
)
from .smtp import Mailbox, Received, parcel, smtp_server

__all__ = [
    "ALPHA",
    "BETA",
    "BUYER",
    "DOCTYPE",
    "FIXED_NOW",
    "NOW",
    "PROCESS",
    "SELLER",
    "STRANGER",
    "Api",
    "Mailbox",
    "MemoryReceiver",
    "NetworkConfig",
    "Pki",
    "Received",
    "Responder",
    "as_foreign_consumer",
    "attach",
    "big_invoice",
    "build_crl",
    "build_ocsp",
    "credit_note",
    "dead_url",
    "document",
    "envelope",
    "invoice",
    "issue_certificate",
    "make_pki",
    "network_config",
    "outbound_message",
    "parcel",
    "parcel_of",
    "peer_certificate",
    "peer_toml",
    "read",
    "request",
    "serve",
    "serve_api",
    "server_certificate",
    "set_delivery",
    "set_participant",
    "settings",
    "smtp_server",
    "user_message",
    "with_attachment",
    "write_pki",
]
