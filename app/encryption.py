"""Health data encrypted at rest: the patient's message, phone number and attachment files.

Keys come from `DATA_KEYS` (Fernet keys, newest first). `cryptography`'s MultiFernet writes
with the newest key and reads with any, so a new key can be added first and `flask keys
rotate` re-encrypts everything under it before the old one is dropped.

Encrypted values cannot be compared, so the phone number also gets a blind index: an HMAC
under a key derived from each data key. Lookups try the digest under every key, which keeps
dedup and phone search working while a rotation is half done.
"""

from __future__ import annotations

import hashlib
import hmac
from base64 import urlsafe_b64decode
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

__all__ = ["DataKeys", "InvalidToken", "data_keys", "parse_keys"]


def parse_keys(value: str) -> list[str]:
    return [key.strip() for key in value.split(",") if key.strip()]


def _index_key(fernet_key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"careroute.blind-index"
    ).derive(urlsafe_b64decode(fernet_key))


class DataKeys:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one data key is needed")
        self._newest = Fernet(keys[0])
        self._all = MultiFernet([Fernet(key) for key in keys])
        self._index_keys = [_index_key(key) for key in keys]

    def encrypt(self, data: bytes) -> bytes:
        return self._all.encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        return self._all.decrypt(token)

    def encrypt_text(self, text: str) -> str:
        return self.encrypt(text.encode()).decode("ascii")

    def decrypt_text(self, token: str) -> str:
        return self.decrypt(token.encode("ascii")).decode()

    def is_current(self, token: bytes) -> bool:
        """Encrypted under the newest key already (rotation skips it)."""
        try:
            self._newest.decrypt(token)
        except InvalidToken:
            return False
        return True

    def rotate(self, token: bytes) -> bytes:
        return self._all.rotate(token)

    def digests(self, value: str) -> list[str]:
        """The blind index of `value` under every key, newest first."""
        return [
            hmac.new(key, value.encode(), hashlib.sha256).hexdigest() for key in self._index_keys
        ]

    def digest(self, value: str) -> str:
        return self.digests(value)[0]


def data_keys() -> DataKeys:
    """The running app's keys (set up by `create_app`)."""
    keys: DataKeys = current_app.extensions["data_keys"]
    return keys
