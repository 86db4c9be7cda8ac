"""Sending patient files and records to the people allowed to see them: the patient, staff
and the clinics a lead was routed to. Always a download, never cached."""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any

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


def send_record(document: dict[str, Any], filename: str) -> Response:
    """A patient's records as a JSON file (their own copy, or staff's check of it)."""
    response = Response(
        json.dumps(document, indent=2, ensure_ascii=False), mimetype="application/json"
    )
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    response.headers["Cache-Control"] = "no-store"
    return response
