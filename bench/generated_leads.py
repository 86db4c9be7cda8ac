"""Fictional leads in bulk for benchmarks and scale tests (never a demo: no clinics, no
routing). Core inserts in batches, no ORM objects, so a million rows take minutes.

`python -m bench.generated_leads --count 1000000` fills the configured database.
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.encryption import data_keys
from app.models import Lead, LeadStatus, LeadTag, Partner, Procedure, Tag
from app.models.base import utcnow
from app.services.leads.intake import CONSENT_VERSION

_GIVEN = (
    "Aigerim",
    "Bat-Erdene",
    "Olga",
    "Nurlan",
    "Mariam",
    "Dilnoza",
    "Sergei",
    "Aiko",
    "Fatima",
    "Tuan",
    "Layla",
    "Ivan",
    "Saule",
    "Yuki",
    "Omar",
    "Elena",
)
_FAMILY = ("Testova", "Demochenko", "Samplebek", "Fictiv", "Placeholderov", "Examplesen")
_PLACES = (
    ("KZ", "ru", "+7701"),
    ("MN", "mn", "+97699"),
    ("RU", "ru", "+7916"),
    ("AE", "ar", "+97150"),
    ("US", "en", "+1202"),
    ("JP", "ja", "+8190"),
    ("VN", "vi", "+8490"),
    ("UZ", "uz", "+99890"),
)

_PARTNERS = ("Generated Travel Blog", "Generated Agency", "Generated Coordinator")
# About one lead in twenty carries a tag, as staff tag the few they must come back to.
_TAGS = ("callback", "vip", "visa", "waiting-mri", "interpreter")
TAGGED_SHARE = 0.05


def _partner_ids(session: Session) -> list[int]:
    """The generated partners, made once: a fifth of the leads come through one of them."""
    found = list(session.scalars(select(Partner.id).where(Partner.name.in_(_PARTNERS))))
    if not found:
        session.execute(
            insert(Partner),
            [{"public_id": f"generated-{n}", "name": name} for n, name in enumerate(_PARTNERS)],
        )
        return _partner_ids(session)
    return found


def _tag_ids(session: Session) -> list[int]:
    """The generated tags, made once."""
    found = list(session.scalars(select(Tag.id).where(Tag.name.in_(_TAGS)).order_by(Tag.id)))
    if not found:
        session.execute(insert(Tag), [{"name": name, "created_at": utcnow()} for name in _TAGS])
        return _tag_ids(session)
    return found


def _source(rng: random.Random, partner_ids: list[int]) -> dict[str, object]:
    roll = rng.random()
    if roll < 0.2:
        return {"source": "partner", "partner_id": rng.choice(partner_ids)}
    return {"source": "api" if roll < 0.25 else "web", "partner_id": None}


def _staff_clock(rng: random.Random, created: datetime) -> dict[str, object]:
    """Due about half a day after arrival (a wall-clock stand-in for four business hours);
    staff answered all but one lead in fifty."""
    due = created + timedelta(hours=rng.choice((4, 12, 64)))
    answered = None if rng.random() < 0.02 else created + timedelta(hours=rng.randrange(1, 6))
    return {"staff_due_at": due, "staff_responded_at": answered}


def generate_leads(session: Session, count: int, seed: int = 7, batch: int = 5000) -> int:
    """Insert `count` fictional leads, spread over the last year; return how many."""
    rng = random.Random(seed)
    procedure_ids = list(session.scalars(select(Procedure.id)))
    statuses = list(LeadStatus) + [LeadStatus.NEW] * 3 + [LeadStatus.ROUTED] * 4
    now = utcnow()
    keys = data_keys()
    partner_ids = _partner_ids(session)
    tag_ids = _tag_ids(session)
    start = session.scalar(select(func.count(Lead.id))) or 0
    made = 0
    while made < count:
        rows = []
        for n in range(start + made, start + made + min(batch, count - made)):
            country, language, prefix = rng.choice(_PLACES)
            created = now - timedelta(seconds=rng.randrange(365 * 24 * 3600))
            rows.append(
                {
                    "reference": f"CR-G{n:07d}",
                    "full_name": f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}",
                    "email": f"patient{n}@example.com",
                    "phone": f"{prefix}{n:07d}",
                    "phone_digest": keys.digest(f"{prefix}{n:07d}"),
                    "country": country,
                    "language": language,
                    "procedure_id": rng.choice(procedure_ids),
                    "message": "A generated inquiry for scale tests.",
                    "budget_usd": rng.choice((None, 8000, 15000, 25000)),
                    "consent_version": CONSENT_VERSION,
                    "consented_at": created,
                    "status": (status := rng.choice(statuses)),
                    "consent_withdrawn_at": created if status is LeadStatus.WITHDRAWN else None,
                    "no_matching_clinic": rng.random() < 0.02,
                    "created_at": created,
                    "updated_at": created,
                    **_staff_clock(rng, created),
                    **_source(rng, partner_ids),
                }
            )
        ids = session.scalars(insert(Lead).returning(Lead.id, sort_by_parameter_order=True), rows)
        tagged = [
            {
                "lead_id": lead_id,
                "tag_id": rng.choice(tag_ids),
                "created_at": row["created_at"],
                "lead_created_at": row["created_at"],
                "lead_updated_at": row["updated_at"],
            }
            for lead_id, row in zip(ids, rows, strict=True)
            if rng.random() < TAGGED_SHARE
        ]
        if tagged:
            session.execute(insert(LeadTag), tagged)
        session.commit()
        made += len(rows)
    return made


def main() -> None:
    from app import create_app
    from app.extensions import db
    from app.services.clinics.catalog import load_catalog

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    count = parser.parse_args().count
    app = create_app()
    if app.config["CAREROUTE_ENV"] == "production":
        raise SystemExit("generated leads are never loaded in production")
    with app.app_context():
        load_catalog(db.session)
        print(f"{generate_leads(db.session, count)} leads inserted")


if __name__ == "__main__":
    main()
