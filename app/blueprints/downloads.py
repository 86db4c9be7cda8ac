"""Sending patient files to the people allowed to see them (staff now, routed clinics later)."""

from __future__ import annotations

from flask import Response, send_file

from app.models import LeadAttachment
from app.services.attachments import path_of

_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def send_attachment(upload_dir: str, attachment: LeadAttachment, reference: str) -> Response:
    """A download, never an inline page: the browser saves it and sniffs nothing."""
    response = send_file(
        path_of(upload_dir, attachment.stored_name),
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=f"{reference}.{_EXTENSIONS[attachment.content_type]}",
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
