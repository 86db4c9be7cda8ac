"""Security headers on every response, error pages included."""

from __future__ import annotations

from flask import Response, current_app

# No inline script anywhere, so the policy can forbid it outright.
_POLICY = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
]
CONTENT_SECURITY_POLICY = "; ".join([*_POLICY, "frame-ancestors 'none'"])


def framed_by(origins: list[str]) -> str:
    """The policy of a page a partner may frame: only from its registered origins."""
    ancestors = " ".join(origins) if origins else "'none'"
    return "; ".join([*_POLICY, f"frame-ancestors {ancestors}"])


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]:
        # Old browsers read only this; a page framed by a partner relies on the policy.
        response.headers["X-Frame-Options"] = "DENY"
    if current_app.config["HSTS"]:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response
