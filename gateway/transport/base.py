"""The transport seam between networks: the values and the two sides that
``service`` sees, whatever carries the documents (today the Peppol AS4 profile,
``as4_client`` and ``as4_server``):

* sending: ``Transport.send(peer, message) -> Receipt`` (raises TransportError);
* receiving: the server adapter turns a request into an ``InboundMessage``,
  hands it to a ``Receiver`` and answers with a signed receipt or error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gateway.config.settings import Peer, Settings


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    message_id: str  # stable across retries of the same delivery
    document_id: str
    sender: str  # participant id, e.g. "0088:7300010000001"
    recipient: str
    document_type: str
    process: str
    payload: bytes
    # When the delivery was first made, stored with the document: every retry
    # signs the same content, so a receiver's original receipt still fits.
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the receiving network signed to acknowledge a message."""

    message_id: str  # the message it acknowledges
    receipt_id: str
    received_at: datetime
    payload_sha256: str
    raw: bytes  # the signed receipt as received: kept as evidence


@dataclass(frozen=True, slots=True)
class InboundMessage:
    message_id: str
    peer: str  # name of the peer network (from our config) that sent it
    sender: str
    recipient: str
    document_type: str
    process: str
    payload: bytes
    instance_id: str = ""  # the SBDH InstanceIdentifier: the end-to-end duplicate key


@dataclass(frozen=True, slots=True)
class ReceiveOutcome:
    document_id: str
    duplicate: bool  # True: already received; ``receipt`` is the one sent the first time
    receipt: bytes | None = None
    first_message_id: str = ""  # duplicates: the message id the document first came with


class Transport(Protocol):
    async def send(self, peer: Peer, message: OutboundMessage) -> Receipt: ...

    async def close(self) -> None: ...


class Receiver(Protocol):
    # The settings in force: read per request, so a configuration reload
    # (new peers, new limits) applies to the exchange endpoint at once.
    settings: Settings

    async def receive(self, message: InboundMessage) -> ReceiveOutcome:
        """Validate and store an inbound document (raises GatewayError to refuse)."""

    async def keep_receipt(self, document_id: str, receipt: bytes) -> None:
        """Store the receipt we answered with, to answer a duplicate identically."""
