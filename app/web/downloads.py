"""Sending patient files (decrypted) to the people allowed to see them: staff and the
clinics a lead was routed to."""

from __future__ import annotations

from io import BytesIO

from flask import Response, send_file

from app.models import LeadAttachment
from app.services.privacy.attachments import read

_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def send_attachment(upload_dir: str, attachment: LeadAttachment, reference: str) -> Response:
    """A download, never an inline page: the browser saves it and sniffs nothing."""
    response = send_file(
        BytesIO(read(upload_dir, attachment.stored_name)),
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=f"{reference}.{_EXTENSIONS[attachment.content_type]}",
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
