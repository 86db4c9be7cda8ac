"""Column types that behave the same on SQLite and PostgreSQL."""

import enum

from sqlalchemy import JSON, Enum, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

from app.encryption import data_keys

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def str_enum(cls: type[enum.Enum], name: str) -> Enum:
    """Store a StrEnum by its values (what migrations and raw SQL see), not member names."""
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e], length=20)


class EncryptedText(TypeDecorator[str]):
    """Text stored as a Fernet token under the app's data keys; read back as plain text.

    An empty string stays empty (an anonymised lead has nothing left to protect).
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        return value if not value else data_keys().encrypt_text(value)

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        return value if not value else data_keys().decrypt_text(value)
