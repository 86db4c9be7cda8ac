"""Patient attachments: recognised by content, stored outside any served folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import BinaryIO

import filetype

ALLOWED_TYPES = {"application/pdf", "image/jpeg", "image/png"}
MAX_BYTES = 10 * 1024 * 1024
_CHUNK = 64 * 1024


class AttachmentRejected(ValueError):
    """The file is not a PDF, JPEG or PNG, or is too large."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "type" or "size"


def sniff(head: bytes) -> str | None:
    """The file's real type from its first bytes, whatever its name or declared type says."""
    kind = filetype.guess(head)
    return kind.mime if kind is not None and kind.mime in ALLOWED_TYPES else None


def check(stream: BinaryIO) -> str:
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


def store(stream: BinaryIO, upload_dir: str) -> tuple[str, int]:
    """Write the upload under a random name (no extension, owner-only); return name and size."""
    directory = Path(upload_dir)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = secrets.token_hex(16)
    size = 0
    stream.seek(0)
    fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(_CHUNK):
            out.write(chunk)
            size += len(chunk)
    return name, size


def path_of(upload_dir: str, stored_name: str) -> Path:
    return Path(upload_dir) / stored_name


def remove(upload_dir: str, stored_name: str) -> None:
    path_of(upload_dir, stored_name).unlink(missing_ok=True)
