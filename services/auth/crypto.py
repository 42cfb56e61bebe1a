"""Random secrets, their digests, and encryption at rest with the key-encryption key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.kit.settings import VAR_DIR

# 32 random bytes = 256 bits, URL-safe base64 without padding: 43 characters.
TOKEN_BYTES = 32
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")
DEV_KEY_FILE = VAR_DIR / "auth" / "key-encryption.key"


def new_token() -> str:
    """A fresh 256-bit secret for links, sessions and API clients."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def well_formed(token: str) -> bool:
    """Whether `token` has the shape of ours (checked before touching the database)."""
    return bool(TOKEN_SHAPE.match(token))


def digest(token: str) -> str:
    """The SHA-256 of a high-entropy secret, the only form in which it is stored.

    A fast hash is right here: the secrets are 256-bit random, not guessable passwords.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def same_digest(a: str, b: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a, b)


class DecryptionError(Exception):
    """A ciphertext could not be opened: wrong key-encryption key or tampered data."""


class Sealer:
    """AES-256-GCM with a key derived from the configured key-encryption key."""

    def __init__(self, key_encryption_key: str) -> None:
        if len(key_encryption_key) < 32:
            raise ValueError("AUTH_KEY_ENCRYPTION_KEY must be at least 32 characters")
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"portail-auth at-rest v1"
        ).derive(key_encryption_key.encode())
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt `plaintext`, bound to `context` (a key id, an account id)."""
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        """Decrypt what `seal` produced for the same `context`."""
        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], context.encode())
        except (InvalidTag, ValueError):
            raise DecryptionError("cannot decrypt: wrong AUTH_KEY_ENCRYPTION_KEY?") from None


def dev_key_encryption_key(path: Path = DEV_KEY_FILE) -> str:
    """The dev profile's key-encryption key, generated once under var/ (prod must set one)."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of the dev profile was faster
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
