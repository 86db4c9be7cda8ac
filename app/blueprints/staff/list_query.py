"""The lead list's query string: read into filters (a value that makes no sense is ignored,
never an error page), and written back one way (what a saved view stores and how the
current view is recognised)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from app.models import LeadStatus
from app.services.leads.queries import FLAGS, PAGE_SIZES, SORTS, LeadFilters


def filters_from(args: MultiDict[str, str]) -> LeadFilters:
    """Read the query string; a value that makes no sense is ignored, not an error page."""

    def one_of(name: str, allowed: tuple[str, ...] | set[str]) -> str | None:
        value = args.get(name) or None
        return value if value in allowed else None

    def day(name: str) -> date | None:
        try:
            return date.fromisoformat(args.get(name, ""))
        except ValueError:
            return None

    clinic = args.get("clinic", "")
    source = args.get("source", "")
    return LeadFilters(
        status=one_of("status", {s.value for s in LeadStatus}),
        procedure=args.get("procedure") or None,
        country=(args.get("country") or "").upper()[:2] or None,
        language=args.get("language") or None,
        clinic_id=int(clinic) if clinic.isdigit() else None,
        source=source if re.fullmatch(r"web|api|partner(-\d+)?", source) else None,
        assignee=args.get("assignee") or None,
        created_from=day("from"),
        created_to=day("to"),
        flags=tuple(flag for flag in args.getlist("flag") if flag in FLAGS),
        search=(args.get("q") or "").strip() or None,
        tag=" ".join((args.get("tag") or "").split()).lower() or None,
        sort=one_of("sort", SORTS) or "created",
    )


def per_page_from(args: MultiDict[str, str]) -> int:
    value = args.get("per_page", "")
    return int(value) if value.isdigit() and int(value) in PAGE_SIZES else 50


def query_of(filters: LeadFilters, per_page: int) -> str:
    """The list's query string for these filters, written one way whatever the URL said
    (what a saved view stores, and how the current view is recognised)."""
    pairs: list[tuple[str, Any]] = [
        ("status", filters.status),
        ("q", filters.search),
        ("procedure", filters.procedure),
        ("country", filters.country),
        ("language", filters.language),
        ("clinic", filters.clinic_id),
        ("source", filters.source),
        ("assignee", filters.assignee),
        ("tag", filters.tag),
        ("from", filters.created_from and filters.created_from.isoformat()),
        ("to", filters.created_to and filters.created_to.isoformat()),
        *(("flag", flag) for flag in filters.flags),
        ("sort", filters.sort if filters.sort != "created" else None),
        ("per_page", per_page if per_page != 50 else None),
    ]
    return urlencode([(key, value) for key, value in pairs if value])
