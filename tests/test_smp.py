"""SMP publication and lookup: the pure documents, our SMP routes, and the
client against them over real loopback HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from gateway.config.settings import Peer
from gateway.directory import smp, smp_names
from gateway.directory.smp import Found, LookupFailed, NotRegistered
from gateway.errors import HostileXml, SecurityError
from gateway.model import (
    BIS3_CUSTOMIZATION,
    BIS3_PROCESS,
    DocumentKind,
    InvalidIdentifier,
    ParticipantId,
    document_type_id,
)
from gateway.pki.certificates import (
    DevPki,
    KeyPair,
    check_peer_certificate,
    generate_key,
    issue_ap_certificate,
    write_dev_pki,
)
from gateway.transport.credentials import load_identity
from gateway.transport.smp_client import SmpClient, in_service, smp_base
from gateway.transport.smp_server import smp_routes
from tests.builders import ALPHA, BETA, Pki, settings
from tests.builders import FIXED_NOW as NOW

INVOICE = document_type_id(DocumentKind.INVOICE, BIS3_CUSTOMIZATION)
CREDIT_NOTE = document_type_id(DocumentKind.CREDIT_NOTE, BIS3_CUSTOMIZATION)
BUYER = ParticipantId.parse("0088:7300010000001")
STRANGER = ParticipantId.parse("0088:7300010000099")
BETA_BASE = "https://ap.beta.example"


@pytest.fixture(scope="module")
def ca(fixed_pki: Pki) -> KeyPair:
    return fixed_pki.ca


@pytest.fixture(scope="module")
def rogue_ca(fixed_pki: Pki) -> KeyPair:
    """Same name as the real CA: only its signature tells it apart."""
    return fixed_pki.rogue_ca


def _pki(tmp: Path, name: str, ap_id: str, ca: KeyPair) -> DevPki:
    return write_dev_pki(tmp / name, ap_id, now=NOW - timedelta(days=1), ca=ca)


def _metadata(pair: KeyPair, *, url: str = f"{BETA_BASE}/as4", ap: KeyPair | None = None) -> bytes:
    key, cert = pair
    return smp.signed_service_metadata_xml(
        BUYER, INVOICE, BIS3_PROCESS, url, (ap or pair)[1], key, cert,
        NOW - timedelta(days=1), NOW + timedelta(days=30), NOW,
    )  # fmt: skip


def _trusting(ca: KeyPair, cn: str = BETA) -> Callable[[Any], None]:
    return lambda cert: check_peer_certificate(
        cert, pinned=None, cas=[ca[1]], expected_cn=cn, now=NOW
    )


# --- SML names --------------------------------------------------------------

ACC_ZONE = "acc.edelivery.tech.ec.europa.eu"


@pytest.mark.parametrize(
    ("value", "label"),
    [
        # Policy for use of Identifiers, POLICY 7 example (either case).
        ("0088:123abc", "y7dzfxaf3d4cjz4kcgrxtec6twvcga4ky7zwa5boif6mswd4tdrq"),
        ("0088:123ABC", "y7dzfxaf3d4cjz4kcgrxtec6twvcga4ky7zwa5boif6mswd4tdrq"),
        # The Peppol SML specification's example.
        ("0010:5798000000001", "xukhfqabqziki3ykvr2fhr4snfa3pf5vpq6k4tonv3lmvsy5arvq"),
        ("0088:1234567890123", "sjsyvccmqyjxk3weuapffq4x3umcrf4qryherj4vovhmonh7gccq"),
        ("9915:test", "eh5boavaktmbgzyh2a63dz4qov33fvp5nsdvqklucfraayoodw6a"),
    ],
)
def test_sml_names_match_the_published_examples(value: str, label: str) -> None:
    """SML DNS names of participant ids match the Peppol policy and SML specification examples,
    in either case."""
    name = smp_names.sml_name(ParticipantId.parse(value), ACC_ZONE)
    assert name == f"{label}.iso6523-actorid-upis.{ACC_ZONE}"


def test_sml_name_takes_the_peppol_zone_without_padding_or_trailing_dot() -> None:
    """An SML name in the production zone is a 52-character lower-case label without padding, and
    a trailing dot on the zone is dropped."""
    name = smp_names.sml_name(BUYER, smp_names.SML_ZONE_PRODUCTION + ".")
    label, rest = name.split(".", 1)
    assert rest == "iso6523-actorid-upis.participant.sml.prod.tech.peppol.org"
    assert len(label) == 52 and "=" not in label and label == label.lower()


# --- identifiers in URLs ----------------------------------------------------


@pytest.mark.parametrize(
    "segment",
    [
        "iso6523-actorid-upis::0088:7300010000001",
        "iso6523-actorid-upis%3A%3A0088:7300010000001",
        "iso6523-actorid-upis%3A%3A0088%3A7300010000001",
        "iso6523-actorid-upis%3a%3a0088%3a7300010000001",
        "ISO6523-ACTORID-UPIS::0088:7300010000001",
        "iso6523-actorid-upis%253A%253A0088%253A7300010000001",
        "0088:7300010000001",
        *smp_names.participant_path_forms(BUYER),
    ],
)
def test_every_participant_spelling_parses(segment: str) -> None:
    """Every spelling of a participant id in an SMP URL (scheme or not, percent-encoded once or
    twice, upper case) parses to the same participant."""
    assert smp_names.parse_participant_segment(segment) == BUYER


def test_participant_values_are_case_insensitive() -> None:
    """A participant value in upper case parses to the same id as in lower case."""
    upper = smp_names.parse_participant_segment("ISO6523-ACTORID-UPIS%3A%3A0088%3AABC")
    assert upper == ParticipantId.parse("0088:abc")


@pytest.mark.parametrize("segment", smp_names.doctype_path_forms(INVOICE))
def test_every_doctype_spelling_parses(segment: str) -> None:
    """Every URL spelling of a document type id parses to the same id."""
    assert smp_names.parse_doctype_segment(segment) == INVOICE


def test_doctype_values_keep_their_case() -> None:
    """Document type values keep their case (only %23 is decoded), so upper and lower case
    differ."""
    assert smp_names.parse_doctype_segment("busdox-docid-qns::urn:X%23%23Y") == "urn:X##Y"
    assert smp_names.parse_doctype_segment("BUSDOX-DOCID-QNS::urn:X##Y") != "urn:x##y"


@pytest.mark.parametrize(
    "segment", ["other-scheme::0088:1", "iso6523-actorid-upis::88:1", "iso6523-actorid-upis::"]
)
def test_bad_participant_segments_are_refused(segment: str) -> None:
    """A participant segment with another scheme, a bad ICD or no value is refused as an invalid
    identifier."""
    with pytest.raises(InvalidIdentifier):
        smp_names.parse_participant_segment(segment)


@pytest.mark.parametrize("segment", ["busdox-docid-qns::", "other::urn:x", "urn:x"])
def test_bad_doctype_segments_are_refused(segment: str) -> None:
    """A document type segment with no value or another scheme is refused as an invalid
    identifier."""
    with pytest.raises(InvalidIdentifier):
        smp_names.parse_doctype_segment(segment)


# --- documents --------------------------------------------------------------


def test_service_group_round_trip() -> None:
    """A service group lists the participant's document types, with hrefs percent-encoded, and
    reads back the same."""
    xml = smp.service_group_xml(BUYER, [INVOICE, CREDIT_NOTE], f"{BETA_BASE}/smp")
    assert smp.parse_service_group(xml) == [INVOICE, CREDIT_NOTE]
    assert b"iso6523-actorid-upis%3A%3A0088%3A7300010000001/services/" in xml
    assert b"%23%23" in xml and b"##urn" not in xml.split(b"href")[1]


def test_signed_metadata_round_trip(tmp_path: Path, ca: KeyPair) -> None:
    """Signed service metadata reads back as the same endpoint: participant, type, process, URL,
    certificate and dates."""
    beta = _pki(tmp_path, "beta", BETA, ca)
    pair = load_identity(settings(tmp_path, "beta", BETA, beta, base_url=BETA_BASE).network)
    ep = smp.parse_signed_service_metadata(_metadata(pair), trust=_trusting(ca))
    assert ep == smp.Endpoint(
        participant=BUYER,
        document_type=INVOICE,
        process=BIS3_PROCESS,
        transport_profile=smp.AS4_PROFILE,
        url=f"{BETA_BASE}/as4",
        certificate=pair[1],
        activation=NOW - timedelta(days=1),
        expiration=NOW + timedelta(days=30),
    )


@pytest.fixture(scope="module")
def beta_pair(fixed_pki: Pki) -> KeyPair:
    return fixed_pki.beta


def test_a_changed_endpoint_url_breaks_the_signature(ca: KeyPair, beta_pair: KeyPair) -> None:
    """Signed metadata whose endpoint URL was changed is refused with a digest mismatch."""
    forged = _metadata(beta_pair).replace(b"https://ap.beta.example/as4", b"https://evil/as4")
    with pytest.raises(SecurityError, match="Digest mismatch"):
        smp.parse_signed_service_metadata(forged, trust=_trusting(ca))


def test_a_changed_certificate_breaks_the_signature(ca: KeyPair, beta_pair: KeyPair) -> None:
    """Signed metadata whose endpoint certificate was swapped is refused as a security error."""
    other = issue_ap_certificate(ca, BETA, now=NOW - timedelta(days=1), days=365)
    good, swapped = _metadata(beta_pair), _metadata(beta_pair, ap=other)
    forged = good.replace(_ap_certificate_text(good), _ap_certificate_text(swapped))
    assert forged != good
    with pytest.raises(SecurityError):
        smp.parse_signed_service_metadata(forged, trust=_trusting(ca))


def _ap_certificate_text(xml: bytes) -> bytes:
    return xml.split(b"<smp:Certificate>")[1].split(b"<")[0]


def test_a_signer_from_an_untrusted_ca_is_refused(ca: KeyPair, rogue_ca: KeyPair) -> None:
    """Metadata signed by a certificate from a look-alike CA is refused as not issued by a
    trusted CA."""
    rogue = issue_ap_certificate(rogue_ca, BETA, now=NOW - timedelta(days=1), days=365)
    with pytest.raises(SecurityError, match="not issued by a trusted CA"):
        smp.parse_signed_service_metadata(_metadata(rogue), trust=_trusting(ca))


def test_a_signature_by_another_key_is_refused(ca: KeyPair, beta_pair: KeyPair) -> None:
    """Metadata carrying a trusted certificate but signed with another key is refused."""
    # A trusted certificate in KeyInfo, but the signature made with some other key.
    forged = _metadata((generate_key(), beta_pair[1]))
    with pytest.raises(SecurityError, match=r"[Ss]ignature"):
        smp.parse_signed_service_metadata(forged, trust=_trusting(ca))


def test_unsigned_and_hostile_answers_are_refused(ca: KeyPair, beta_pair: KeyPair) -> None:
    """Unsigned metadata is refused for lacking a signing certificate, and metadata with an
    entity declaration is refused as hostile XML."""
    signed = _metadata(beta_pair)
    unsigned = signed[: signed.index(b"<ds:Signature")] + b"</smp:SignedServiceMetadata>"
    with pytest.raises(SecurityError, match="one signing certificate"):
        smp.parse_signed_service_metadata(unsigned, trust=_trusting(ca))
    hostile = b'<!DOCTYPE x [<!ENTITY e "e">]>' + signed.split(b"?>", 1)[1]
    with pytest.raises(HostileXml):
        smp.parse_signed_service_metadata(hostile, trust=_trusting(ca))


def test_metadata_without_the_wanted_process_is_no_service(ca: KeyPair, beta_pair: KeyPair) -> None:
    """Metadata for another process than the one asked for is "no service"."""
    with pytest.raises(smp.NoService, match="not for process"):
        smp.parse_signed_service_metadata(
            _metadata(beta_pair), trust=_trusting(ca), process="urn:other:process"
        )


def test_endpoint_dates_are_judged_at_lookup_time(beta_pair: KeyPair) -> None:
    """An endpoint is a failed lookup before its activation, found during it, and not registered
    from its expiration on."""
    ep = smp.Endpoint(BUYER, INVOICE, BIS3_PROCESS, smp.AS4_PROFILE, "https://x", beta_pair[1],
                      NOW, NOW + timedelta(days=1))  # fmt: skip
    assert isinstance(in_service(Found(ep), NOW - timedelta(seconds=1)), LookupFailed)
    assert in_service(Found(ep), NOW) == Found(ep)
    assert isinstance(in_service(Found(ep), NOW + timedelta(days=1)), NotRegistered)


def test_smp_base_replaces_the_endpoint_path() -> None:
    """A peer's SMP base URL is its endpoint's scheme, host and port with path /smp."""
    peer = Peer("beta", BETA, "https://ap.beta.example:8443/as4?x=1", None, ())
    assert smp_base(peer) == "https://ap.beta.example:8443/smp"


# --- server and client over loopback ----------------------------------------


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class MemoryCache:
    """The test's own double of the store's TTL cache."""

    clock: Clock
    entries: dict[str, tuple[datetime, bytes]] = field(default_factory=dict)

    async def cache_put(self, key: str, value: bytes, ttl_seconds: int, *, now: datetime) -> None:
        self.entries[key] = (now + timedelta(seconds=ttl_seconds), value)

    async def cache_get(self, key: str, *, now: datetime) -> bytes | None:
        kept = self.entries.get(key)
        return kept[1] if kept and kept[0] > now else None


@dataclass
class Net:
    """Network alpha's SmpClient, and network beta's SMP on a loopback port."""

    client: SmpClient
    peer: Peer
    clock: Clock
    cache: MemoryCache
    asked: list[ParticipantId]
    beta_pair: KeyPair  # the key and certificate beta signs with
    serve: Callable[[list[web.RouteDef]], Awaitable[Peer]]


async def _start(routes: list[web.RouteDef], runners: list[web.AppRunner]) -> int:
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    runners.append(runner)
    return int(runner.addresses[0][1])


@pytest.fixture
async def net(tmp_path: Path, ca: KeyPair) -> AsyncIterator[Net]:
    runners: list[web.AppRunner] = []
    clock = Clock()
    beta_pki = _pki(tmp_path, "beta", BETA, ca)
    beta = settings(tmp_path, "beta", BETA, beta_pki, base_url=BETA_BASE)
    asked: list[ParticipantId] = []

    async def directory(pid: ParticipantId) -> tuple[str, ...] | None:
        asked.append(pid)
        return (INVOICE,) if pid == BUYER else None

    async def serve(routes: list[web.RouteDef]) -> Peer:
        port = await _start(routes, runners)
        return Peer("beta", BETA, f"http://127.0.0.1:{port}/as4", beta_pki.certificate, ())

    peer = await serve(smp_routes(beta, directory, clock=clock))
    alpha = settings(
        tmp_path, "alpha", ALPHA, _pki(tmp_path, "alpha", ALPHA, ca), base_url="http://a"
    )
    cache = MemoryCache(clock)
    client = SmpClient(alpha, timeout=0.5, clock=clock, cache=cache)
    yield Net(client, peer, clock, cache, asked, load_identity(beta.network), serve)
    await client.close()
    for r in runners:
        await r.cleanup()


async def _get(peer: Peer, path: str) -> tuple[int, bytes, str]:
    url = URL(smp_base(peer) + path, encoded=True)
    async with aiohttp.ClientSession() as s, s.get(url) as resp:
        return resp.status, await resp.read(), resp.headers.get("Cache-Control", "")


async def test_server_answers_every_participant_spelling(net: Net) -> None:
    """Our SMP answers every participant spelling with the service group and a max-age cache
    header."""
    for form in smp_names.participant_path_forms(BUYER):
        status, body, caching = await _get(net.peer, f"/{form}")
        assert status == 200, form
        assert smp.parse_service_group(body) == [INVOICE]
        assert "max-age" in caching


async def test_server_signs_for_every_doctype_spelling(net: Net, ca: KeyPair) -> None:
    """Our SMP answers every document type spelling with signed metadata for our AS4 endpoint."""
    pid = smp_names.participant_segment(BUYER)
    for form in smp_names.doctype_path_forms(INVOICE):
        status, body, _ = await _get(net.peer, f"/{pid}/services/{form}")
        assert status == 200, form
        ep = smp.parse_signed_service_metadata(body, trust=_trusting(ca))
        assert (ep.url, ep.participant, ep.document_type) == (f"{BETA_BASE}/as4", BUYER, INVOICE)


async def test_server_404s_and_400s(net: Net) -> None:
    """Our SMP answers 404 for an unknown participant or a type it does not receive, and 400 for
    a malformed id."""
    stranger, buyer = smp_names.participant_segment(STRANGER), smp_names.participant_segment(BUYER)
    invoice, credit_note = (smp_names.doctype_segment(t) for t in (INVOICE, CREDIT_NOTE))
    assert (await _get(net.peer, f"/{stranger}"))[0] == 404
    assert (await _get(net.peer, f"/{stranger}/services/{invoice}"))[0] == 404
    assert (await _get(net.peer, f"/{buyer}/services/{credit_note}"))[0] == 404
    assert (await _get(net.peer, "/not-an-id"))[0] == 400


async def test_server_signs_once_per_participant_and_doctype(
    net: Net, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our SMP signs a participant's metadata once and serves the same bytes again, signing
    afresh only once the memo has expired."""
    calls: list[str] = []
    real = smp.signed_service_metadata_xml

    def counting(*args: Any, **kwargs: Any) -> bytes:
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr("gateway.transport.smp_server.signed_service_metadata_xml", counting)
    path = f"/{smp_names.participant_segment(BUYER)}/services/{smp_names.doctype_segment(INVOICE)}"
    first, second = await _get(net.peer, path), await _get(net.peer, path)
    assert first == second and len(calls) == 1
    net.clock.now += timedelta(minutes=10)  # past the memo: signed afresh
    await _get(net.peer, path)
    assert len(calls) == 2


