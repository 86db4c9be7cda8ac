"""The procedure catalogue patients choose from and clinics offer."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.types import JSONDocument
from app.reference_data import procedure_name


class Procedure(Model):
    __tablename__ = "procedures"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    category: Mapped[str] = mapped_column(String(40))
    # Patients say "cartilage repair", clinics say "MSC injection": both find the same entry.
    synonyms: Mapped[list[str]] = mapped_column(JSONDocument, default=list)

    @property
    def label(self) -> str:
        """The name in the reader's language."""
        return procedure_name(self.slug, self.name)

    def __repr__(self) -> str:
        return f"<Procedure {self.slug}>"
