"""Fictional demo data for `make run`: three Seoul clinics of the kinds the platform lists
(their leads are in `demo_leads`).

Names, numbers and addresses are invented; the example.com addresses reach nobody.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from app.models import (
    Clinic,
    ClinicCredential,
    ClinicLanguage,
    ClinicStatus,
    ClinicUser,
    CredentialKind,
    Offering,
    Procedure,
    StaffRole,
    StaffUser,
)
from app.models.base import DbSession, utcnow
from app.services.accounts.passwords import hash_password
from app.services.accounts.staff import create_staff
from app.services.clinics.onboarding import brn_check_digit

DEMO_ADMIN_EMAIL = "admin@careroute.local"
# Development only: `flask demo load` refuses to run in production.
DEMO_ADMIN_PASSWORD = "careroute-demo-admin"  # noqa: S105
# Every demo clinic's own portal account signs in with this (development only, as above).
DEMO_CLINIC_PASSWORD = "careroute-demo-clinic"  # noqa: S105


def _brn(first_nine: str) -> str:
    return first_nine + str(brn_check_digit(first_nine))


DEMO_CLINICS: list[dict[str, Any]] = [
    {
        "slug": "seolleung-joint-regeneration-clinic",
        "name": "Seolleung Joint Regeneration Clinic",
        "contact_name": "Dr. Han Seo-yeon",
        "email": "hello@seolleung-joint.example.com",
        "phone": "+8225550101",
        "website": "https://seolleung-joint.example.com",
        "address": "12 Seolleung-ro 90-gil, 4F",
        "district": "Gangnam-gu",
        "registration_number": _brn("211810001"),
        "description": "A one-doctor clinic for knee osteoarthritis: autologous stem cell "
        "injections prepared the same day, with an English-speaking coordinator.",
        "weekly_capacity": 6,
        "languages": ["ko", "en"],
        "accreditations": ["foreign-patient-provider"],
        "offerings": {
            "autologous-msc-injection": (7000, 12000),
            "stem-cell-prp": (8000, 14000),
            "prp-knee": (600, 1200),
        },
    },
    {
        "slug": "hangang-multi-specialty-medical-centre",
        "name": "Hangang Multi-Specialty Medical Centre",
        "contact_name": "Park Ji-hoon (international office)",
        "email": "international@hangang-centre.example.com",
        "phone": "+8225550102",
        "website": "https://hangang-centre.example.com",
        "address": "88 Yeouidaebang-ro",
        "district": "Yeongdeungpo-gu",
        "registration_number": _brn("107820002"),
        "description": "Orthopaedics, rehabilitation and imaging under one roof; cartilage "
        "surgery and cell therapy followed by an inpatient rehab programme.",
        "weekly_capacity": 20,
        "languages": ["ko", "en", "ru", "mn", "zh"],
        "accreditations": ["koiha", "jci", "foreign-patient-provider"],
        "offerings": {
            "allogeneic-cell-therapy": (15000, 25000),
            "aci": (18000, 28000),
            "maci": (20000, 30000),
            "microfracture": (9000, 14000),
            "osteochondral-grafting": (14000, 22000),
            "high-tibial-osteotomy": (12000, 20000),
        },
    },
    {
        "slug": "namsan-advanced-cell-therapy-hospital",
        "name": "Namsan Advanced Cell Therapy Hospital",
        "contact_name": "Choi Min-ji (patient coordination)",
        "email": "coordination@namsan-cell.example.com",
        "phone": "+8225550103",
        "website": "https://namsan-cell.example.com",
        "address": "5 Toegye-ro 20-gil",
        "district": "Jung-gu",
        "registration_number": _brn("201860003"),
        "description": "A government-approved advanced regenerative medicine provider with "
        "its own GMP clean room for cell processing.",
        "weekly_capacity": 10,
        "languages": ["ko", "en", "ja", "ar"],
        "accreditations": ["mohw-regenerative", "kahf", "foreign-patient-provider"],
        "offerings": {
            "autologous-msc-injection": (12000, 22000),
            "allogeneic-cell-therapy": (18000, 30000),
            "stem-cell-fat-grafting": (7000, 15000),
            "exosome-therapy": (2000, 5000),
            "nk-cell-therapy": (9000, 20000),
        },
    },
]


def load_demo_clinics(session: DbSession, today: date | None = None) -> int:
    """Add the demo clinics that are not there yet, approved and verified; return how many."""
    today = today or utcnow().date()
    procedures = {p.slug: p for p in session.scalars(select(Procedure))}
    existing = set(session.scalars(select(Clinic.slug)))
    added = 0
    for spec in DEMO_CLINICS:
        if spec["slug"] in existing:
            continue
        clinic = Clinic(
            slug=spec["slug"],
            name=spec["name"],
            contact_name=spec["contact_name"],
            email=spec["email"],
            email_verified_at=utcnow(),
            phone=spec["phone"],
            website=spec["website"],
            address=spec["address"],
            district=spec["district"],
            city="Seoul",
            registration_number=spec["registration_number"],
            description=spec["description"],
            weekly_capacity=spec["weekly_capacity"],
            status=ClinicStatus.APPROVED,
            reviewed_at=utcnow(),
            languages=[ClinicLanguage(language=code) for code in spec["languages"]],
            offerings=[
                Offering(procedure=procedures[slug], price_min_usd=low, price_max_usd=high)
                for slug, (low, high) in spec["offerings"].items()
            ],
            credentials=[
                ClinicCredential(
                    kind=CredentialKind.LICENCE,
                    code="licence",
                    reference=f"DEMO-{spec['registration_number'][-4:]}",
                    expires_on=today + timedelta(days=700),
                ),
                ClinicCredential(
                    kind=CredentialKind.INSURANCE,
                    code="insurance",
                    reference="DEMO-POLICY",
                    expires_on=today + timedelta(days=200),
                ),
                *(
                    ClinicCredential(
                        kind=CredentialKind.ACCREDITATION,
                        code=code,
                        expires_on=today + timedelta(days=900),
                    )
                    for code in spec["accreditations"]
                ),
            ],
        )
        session.add(clinic)
        session.add(
            ClinicUser(
                clinic=clinic,
                email=spec["email"],
                password_hash=hash_password(DEMO_CLINIC_PASSWORD),
                password_set_at=utcnow(),
            )
        )
        added += 1
    session.commit()
    return added


def ensure_demo_admin(session: DbSession) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.email == DEMO_ADMIN_EMAIL))
    return user or create_staff(session, DEMO_ADMIN_EMAIL, StaffRole.ADMIN, DEMO_ADMIN_PASSWORD)