async def test_lookup_finds_the_peer_endpoint(net: Net) -> None:
    """A lookup in a peer's SMP finds its AS4 URL and the peer's own AP certificate."""
    result = await net.client.lookup(net.peer, BUYER, INVOICE)
    assert isinstance(result, Found)
    assert result.endpoint.url == f"{BETA_BASE}/as4"
    assert result.endpoint.certificate == net.beta_pair[1]  # beta's own AP certificate


async def test_unknown_participant_or_doctype_is_not_registered(net: Net) -> None:
    """A lookup of an unknown participant, or a type it does not receive, is "not registered"."""
    assert isinstance(await net.client.lookup(net.peer, STRANGER, INVOICE), NotRegistered)
    assert isinstance(await net.client.lookup(net.peer, BUYER, CREDIT_NOTE), NotRegistered)


async def test_a_dead_port_is_a_failed_lookup(net: Net) -> None:
    """A lookup at a closed port is a failed lookup ("cannot reach") and nothing is cached."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = Peer("beta", BETA, f"http://127.0.0.1:{port}/as4", None, ())
    result = await net.client.lookup(dead, BUYER, INVOICE)
    assert isinstance(result, LookupFailed) and "cannot reach" in result.reason
    assert net.cache.entries == {}  # a failure is never cached


async def test_timeout_500_and_bad_signature_are_failed_lookups(net: Net) -> None:
    """An SMP that times out, answers 500, or serves forged metadata gives a failed lookup saying
    which, and nothing is cached."""
    release = asyncio.Event()

    async def slow(_: web.Request) -> web.Response:
        await release.wait()
        return web.Response(status=500)

    async def broken(_: web.Request) -> web.Response:
        return web.Response(status=500, text="database on fire")

    async def forged(_: web.Request) -> web.Response:
        body = _metadata(net.beta_pair).replace(b"https://ap.beta.example/as4", b"https://evil/as4")
        return web.Response(body=body, content_type="application/xml")

    path = "/smp/{participant}/services/{doctype}"
    expected = {slow: "no answer within", broken: "HTTP 500", forged: "Digest mismatch"}
    try:
        for handler, reason in expected.items():
            peer = await net.serve([web.get(path, handler)])
            result = await net.client.lookup(peer, BUYER, INVOICE)
            assert isinstance(result, LookupFailed) and reason in result.reason, result
    finally:
        release.set()
    assert net.cache.entries == {}


async def test_a_peer_signing_as_someone_else_is_a_failed_lookup(net: Net) -> None:
    """A peer whose SMP signs with a certificate for another AP id than configured gives a failed
    lookup naming the expected id."""
    impostor = Peer("beta", "PSOMEONE", net.peer.endpoint, None, ())
    result = await net.client.lookup(impostor, BUYER, INVOICE)
    assert isinstance(result, LookupFailed) and "expected 'PSOMEONE'" in result.reason


async def test_answers_are_cached_until_their_ttl(net: Net) -> None:
    """Found and not-registered answers are served from the cache until their TTL; the shorter
    negative entry is asked again first."""
    found = await net.client.lookup(net.peer, BUYER, INVOICE)
    missing = await net.client.lookup(net.peer, STRANGER, INVOICE)
    asked = len(net.asked)
    assert await net.client.lookup(net.peer, BUYER, INVOICE) == found
    assert await net.client.lookup(net.peer, STRANGER, INVOICE) == missing
    assert len(net.asked) == asked  # both from the cache
    net.clock.now += timedelta(minutes=11)  # the negative entry has expired, not the other
    await net.client.lookup(net.peer, BUYER, INVOICE)
    await net.client.lookup(net.peer, STRANGER, INVOICE)
    assert net.asked[asked:] == [STRANGER]


async def test_an_unreadable_cache_entry_is_asked_afresh(net: Net) -> None:
    """A corrupt cache entry does not break the lookup: the SMP is asked again and the
    endpoint found."""
    await net.client.lookup(net.peer, BUYER, INVOICE)
    asked = len(net.asked)
    for key in net.cache.entries:
        net.cache.entries[key] = (NOW + timedelta(days=1), b"{not json")
    assert isinstance(await net.client.lookup(net.peer, BUYER, INVOICE), Found)
    assert net.asked[asked:] == [BUYER]
