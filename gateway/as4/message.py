"""The ebMS 3 UserMessage of the Peppol AS4 profile, and the SOAP 1.2
envelope around it.

Peppol AS4 2.0.3 §5 (and CEF eDelivery AS4 1.14 §2.2.3): PartyId of type
``urn:fdc:peppol.eu:2017:identifiers:ap`` with the default ebMS initiator
and responder roles, AgreementRef ``urn:fdc:peppol.eu:2017:agreements:tia:
ap_provider``, Service = process id with type ``cenbii-procid-ubl``, Action =
``busdox-docid-qns::`` + document type id, MessageProperties
``originalSender`` and ``finalRecipient`` (type ``iso6523-actorid-upis``),
one payload part with MimeType and CompressionType part properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from gateway.as4 import ns
from gateway.as4.errors import FeatureNotSupported, InvalidHeader, PModeMismatch
from gateway.as4.ns import EB, S12, q, sub

ID_MESSAGING = "id-messaging"
ID_BODY = "id-body"


@dataclass(frozen=True, slots=True)
class PartInfo:
    href: str  # "cid:..."
    properties: dict[str, str] = field(default_factory=dict)  # MimeType, CompressionType...

    @property
    def compressed(self) -> bool:
        return self.properties.get("CompressionType", "").lower() == ns.GZIP


@dataclass(frozen=True, slots=True)
class UserMessage:
    message_id: str
    timestamp: datetime
    conversation_id: str
    from_party: str  # access point ids (the CN of their certificates)
    to_party: str
    process: str  # eb:Service value
    document_type: str  # eb:Action without its "busdox-docid-qns::" scheme
    original_sender: str  # participant ids, e.g. "0088:7300010000001"
    final_recipient: str
    parts: tuple[PartInfo, ...] = ()
    action_scheme: str = ns.DOCTYPE_SCHEME

    @property
    def action(self) -> str:
        return f"{self.action_scheme}::{self.document_type}"


# --- building --------------------------------------------------------------


def envelope() -> tuple[etree._Element, etree._Element, etree._Element, etree._Element]:
    """An empty SOAP 1.2 envelope: (envelope, header, wsse:Security, body).
    The Body is empty, as AS4 carries payloads as attachments (SwA)."""
    root = etree.Element(q(S12, "Envelope"), nsmap=ns.NSMAP)
    header = sub(root, S12, "Header")
    security = sub(header, ns.WSSE, "Security")
    security.set(q(S12, "mustUnderstand"), "true")
    body = sub(root, S12, "Body")
    body.set(ns.WSU_ID, ID_BODY)
    return root, header, security, body


def messaging(header: etree._Element) -> etree._Element:
    el = sub(header, EB, "Messaging")
    el.set(q(S12, "mustUnderstand"), "true")
    el.set(ns.WSU_ID, ID_MESSAGING)
    return el


def add_user_message(parent: etree._Element, m: UserMessage) -> etree._Element:
    um = sub(parent, EB, "UserMessage")
    info = sub(um, EB, "MessageInfo")
    sub(info, EB, "Timestamp", timestamp(m.timestamp))
    sub(info, EB, "MessageId", m.message_id)
    parties = sub(um, EB, "PartyInfo")
    for side, party, role in (
        ("From", m.from_party, ns.ROLE_INITIATOR),
        ("To", m.to_party, ns.ROLE_RESPONDER),
    ):
        el = sub(parties, EB, side)
        sub(el, EB, "PartyId", party).set("type", ns.AP_PARTY_TYPE)
        sub(el, EB, "Role", role)
    collab = sub(um, EB, "CollaborationInfo")
    sub(collab, EB, "AgreementRef", ns.AGREEMENT)
    sub(collab, EB, "Service", m.process).set("type", ns.SERVICE_TYPE)
    sub(collab, EB, "Action", m.action)
    sub(collab, EB, "ConversationId", m.conversation_id)
    props = sub(um, EB, "MessageProperties")
    for name, value in (
        (ns.ORIGINAL_SENDER, m.original_sender),
        (ns.FINAL_RECIPIENT, m.final_recipient),
    ):
        prop = sub(props, EB, "Property", value)
        prop.set("name", name)
        prop.set("type", ns.PARTICIPANT_SCHEME)
    payloads = sub(um, EB, "PayloadInfo")
    for part in m.parts:
        el = sub(payloads, EB, "PartInfo")
        el.set("href", part.href)
        part_props = sub(el, EB, "PartProperties")
        for name, value in part.properties.items():
            sub(part_props, EB, "Property", value).set("name", name)
    return um


def timestamp(t: datetime) -> str:
    """xs:dateTime in UTC with milliseconds, as ebMS 3 Core §5.2.2.1 asks."""
    if t.tzinfo is None:
        raise ValueError("times on the wire must be timezone-aware")
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- reading ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Envelope:
    root: etree._Element
    header: etree._Element
    body: etree._Element
    messaging: etree._Element
    security: etree._Element | None


def read_envelope(root: etree._Element) -> Envelope:
    """The parts of a SOAP 1.2 envelope AS4 needs. Raises InvalidHeader."""
    if root.tag != q(S12, "Envelope"):
        raise InvalidHeader(f"the root element is {root.tag!r}, not a SOAP 1.2 Envelope")
    header = _exactly_one(root, S12, "Header")
    body = _exactly_one(root, S12, "Body")
    return Envelope(
        root=root,
        header=header,
        body=body,
        messaging=_exactly_one(header, EB, "Messaging"),
        security=_security_header(header),
    )


def _security_header(header: etree._Element) -> etree._Element | None:
    # Only a header for the default (ultimate receiver) role concerns us.
    ours = [
        s
        for s in ns.children(header, ns.WSSE, "Security")
        if s.get(q(S12, "role"))
        in (None, "", "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver")
    ]
    if len(ours) > 1:
        raise InvalidHeader("more than one wsse:Security header for this receiver")
    return ours[0] if ours else None


def peek_message_id(messaging: etree._Element) -> str:
    """The MessageId of a UserMessage, or "" (used to address an error)."""
    return (
        messaging.findtext(f"{q(EB, 'UserMessage')}/{q(EB, 'MessageInfo')}/{q(EB, 'MessageId')}")
        or ""
    ).strip()


def read_user_message(messaging: etree._Element) -> UserMessage:
    """The one UserMessage of ``messaging``, checked against the Peppol profile."""
    if ns.children(messaging, EB, "SignalMessage"):
        raise FeatureNotSupported("signals bundled with a user message are not supported")
    um = _exactly_one(messaging, EB, "UserMessage")
    info = _exactly_one(um, EB, "MessageInfo")
    message_id = ns.text(info.find(q(EB, "MessageId")))
    if not message_id:
        raise InvalidHeader("the UserMessage has no MessageId")
    collab = _exactly_one(um, EB, "CollaborationInfo")
    _expect(ns.text(collab.find(q(EB, "AgreementRef"))), ns.AGREEMENT, "AgreementRef")
    service = _exactly_one(collab, EB, "Service")
    _expect(service.get("type", ""), ns.SERVICE_TYPE, "Service/@type")
    scheme, _, document_type = ns.text(collab.find(q(EB, "Action"))).partition("::")
    if not document_type:
        raise PModeMismatch("eb:Action is not a document type id (scheme::value)")
    props = _properties(um.find(q(EB, "MessageProperties")))
    return UserMessage(
        message_id=message_id,
        timestamp=parse_time(ns.text(info.find(q(EB, "Timestamp")))),
        conversation_id=ns.text(collab.find(q(EB, "ConversationId"))),
        from_party=_party(um, "From", ns.ROLE_INITIATOR),
        to_party=_party(um, "To", ns.ROLE_RESPONDER),
        process=ns.text(service),
        document_type=document_type,
        original_sender=_participant(props, ns.ORIGINAL_SENDER),
        final_recipient=_participant(props, ns.FINAL_RECIPIENT),
        parts=_parts(um),
        action_scheme=scheme,
    )


def _party(um: etree._Element, side: str, role: str) -> str:
    el = um.find(f"{q(EB, 'PartyInfo')}/{q(EB, side)}")
    if el is None:
        raise InvalidHeader(f"the UserMessage has no PartyInfo/{side}")
    ids = ns.children(el, EB, "PartyId")
    if len(ids) != 1 or not ns.text(ids[0]):
        raise PModeMismatch(f"PartyInfo/{side} must have exactly one PartyId")
    _expect(ids[0].get("type", ""), ns.AP_PARTY_TYPE, f"{side}/PartyId/@type")
    _expect(ns.text(el.find(q(EB, "Role"))), role, f"{side}/Role")
    return ns.text(ids[0])


def _properties(el: etree._Element | None) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for prop in [] if el is None else ns.children(el, EB, "Property"):
        name = prop.get("name", "")
        if name in out:
            raise PModeMismatch(f"message property {name!r} appears twice")
        out[name] = (ns.text(prop), prop.get("type", ""))
    return out


def _participant(props: dict[str, tuple[str, str]], name: str) -> str:
    value, kind = props.get(name, ("", ""))
    if not value:
        raise PModeMismatch(f"the message property {name} is missing")
    _expect(kind, ns.PARTICIPANT_SCHEME, f"{name}/@type")
    return value


def _parts(um: etree._Element) -> tuple[PartInfo, ...]:
    parts = []
    for el in um.iterfind(f"{q(EB, 'PayloadInfo')}/{q(EB, 'PartInfo')}"):
        href = el.get("href", "")
        props = {
            p.get("name", ""): ns.text(p)
            for p in el.iterfind(f"{q(EB, 'PartProperties')}/{q(EB, 'Property')}")
        }
        parts.append(PartInfo(href, props))
    # Peppol AS4 2.0.3 §5: exactly one payload, the envelope, as an attachment.
    if len(parts) != 1 or not parts[0].href.lower().startswith("cid:"):
        raise PModeMismatch("a Peppol UserMessage carries exactly one attachment payload")
    return tuple(parts)


def _exactly_one(parent: etree._Element, namespace: str, local: str) -> etree._Element:
    found = ns.children(parent, namespace, local)
    if len(found) != 1:
        raise InvalidHeader(f"expected one {local}, found {len(found)}")
    return found[0]


def _expect(value: str, expected: str, what: str) -> None:
    if value != expected:
        raise PModeMismatch(f"{what} is {value!r}, the Peppol profile requires {expected!r}")


def parse_time(value: str) -> datetime:
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidHeader(f"eb:Timestamp is not a date and time: {value!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)
