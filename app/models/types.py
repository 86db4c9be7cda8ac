"""Column types that behave the same on SQLite and PostgreSQL."""

import enum

from sqlalchemy import JSON, Enum
from sqlalchemy.dialects.postgresql import JSONB

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def str_enum(cls: type[enum.Enum], name: str) -> Enum:
    """Store a StrEnum by its values (what migrations and raw SQL see), not member names."""
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e], length=20)
