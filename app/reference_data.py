"""Fixed lists the forms offer: the procedure catalogue seed, accreditations, languages."""

from __future__ import annotations

from typing import NamedTuple

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l


class ProcedureSeed(NamedTuple):
    slug: str
    # Translated like any message: patients read the name in their language.
    name: LazyString
    category: str
    # Other names patients and clinics search for, comma-separated, per language.
    synonyms: LazyString


KNEE = "knee-cartilage"
REGENERATIVE = "regenerative-aesthetic"

CATEGORY_LABELS = {
    KNEE: _l("Knee and cartilage"),
    REGENERATIVE: _l("Regenerative and aesthetic"),
}

# TRANSLATORS: each procedure has a name and, after it, the other names patients search for
# (comma-separated): write the words patients who speak your language use for it.
PROCEDURES: tuple[ProcedureSeed, ...] = (
    ProcedureSeed(
        "autologous-msc-injection",
        _l("Autologous stem cell (MSC) injection for the knee"),
        KNEE,
        _l(
            "MSC injection, stem cell knee injection, cartilage repair, BMAC, "
            "bone marrow aspirate concentrate, adipose stem cells"
        ),
    ),
    ProcedureSeed(
        "allogeneic-cell-therapy",
        _l("Allogeneic cord-blood cell therapy with rehabilitation"),
        KNEE,
        _l("Cartistem, umbilical cord blood stem cells, donor stem cells, cartilage regeneration"),
    ),
    ProcedureSeed(
        "stem-cell-prp",
        _l("Stem cell injection combined with PRP"),
        KNEE,
        _l("stem cell + PRP, MSC and platelet-rich plasma, combined regenerative injection"),
    ),
    ProcedureSeed(
        "aci",
        _l("Autologous chondrocyte implantation (ACI)"),
        KNEE,
        _l("ACI, chondrocyte transplant, cartilage cell implantation, cartilage repair"),
    ),
    ProcedureSeed(
        "maci",
        _l("Matrix-induced autologous chondrocyte implantation (MACI)"),
        KNEE,
        _l("MACI, matrix chondrocyte implant, cartilage repair"),
    ),
    ProcedureSeed(
        "microfracture",
        _l("Microfracture"),
        KNEE,
        _l("marrow stimulation, knee arthroscopy microfracture"),
    ),
    ProcedureSeed(
        "osteochondral-grafting",
        _l("Osteochondral grafting (OATS, mosaicplasty)"),
        KNEE,
        _l("OATS, mosaicplasty, osteochondral autograft, cartilage transplant"),
    ),
    ProcedureSeed(
        "high-tibial-osteotomy",
        _l("Osteotomy (high tibial osteotomy)"),
        KNEE,
        _l("HTO, knee realignment, osteotomy"),
    ),
    ProcedureSeed(
        "prp-knee",
        _l("Platelet-rich plasma (PRP) injection"),
        KNEE,
        _l("PRP, platelet injection, knee PRP"),
    ),
    ProcedureSeed(
        "stem-cell-fat-grafting",
        _l("Stem cell enriched fat grafting"),
        REGENERATIVE,
        _l("SVF fat transfer, cell-assisted lipotransfer, fat grafting"),
    ),
    ProcedureSeed(
        "exosome-therapy",
        _l("Exosome therapy"),
        REGENERATIVE,
        _l("exosomes, skin regeneration, exosome facial"),
    ),
    ProcedureSeed(
        "nk-cell-therapy",
        _l("Natural killer (NK) cell therapy"),
        REGENERATIVE,
        _l("NK cells, immune cell therapy"),
    ),
    ProcedureSeed(
        "hair-regeneration",
        _l("Hair regeneration and transplant"),
        REGENERATIVE,
        _l("hair transplant, FUE, hair loss stem cell, hair PRP"),
    ),
)

_SEEDS = {seed.slug: seed for seed in PROCEDURES}


def procedure_name(slug: str, stored: str) -> str:
    """The procedure's name in the reader's language (`stored` for one not seeded here)."""
    seed = _SEEDS.get(slug)
    return str(seed.name) if seed is not None else stored


def procedure_synonyms(slug: str, stored: list[str]) -> list[str]:
    """Other names for it in the reader's language, as patients there search for them."""
    seed = _SEEDS.get(slug)
    if seed is None:
        return stored
    return [name.strip() for name in str(seed.synonyms).split(",") if name.strip()]


ACCREDITATIONS = {
    "mohw-regenerative": _l("MOHW advanced regenerative medicine provider"),
    "kahf": _l("KAHF accreditation"),
    "koiha": _l("KOIHA hospital accreditation"),
    "jci": _l("JCI accreditation"),
    "foreign-patient-provider": _l("Registered foreign-patient provider"),
}

# BCP 47 primary tags of languages clinics commonly work in; names come from Babel's CLDR data.
LANGUAGE_CODES = (
    "en", "ko", "ja", "zh", "ru", "mn", "kk", "uz", "vi", "th", "id", "ar", "es", "fr", "de",
)  # fmt: skip

CREDENTIAL_LABELS = {
    "licence": _l("Medical institution licence"),
    "insurance": _l("Malpractice insurance"),
    **ACCREDITATIONS,
}

# ISO 4217 codes clinics quote in (won, and the currencies of the patients we serve);
# names come from Babel's CLDR data.
QUOTE_CURRENCIES = ("KRW", "USD", "EUR", "JPY", "CNY", "RUB", "MNT", "KZT", "AED", "GBP", "AUD")

# The standard parts of a treatment a quote says it covers, in the order quotes are lined
# up. Patients compare quotes by these names (and clinics fill them in), so they are
# catalogue messages here, in every patient language, not console text.
QUOTE_PARTS = {
    "consultation": _l("Consultation"),
    "diagnostics": _l("MRI and diagnostics"),
    "harvesting": _l("Cell harvesting"),
    "lab_processing": _l("Lab processing"),
    "procedure": _l("The procedure itself"),
    "add_ons": _l("Add-ons such as PRP or exosomes"),
    "follow_up": _l("Follow-up visits"),
    "rehabilitation": _l("Rehabilitation"),
    "inpatient_nights": _l("Nights in the clinic"),
}
