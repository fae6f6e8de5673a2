"""CPU time per message of the AS4 receive path: ours next to the ``as4``
package's (PyPI, the independent implementation of the interop tests).

Both receivers take the very same requests (built once, before timing) and
do the same work: MIME parse, trust check of the signer, signature
verification, RSA-OAEP key decryption, AES-128-GCM decryption,
decompression, SBDH parsing, and a signed non-repudiation receipt. The
gateway's store and validation are not part of this measure (a no-op
here): they are the pipeline's, not the AS4 layer's, and are measured by
the other benchmarks. Messages are the 7.9 KB sample invoice, by default
built by the ``as4`` package's sender; ``--built-by us`` uses ours.

Run: .venv/bin/python -m benchmarks.as4_receive [--messages 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from as4 import AS4LocalPrivateKey, AS4SendingExchange
from as4.peppol import (
    PeppolAS4Profile,
    create_peppol_external_party,
    create_peppol_internal_party,
    parse_peppol_message,
    peppol_security_policy,
)
from as4.profiles.peppol.document_identifier import BusdoxDocidQnsDocumentIdentifier
from as4.profiles.peppol.message import PeppolAS4MessageBuilderArgs

from gateway.as4 import inbound, outbound, receipt, sbdh
from gateway.model import BIS3_CUSTOMIZATION, BIS3_PROCESS, DocumentKind, ParticipantId
from gateway.model import document_type_id as doctype_id
from gateway.pki import certificates as certs
from gateway.samples import sample_document

ALPHA, BETA = "POP000101", "POP000202"
SELLER, BUYER = ParticipantId("0088", "5790000435951"), ParticipantId("0088", "5790000436057")
DOCTYPE = doctype_id(DocumentKind.INVOICE, BIS3_CUSTOMIZATION)
Request = tuple[str, bytes]


def _pki() -> tuple[certs.KeyPair, certs.KeyPair, certs.KeyPair]:
    now = datetime.now(UTC) - timedelta(days=1)
    ca = certs.create_dev_ca(now=now)
    return (
        ca,
        certs.issue_ap_certificate(ca, ALPHA, now=now, days=30),
        (certs.issue_ap_certificate(ca, BETA, now=now, days=30)),
    )


def _their_requests(alpha: certs.KeyPair, beta: certs.KeyPair, doc: bytes, n: int) -> list[Request]:
    local = create_peppol_internal_party(
        party_id=ALPHA, certificate=alpha[1], private_key=AS4LocalPrivateKey(alpha[0])
    )
    remote = create_peppol_external_party(party_id=BETA, certificate=beta[1])
    out = []
    for i in range(n):
        exchange = AS4SendingExchange(
            profile=PeppolAS4Profile, local_party=local, remote_party=remote
        )
        args = PeppolAS4MessageBuilderArgs(
            sender=str(SELLER),
            recipient=str(BUYER),
            document_type_identifier=BusdoxDocidQnsDocumentIdentifier.from_identifier_value(
                DOCTYPE
            ),
            document_identification_instance_identifier=f"bench-{i}",
            process_identifier=BIS3_PROCESS,
            c1_country_id="FR",
        )
        headers, body = exchange.build(doc, args)
        out.append((headers["Content-Type"], body))
    return out


def _our_requests(alpha: certs.KeyPair, beta: certs.KeyPair, doc: bytes, n: int) -> list[Request]:
    out = []
    now = datetime.now(UTC)
    for i in range(n):
        delivery = f"bench-{i}@{ALPHA}"
        um = outbound.user_message(
            delivery_id=delivery, now=now, from_party=ALPHA, to_party=BETA, sender=str(SELLER),
            recipient=str(BUYER), document_type=DOCTYPE, process=BIS3_PROCESS,
        )  # fmt: skip
        env = sbdh.Sbdh(
            sender=str(SELLER), receiver=str(BUYER), document_type=DOCTYPE, process=BIS3_PROCESS,
            country_c1="FR", instance_id=outbound.instance_id(delivery), created_at=now,
        )  # fmt: skip
        req = outbound.build_request(
            doc, user_message=um, envelope=env, key=alpha[0], cert=alpha[1], recipient=beta[1]
        )
        out.append((req.content_type, req.body()))
    return out


def _ours(ca: certs.KeyPair, beta: certs.KeyPair) -> Callable[[Request], None]:
    def trust(cert: object, party: str) -> None:
        certs.check_peer_certificate(
            cert,  # type: ignore[arg-type]
            pinned=None,
            cas=[ca[1]],
            expected_cn=party,
            now=datetime.now(UTC),
        )

    def receive(request: Request) -> None:
        got = inbound.read_request(
            request[0], request[1], key=beta[0], cert=beta[1], party_id=BETA, trust=trust,
            max_document_bytes=10 * 1024 * 1024,
        )  # fmt: skip
        # Store and validation: no-op here (see the module docstring).
        receipt.build_receipt(
            ref_to_message_id=got.user_message.message_id,
            references=got.references,
            receipt_id="receipt@" + BETA,
            now=datetime.now(UTC),
            key=beta[0],
            cert=beta[1],
        )

    return receive


def _theirs(ca: certs.KeyPair, beta: certs.KeyPair) -> Callable[[Request], None]:
    local = create_peppol_internal_party(
        party_id=BETA, certificate=beta[1], private_key=AS4LocalPrivateKey(beta[0])
    )
    policy = peppol_security_policy(ca[1])

    def receive(request: Request) -> None:
        exchange = parse_peppol_message(
            {"Content-Type": request[0]}, request[1], local_party=local, security_policy=policy
        )
        if not exchange.successful:
            raise RuntimeError(f"as4 refused a benchmark message: {exchange.message}")
        exchange.build_signal()

    return receive


def _cpu_ms_per_message(
    receive: Callable[[Request], None], requests: list[Request], rounds: int
) -> float:
    for request in requests[:20]:  # warm-up: imports, schema compilation, caches
        receive(request)
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for request in requests:
            receive(request)
        best = min(best, (time.process_time() - start) / len(requests) * 1000)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--built-by", choices=("as4", "us"), default="as4")
    args = parser.parse_args(argv)
    ca, alpha, beta = _pki()
    doc = sample_document(DocumentKind.INVOICE, seller=SELLER, buyer=BUYER)
    build = _their_requests if args.built_by == "as4" else _our_requests
    requests = build(alpha, beta, doc, args.messages)
    ours = _cpu_ms_per_message(_ours(ca, beta), requests, args.rounds)
    theirs = _cpu_ms_per_message(_theirs(ca, beta), requests, args.rounds)
    print(f"AS4 receive path, CPU per message (best of {args.rounds} rounds x {args.messages})")
    print(f"  machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"  messages: {len(doc)} B invoice, built by {args.built_by}; store/validation: no-op")
    print(f"  gateway.as4 : {ours:.3f} ms/message")
    print(f"  as4 0.2.0   : {theirs:.3f} ms/message")
    print(f"  ratio       : {ours / theirs:.2f} (target <= 0.50)")


if __name__ == "__main__":
    main()
