"""Fixed lists the forms offer: the procedure catalogue seed, accreditations, languages."""

from __future__ import annotations

from typing import NamedTuple

from flask_babel import lazy_gettext as _l


class ProcedureSeed(NamedTuple):
    slug: str
    name: str
    category: str
    synonyms: tuple[str, ...]


KNEE = "knee-cartilage"
REGENERATIVE = "regenerative-aesthetic"

CATEGORY_LABELS = {
    KNEE: _l("Knee and cartilage"),
    REGENERATIVE: _l("Regenerative and aesthetic"),
}

PROCEDURES: tuple[ProcedureSeed, ...] = (
    ProcedureSeed(
        "autologous-msc-injection",
        "Autologous stem cell (MSC) injection for the knee",
        KNEE,
        (
            "MSC injection",
            "stem cell knee injection",
            "cartilage repair",
            "BMAC",
            "bone marrow aspirate concentrate",
            "adipose stem cells",
        ),
    ),
    ProcedureSeed(
        "allogeneic-cell-therapy",
        "Allogeneic cord-blood cell therapy with rehabilitation",
        KNEE,
        (
            "Cartistem",
            "umbilical cord blood stem cells",
            "donor stem cells",
            "cartilage regeneration",
        ),
    ),
    ProcedureSeed(
        "stem-cell-prp",
        "Stem cell injection combined with PRP",
        KNEE,
        ("stem cell + PRP", "MSC and platelet-rich plasma", "combined regenerative injection"),
    ),
    ProcedureSeed(
        "aci",
        "Autologous chondrocyte implantation (ACI)",
        KNEE,
        ("ACI", "chondrocyte transplant", "cartilage cell implantation", "cartilage repair"),
    ),
    ProcedureSeed(
        "maci",
        "Matrix-induced autologous chondrocyte implantation (MACI)",
        KNEE,
        ("MACI", "matrix chondrocyte implant", "cartilage repair"),
    ),
    ProcedureSeed(
        "microfracture",
        "Microfracture",
        KNEE,
        ("marrow stimulation", "knee arthroscopy microfracture"),
    ),
    ProcedureSeed(
        "osteochondral-grafting",
        "Osteochondral grafting (OATS, mosaicplasty)",
        KNEE,
        ("OATS", "mosaicplasty", "osteochondral autograft", "cartilage transplant"),
    ),
    ProcedureSeed(
        "high-tibial-osteotomy",
        "Osteotomy (high tibial osteotomy)",
        KNEE,
        ("HTO", "knee realignment", "osteotomy"),
    ),
    ProcedureSeed(
        "prp-knee",
        "Platelet-rich plasma (PRP) injection",
        KNEE,
        ("PRP", "platelet injection", "knee PRP"),
    ),
    ProcedureSeed(
        "stem-cell-fat-grafting",
        "Stem cell enriched fat grafting",
        REGENERATIVE,
        ("SVF fat transfer", "cell-assisted lipotransfer", "fat grafting"),
    ),
    ProcedureSeed(
        "exosome-therapy",
        "Exosome therapy",
        REGENERATIVE,
        ("exosomes", "skin regeneration", "exosome facial"),
    ),
    ProcedureSeed(
        "nk-cell-therapy",
        "Natural killer (NK) cell therapy",
        REGENERATIVE,
        ("NK cells", "immune cell therapy"),
    ),
    ProcedureSeed(
        "hair-regeneration",
        "Hair regeneration and transplant",
        REGENERATIVE,
        ("hair transplant", "FUE", "hair loss stem cell", "hair PRP"),
    ),
)

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
