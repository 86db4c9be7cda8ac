"""Patient attachments: recognised by content, encrypted, stored outside any served folder.

A file is at most 10 MB, so it is encrypted whole (one Fernet token per file): on disk it is
not a PDF or an image to anyone without the data keys.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import IO

import filetype

from app.encryption import data_keys

ALLOWED_TYPES = {"application/pdf", "image/jpeg", "image/png"}
MAX_BYTES = 10 * 1024 * 1024


class AttachmentRejected(ValueError):
    """The file is not a PDF, JPEG or PNG, or is too large."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "type" or "size"


def sniff(head: bytes) -> str | None:
    """The file's real type from its first bytes, whatever its name or declared type says."""
    kind = filetype.guess(head)
    return kind.mime if kind is not None and kind.mime in ALLOWED_TYPES else None


def check(stream: IO[bytes]) -> str:
    """Return the content type of an acceptable upload, or raise `AttachmentRejected`."""
    head = stream.read(512)
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size > MAX_BYTES:
        raise AttachmentRejected("size")
    content_type = sniff(head)
    if content_type is None:
        raise AttachmentRejected("type")
    return content_type


def store(stream: IO[bytes], upload_dir: str) -> tuple[str, int]:
    """Write the upload encrypted under a random name (no extension, owner-only); return the
    name and the plain size."""
    directory = Path(upload_dir)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = secrets.token_hex(16)
    stream.seek(0)
    data = stream.read(MAX_BYTES + 1)
    fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data_keys().encrypt(data))
    return name, len(data)


def path_of(upload_dir: str, stored_name: str) -> Path:
    return Path(upload_dir) / stored_name


def read(upload_dir: str, stored_name: str) -> bytes:
    return data_keys().decrypt(path_of(upload_dir, stored_name).read_bytes())


def rotate(upload_dir: str, stored_name: str) -> bool:
    """Re-encrypt the file under the newest key (atomically); False if it already was."""
    path = path_of(upload_dir, stored_name)
    token = path.read_bytes()
    keys = data_keys()
    if keys.is_current(token):
        return False
    replacement = path.with_name(f"{stored_name}.rotating")
    fd = os.open(replacement, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(keys.rotate(token))
    os.replace(replacement, path)
    return True


def remove(upload_dir: str, stored_name: str) -> None:
    path_of(upload_dir, stored_name).unlink(missing_ok=True)
