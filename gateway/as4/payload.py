"""The attachment pipeline, in one streaming pass each way.

Sending (AS4 profile §3.1 and CEF eDelivery: compress, then sign, then
encrypt): gzip the envelope, digest the compressed bytes for the signature's
Attachment-Content-Signature-Transform reference, encrypt them with
AES-128-GCM. Receiving runs the reverse pass: decrypt, digest, decompress.

The cipher text follows XML Encryption 1.1 §5.2.4: IV (12 bytes), cipher
text, tag (16 bytes). Working in chunks keeps a 50 MB document from being
copied whole at each step; the outputs are written once into buffers
whose bytes are handed over, not copied (``BytesIO.getvalue``).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from gateway.as4.errors import DecompressionFailure, FailedAuthentication, FailedDecryption
from gateway.errors import GatewayError

IV_BYTES = 12
TAG_BYTES = 16
CHUNK = 1024 * 1024
GZIP_LEVEL = 6


class Sink(Protocol):
    def write(self, chunk: bytes | memoryview) -> None: ...


@dataclass(frozen=True, slots=True)
class Sealed:
    ciphertext: bytes  # IV || cipher text || tag: the MIME part as sent
    digest: bytes  # SHA-256 of the compressed bytes: what the signature covers


def seal(
    chunks: Iterable[bytes | memoryview],
    *,
    key: bytes,
    iv: bytes,
    level: int = GZIP_LEVEL,
    compress: bool = True,
) -> Sealed:
    """Compress (gzip), digest and encrypt ``chunks`` in one pass."""
    if len(key) != 16 or len(iv) != IV_BYTES:
        raise ValueError("AES-128-GCM needs a 16-byte key and a 12-byte IV")
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31) if compress else _Identity()
    digest = hashlib.sha256()
    encryptor = Cipher(algorithms.AES(key), modes.GCM(iv)).encryptor()
    out = io.BytesIO()
    out.write(iv)

    def push(compressed: bytes) -> None:
        if compressed:
            digest.update(compressed)
            out.write(encryptor.update(compressed))

    for chunk in chunks:
        view = memoryview(chunk)
        for at in range(0, len(view), CHUNK):
            push(compressor.compress(view[at : at + CHUNK]))
    push(compressor.flush())
    out.write(encryptor.finalize())
    out.write(encryptor.tag)
    return Sealed(ciphertext=out.getvalue(), digest=digest.digest())


def unseal(
    ciphertext: bytes | memoryview,
    *,
    key: bytes,
    expected_digest: bytes,
    sink: Sink,
    compressed: bool = True,
    max_bytes: int,
) -> None:
    """Decrypt, check the signed digest and decompress into ``sink``.

    The checks are reported in the order the sender applied them, reversed:
    a wrong tag (EBMS:0102) before a wrong digest (EBMS:0101) before bad
    gzip or an oversized document (EBMS:0303), whatever was met first while
    streaming; ``sink`` errors (a bad envelope) come last, after all three.
    """
    view = memoryview(ciphertext)
    if len(view) < IV_BYTES + TAG_BYTES:
        raise FailedDecryption("the attachment could not be decrypted")
    iv, body, tag = view[:IV_BYTES], view[IV_BYTES:-TAG_BYTES], view[-TAG_BYTES:]
    decryptor = Cipher(algorithms.AES(key), modes.GCM(bytes(iv), bytes(tag))).decryptor()
    digest = hashlib.sha256()
    inflater = _Inflater(sink, max_bytes) if compressed else None
    problem: GatewayError | None = None
    for at in range(0, len(body), CHUNK):
        plain = decryptor.update(body[at : at + CHUNK])
        digest.update(plain)
        if problem is not None:
            continue  # keep decrypting: the tag and digest still have to be checked
        try:
            inflater.feed(plain) if inflater is not None else _write_capped(sink, plain, max_bytes)
        except GatewayError as exc:
            problem = exc
    try:
        decryptor.finalize()
    except InvalidTag:
        raise FailedDecryption("the attachment could not be decrypted") from None
    if not hmac.compare_digest(digest.digest(), expected_digest):
        raise FailedAuthentication("the digest of the attachment does not match the signature")
    if problem is None and inflater is not None:
        try:
            inflater.close()
        except GatewayError as exc:
            problem = exc
    if problem is not None:
        raise problem


class _Identity:
    """A compressor that does not compress (uncompressed payloads, tests)."""

    def compress(self, data: bytes | memoryview) -> bytes:
        return bytes(data)

    def flush(self) -> bytes:
        return b""


def _write_capped(sink: Sink, data: bytes, max_bytes: int) -> None:
    # Only an uncompressed attachment comes here; its size is the cipher text's.
    if len(data) > max_bytes:
        raise DecompressionFailure(f"the document is larger than the limit of {max_bytes} bytes")
    sink.write(data)


class _Inflater:
    """gzip (or zlib) decompression with a cap on the output, so that a
    small attachment cannot expand into gigabytes (a compression bomb)."""

    def __init__(self, sink: Sink, max_bytes: int) -> None:
        self._sink = sink
        self._left = max_bytes
        self._max = max_bytes
        self._inflater = zlib.decompressobj(47)  # 32 + 15: gzip or zlib header, detected

    def feed(self, data: bytes) -> None:
        while data:
            try:
                out = self._inflater.decompress(data, min(CHUNK, self._left + 1))
            except zlib.error:
                raise DecompressionFailure("the attachment is not valid gzip") from None
            self._emit(out)
            if self._inflater.eof:
                # Concatenated gzip members (RFC 1952 §2.2) are one stream.
                data = self._inflater.unused_data
                if data:
                    self._inflater = zlib.decompressobj(47)
            else:
                data = self._inflater.unconsumed_tail

    def close(self) -> None:
        try:
            self._emit(self._inflater.flush())
        except zlib.error:
            raise DecompressionFailure("the attachment is not valid gzip") from None
        if not self._inflater.eof:
            raise DecompressionFailure("the attachment's gzip stream is truncated")

    def _emit(self, out: bytes) -> None:
        if len(out) > self._left:
            raise DecompressionFailure(
                f"the decompressed document is larger than the limit of {self._max} bytes"
            )
        self._left -= len(out)
        if out:
            self._sink.write(out)
