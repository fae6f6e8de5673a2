"""Does the envelope tell the same story as the document it carries?

A peer's message names its parties, document type and process twice: in the
envelope (ebMS properties and SBDH, which ``gateway.as4.inbound`` already
holds to each other) and in the UBL document. Access points route on the
envelope and receivers book the document, so a mismatch would deliver an
invoice to someone other than the party the sender addressed. Peppol
requires them to agree: BIS Billing 3.0 "Enveloping compliance" rules
BR-SBDH-1 (SBDH Receiver/Identifier = the buyer's cbc:EndpointID with its
schemeID) and BR-SBDH-2 (Sender/Identifier = the seller's), both fatal; the
DOCUMENTID scope is the document type id of the root element and
CustomizationID, and PROCESSID the ProfileID (Peppol Envelope 2.0, the
BusinessScope scopes).

Participant values compare case-insensitively, the scheme exactly; document
type and process ids compare exactly (Peppol Policy for use of Identifiers
4.x, POLICY 2). Self-billing (BR-SBDH-3/4, roles swapped) is not a document
type this gateway serves, so it is held to the billing rules and refused.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import GatewayError
from gateway.model import InvalidIdentifier, ParticipantId
from gateway.validation.facts import DocumentFacts


class EnvelopeMismatch(GatewayError):
    """The envelope and the document disagree (ebMS EBMS:0004, HTTP 400).

    EBMS:0004 ("Other", category Content) because the Peppol AS4 profile
    (2.0.3) defines no code of its own for a payload that contradicts
    its envelope; its only addition is the errorDetail PEPPOL:NOT_SERVICED
    of EBMS:0004, which would wrongly tell the sender the recipient is not
    ours. Resending the same message cannot help: a 4xx status makes the
    error permanent for our own senders (see as4.errors.error_info).
    """

    http_status = 400
    ebms_code = "EBMS:0004"
    code = "envelope_mismatch"


@dataclass(frozen=True, slots=True)
class Mismatch:
    field: str  # what disagrees, named as a Peppol reader would look for it
    envelope: str  # the envelope's value
    document: str  # the document's value ("(none)" when it has none)

    def describe(self) -> str:
        return f"{self.field}: envelope {self.envelope!r}, document {self.document!r}"


def envelope_mismatches(
    *, sender: str, receiver: str, document_type: str, process: str, facts: DocumentFacts
) -> list[Mismatch]:
    """Every disagreement between the envelope's values and the document's facts."""
    out: list[Mismatch] = []
    if not _same_participant(receiver, facts.buyer):
        out.append(
            Mismatch("SBDH Receiver vs buyer EndpointID (BR-SBDH-1)", receiver, _pid(facts.buyer))
        )
    if not _same_participant(sender, facts.seller):
        out.append(
            Mismatch("SBDH Sender vs seller EndpointID (BR-SBDH-2)", sender, _pid(facts.seller))
        )
    if document_type != facts.document_type:
        out.append(
            Mismatch(
                "SBDH DOCUMENTID vs root element and CustomizationID",
                document_type,
                facts.document_type or "(none)",
            )
        )
    if process != facts.process:
        out.append(Mismatch("SBDH PROCESSID vs ProfileID", process, facts.process or "(none)"))
    return out


def refusal(mismatches: list[Mismatch]) -> EnvelopeMismatch:
    """The error answering ``mismatches``: identifiers only, never the payload."""
    text = "; ".join(m.describe() for m in mismatches)
    return EnvelopeMismatch(
        f"the envelope does not match the document: {text}",
        fields=[m.field for m in mismatches],
    )


def _same_participant(envelope: str, document: ParticipantId | None) -> bool:
    if document is None:
        return False
    try:
        return ParticipantId.parse(envelope) == document
    except InvalidIdentifier:
        return False


def _pid(pid: ParticipantId | None) -> str:
    return str(pid) if pid is not None else "(none)"
