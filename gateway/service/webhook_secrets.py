"""Webhook signing secrets, sealed at rest with AES-GCM.

A secret is shown once, when it is made; the store keeps it sealed with a
key held in a file (``[webhooks] key_file``, by default ``webhooks.key``
beside gateway.toml), created on first use with mode 0600. Every gateway
process that shares a store needs the same key file: one that holds another
key cannot open the secrets, and its calls fail as dead letters naming why.

The sealed form is ``v1`` + a 12-byte nonce + the ciphertext and tag; the
owner is the associated data, so a sealed secret copied to another owner's
subscription does not open.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.core import webhooks as hooks
from gateway.errors import ConfigError, StoreError

_VERSION = b"v1"
_NONCE = 12


class SecretBox:
    """Seals and opens secrets with the key in ``path``, read (or made, mode
    0600) when first needed: a gateway with no webhooks never makes one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: AESGCM | None = None

    @property
    def _aead(self) -> AESGCM:
        if self._key is None:
            self._key = AESGCM(load_or_create_key(self.path))
        return self._key

    def seal(self, owner: str, secret: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, secret.encode(), owner.encode())

    def open(self, owner: str, sealed: bytes) -> str:
        if not sealed.startswith(_VERSION) or len(sealed) <= len(_VERSION) + _NONCE:
            raise StoreError(f"the webhook secret of {owner} is not in a sealed form")
        nonce = sealed[len(_VERSION) : len(_VERSION) + _NONCE]
        try:
            plain = self._aead.decrypt(nonce, sealed[len(_VERSION) + _NONCE :], owner.encode())
        except InvalidTag:
            raise StoreError(
                f"the webhook secret of {owner} does not open with this key file:"
                " every gateway process sharing the store needs the same [webhooks] key_file"
            ) from None
        return plain.decode()


def new_secret() -> str:
    return hooks.new_secret(os.urandom(32))


def load_or_create_key(path: Path) -> bytes:
    """Read the key file, or create it: written aside and linked into place,
    so two processes starting at once end up with the same key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, base64.b64encode(os.urandom(32)) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            with contextlib.suppress(FileExistsError):  # another process made it first
                os.link(aside, path)
        finally:
            aside.unlink()
    try:
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except OSError as exc:
        raise ConfigError(str(path), "webhooks.key_file", f"cannot read: {exc.strerror}") from None
    except binascii.Error:
        raise ConfigError(str(path), "webhooks.key_file", "is not a base64 key") from None
    if len(key) != 32:
        raise ConfigError(str(path), "webhooks.key_file", "must hold 32 bytes in base64")
    return key
