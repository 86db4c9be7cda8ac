"""Ready-made openings for staff's messages to a patient, in the patient's language.

Staff read and write English or Korean; the patient reads one of nine languages. A snippet
is written once here (the `messages` domain, so it is translated with everything else a
patient reads) and put into the message form in the lead's language, for staff to finish
or send as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString, force_locale
from flask_babel import lazy_gettext as _l

from app.i18n import patient_locale
from app.models import Lead


@dataclass(frozen=True)
class Snippet:
    code: str
    title: LazyString  # what staff choose it by, in the console's language
    text: LazyString  # what the patient reads; %(name)s and %(ref)s are filled in


SNIPPETS = {
    snippet.code: snippet
    for snippet in (
        Snippet(
            "received",
            _l("We received your inquiry"),
            _l(
                "Dear %(name)s, thank you for your question %(ref)s. We have received it and "
                "are finding the clinics best suited to you. We will write again soon."
            ),
        ),
        Snippet(
            "send_mri",
            _l("Please send your MRI"),
            _l(
                "Dear %(name)s, to give you an accurate answer the clinics need your MRI "
                "report or images. Please add them on your question's page as a PDF, JPEG "
                "or PNG file."
            ),
        ),
        Snippet(
            "clinic_will_contact",
            _l("A clinic will contact you"),
            _l(
                "Dear %(name)s, a clinic has your question %(ref)s and will contact you "
                "directly within a few working days. You can follow its answer on your "
                "question's page."
            ),
        ),
        Snippet(
            "more_details",
            _l("Please tell us more"),
            _l(
                "Dear %(name)s, to find the right clinic for you, could you tell us how long "
                "you have had this problem and what treatment you have had so far?"
            ),
        ),
    )
}


def snippet_for(code: str, lead: Lead) -> str | None:
    """The snippet in the lead's language, with the patient's name and reference; None for
    an unknown code."""
    snippet = SNIPPETS.get(code)
    if snippet is None:
        return None
    with force_locale(patient_locale(lead.language, lead.country)):
        return str(snippet.text) % {"name": lead.full_name, "ref": lead.reference}
