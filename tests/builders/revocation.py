"""Revocation for tests: access point certificates that name a CRL and
an OCSP responder, and a real responder serving both on loopback.

The responder answers with CRLs and OCSP responses built and signed by the
``cryptography`` package, as a CA's servers would; it counts its requests so
tests can see what the gateway fetched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from gateway.pki.certificates import KeyPair, generate_key


def issue_certificate(
    ca: KeyPair,
    cn: str,
    *,
    now: datetime,
    crl_url: str | None = None,
    ocsp_url: str | None = None,
    ocsp_signing: bool = False,
    days: int = 365,
) -> KeyPair:
    """A certificate of ``ca`` for ``cn`` naming the given CRL and OCSP URLs;
    with ``ocsp_signing``, a delegated OCSP responder's certificate instead."""
    ca_key, ca_cert = ca
    key = generate_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if crl_url:
        uri = x509.UniformResourceIdentifier(crl_url)
        point = x509.DistributionPoint([uri], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    if ocsp_url:
        desc = x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
        )
        builder = builder.add_extension(x509.AuthorityInformationAccess([desc]), critical=False)
    if ocsp_signing:
        usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING])
        builder = builder.add_extension(usage, critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def build_crl(
    ca: KeyPair,
    revoked: dict[int, datetime],
    *,
    now: datetime,
    next_update: timedelta = timedelta(hours=1),
) -> bytes:
    """A DER CRL of ``ca`` listing ``revoked`` (serial -> revocation date)."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca[1].subject)
        .last_update(now - timedelta(minutes=1))
        .next_update(now + next_update)
    )
    for serial, when in revoked.items():
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(when)
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(ca[0], hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def build_ocsp(
    ca: KeyPair,
    cert: x509.Certificate,
    *,
    now: datetime,
    revoked_at: datetime | None = None,
    unknown: bool = False,
    signer: KeyPair | None = None,
    next_update: timedelta | None = timedelta(hours=1),
) -> bytes:
    """A DER OCSP response about ``cert``, signed by the CA or by ``signer``."""
    status = ocsp.OCSPCertStatus.GOOD
    if unknown:
        status = ocsp.OCSPCertStatus.UNKNOWN
    elif revoked_at is not None:
        status = ocsp.OCSPCertStatus.REVOKED
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=cert,
        issuer=ca[1],
        algorithm=hashes.SHA1(),
        cert_status=status,
        this_update=now - timedelta(minutes=1),
        next_update=now + next_update if next_update is not None else None,
        revocation_time=revoked_at,
        revocation_reason=x509.ReasonFlags.key_compromise if revoked_at else None,
    )
    key, responder = signer or ca
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, responder)
    if signer is not None:
        builder = builder.certificates([responder])
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@dataclass
class Responder:
    """The CA's CRL and OCSP servers, on loopback. ``revoked`` lists the
    revoked serials; ``ocsp_down`` makes the OCSP side answer 503."""

    ca: KeyPair
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    revoked: dict[int, datetime] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    issued: dict[int, x509.Certificate] = field(default_factory=dict)
    ocsp_down: bool = False
    base: str = ""
    _runner: web.AppRunner | None = None

    @property
    def crl_url(self) -> str:
        return f"{self.base}/ca.crl"

    @property
    def ocsp_url(self) -> str:
        return f"{self.base}/ocsp"

    async def start(self) -> Responder:
        app = web.Application()
        app.add_routes([web.get("/ca.crl", self._crl), web.post("/ocsp", self._ocsp)])
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _crl(self, request: web.Request) -> web.Response:
        self.hits["crl"] += 1
        body = build_crl(self.ca, self.revoked, now=self.now())
        return web.Response(body=body, content_type="application/pkix-crl")

    async def _ocsp(self, request: web.Request) -> web.Response:
        self.hits["ocsp"] += 1
        if self.ocsp_down:
            return web.Response(status=503)
        asked = ocsp.load_der_ocsp_request(await request.read())
        cert = self.issued[asked.serial_number]
        revoked_at = self.revoked.get(cert.serial_number)
        body = build_ocsp(self.ca, cert, now=self.now(), revoked_at=revoked_at)
        return web.Response(body=body, content_type="application/ocsp-response")

    def issue(self, cn: str, *, crl: bool = True, ocsp_: bool = True) -> KeyPair:
        """A certificate naming this responder (its CRL, its OCSP or both)."""
        pair = issue_certificate(
            self.ca,
            cn,
            now=self.now(),
            crl_url=self.crl_url if crl else None,
            ocsp_url=self.ocsp_url if ocsp_ else None,
        )
        self.issued[pair[1].serial_number] = pair[1]
        return pair


def dead_url() -> str:
    """A loopback URL where nothing listens: a responder that is down."""
    from tests.support import free_port  # not at the top: tests.support imports this package

    return f"http://127.0.0.1:{free_port()}"
