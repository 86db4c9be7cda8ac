"""Files after the inquiry: a patient's further documents and the clinic's visa letter,
checked the way the inquiry's own attachment is."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, MultipleFileField
from werkzeug.datastructures import FileStorage
from wtforms.validators import ValidationError

from app.forms.base import AppForm
from app.services.leads.intake import Upload
from app.services.privacy import attachments


def checked_upload(upload: FileStorage) -> Upload:
    """The upload with its sniffed type, or a message the person who chose the file can act on."""
    try:
        content_type = attachments.check(upload.stream)
    except attachments.AttachmentRejected as exc:
        if exc.reason == "size":
            raise ValidationError(_l("Please attach a file of 10 MB or less.")) from exc
        raise ValidationError(
            _l("Please attach a PDF, JPEG or PNG file. This file is not one of those.")
        ) from exc
    return Upload(stream=upload.stream, content_type=content_type)


def _chosen(files: list[FileStorage] | FileStorage | None) -> list[FileStorage]:
    listed = files if isinstance(files, list) else [files] if files else []
    return [f for f in listed if getattr(f, "filename", "")]


class DocumentsForm(AppForm):
    files = MultipleFileField(_l("Documents: MRI reports, scans or letters from your doctor"))

    def validate_files(self, field: MultipleFileField) -> None:
        chosen = _chosen(field.data)
        if not chosen:
            raise ValidationError(_l("Please choose at least one file."))
        self.uploads = [checked_upload(f) for f in chosen]


class VisaLetterForm(AppForm):
    letter = FileField(_l("Visa confirmation letter (PDF)"))

    def validate_letter(self, field: FileField) -> None:
        chosen = _chosen(field.data)
        if not chosen:
            raise ValidationError(_l("Please choose the letter's file."))
        self.upload = checked_upload(chosen[0])
