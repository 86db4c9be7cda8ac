"""The console's list of leads as staff work it all day: tags, saved views, page size, sort
links, the columns of the dense table, and the markup the keyboard shortcuts rely on."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditEvent,
    ClinicResponse,
    Lead,
    LeadStatus,
    LeadTag,
    SavedView,
    StaffUser,
    Tag,
)
from app.services.leads import saved_views, tags
from app.services.leads.processing import process_lead
from tests.support.checks import statements_run
from tests.support.clock import NOW
from tests.support.factories import STAFF_PASSWORD, make_clinic, make_lead, make_staff
from tests.support.forms import post, submit
from tests.support.policies import PROCESSING


@pytest.fixture
def three(app: Flask) -> list[Lead]:
    return [
        make_lead(
            full_name=name,
            email=f"p{n}@example.com",
            phone=f"+7701555000{n}",
            created_at=NOW - timedelta(hours=n),
        )
        for n, name in enumerate(("Aigerim Testova", "Olga Samplebek", "Yuki Fictiv"))
    ]


@pytest.fixture
def colleague(app: Flask) -> StaffUser:
    return make_staff("colleague@careroute.test")


@pytest.fixture
def colleague_client(app: Flask, colleague: StaffUser) -> FlaskClient:
    client = app.test_client()
    response = submit(
        client, "/staff/login", {"email": colleague.email, "password": STAFF_PASSWORD}
    )
    assert response.status_code == 302
    return client


def listed(client: FlaskClient, query: str = "") -> set[str]:
    html = client.get(f"/staff/leads?{query}").text
    return set(re.findall(r"data-open>([A-Z0-9-]+)<", html))


# Tags


def test_a_tag_added_on_the_lead_page_is_normalised_shown_and_audited(
    staff_client: FlaskClient, three: list[Lead]
):
    lead = three[0]
    post(staff_client, f"/staff/leads/{lead.id}/tags", {"tag": "  Call  BACK "})

    page = staff_client.get(f"/staff/leads/{lead.id}").text
    assert "call back" in page and 'aria-label="Remove the tag call back"' in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "lead.tag_added"))
    assert (event.object_id, event.changes) == (lead.id, {"tag": "call back"})


def test_the_same_word_typed_twice_is_one_tag(staff_user: StaffUser, three: list[Lead]):
    tags.add_tag(db.session, three[0].id, staff_user.id, "VIP")
    assert tags.add_tag(db.session, three[0].id, staff_user.id, "vip ") == 0
    tags.add_tag(db.session, three[1].id, staff_user.id, "Vip")

    assert db.session.scalars(select(Tag.name)).all() == ["vip"]
    assert len(db.session.scalars(select(LeadTag)).all()) == 2


@pytest.mark.parametrize(
    ("name", "why"), [("   ", "a tag needs a name"), ("x" * 41, "at most 40 characters")]
)
def test_a_tag_without_a_name_or_too_long_is_refused(
    staff_client: FlaskClient, three: list[Lead], name: str, why: str
):
    response = post(staff_client, f"/staff/leads/{three[0].id}/tags", {"tag": name})

    assert why in staff_client.get(response.headers["Location"]).text
    assert db.session.scalar(select(Tag)) is None


def test_removing_a_tag_takes_it_off_the_lead_and_is_audited(
    staff_client: FlaskClient, staff_user: StaffUser, three: list[Lead]
):
    tags.add_tag(db.session, three[0].id, staff_user.id, "callback")
    tag = db.session.scalar(select(Tag))

    post(staff_client, f"/staff/leads/{three[0].id}/tags/{tag.id}/remove", {})

    assert db.session.scalar(select(LeadTag)) is None
    assert "lead.tag_removed" in db.session.scalars(select(AuditEvent.action)).all()
    again = post(staff_client, f"/staff/leads/{three[0].id}/tags/{tag.id}/remove", {})
    assert again.status_code == 404


def test_bulk_add_tag_and_filter_by_it(staff_client: FlaskClient, three: list[Lead]):
    response = post(
        staff_client,
        "/staff/leads/bulk",
        {"action": "tag", "tag": "Visa", "lead": [three[0].id, three[2].id]},
    )

    assert "2 leads tagged." in staff_client.get(response.headers["Location"]).text
    assert listed(staff_client, "tag=visa") == {three[0].reference, three[2].reference}
    assert listed(staff_client, "tag=VISA") == {three[0].reference, three[2].reference}
    assert listed(staff_client, "tag=unknown") == set()
    html = staff_client.get("/staff/leads").text
    assert '<option value="visa">visa</option>' in html  # the filter bar's select


def in_order(client: FlaskClient, query: str) -> list[str]:
    return re.findall(r"data-open>([A-Z0-9-]+)<", client.get(f"/staff/leads?{query}").text)


def test_a_tags_leads_follow_the_lists_order_and_each_leads_latest_activity(
    staff_client: FlaskClient, staff_user: StaffUser, three: list[Lead]
):
    """The tag's list is read from the tag's own copy of each lead's times: a lead touched
    after it was tagged moves to the top of "latest activity" all the same."""
    _newest, middle, oldest = three
    tags.add_to_leads(db.session, [lead.id for lead in three], staff_user.id, "callback")
    tags.add_tag(db.session, middle.id, staff_user.id, "vip")
    references = [lead.reference for lead in three]

    assert in_order(staff_client, "tag=callback") == references
    oldest.status = LeadStatus.CONTACTED
    oldest.updated_at = max(lead.updated_at for lead in three) + timedelta(minutes=5)
    db.session.commit()
    by_activity = in_order(staff_client, "tag=callback&sort=activity")
    assert by_activity[0] == oldest.reference
    assert in_order(staff_client, "tag=callback&sort=activity&per_page=25") == by_activity
    assert in_order(staff_client, "tag=callback&status=contacted") == [oldest.reference]
    assert in_order(staff_client, "tag=vip&sort=activity") == [middle.reference]


def test_a_tags_list_pages_on_in_order(staff_client: FlaskClient, staff_user: StaffUser):
    leads = [
        make_lead(email=f"q{n}@example.com", created_at=NOW - timedelta(minutes=n))
        for n in range(30)
    ]
    tags.add_to_leads(db.session, [lead.id for lead in leads], staff_user.id, "visa")

    html = staff_client.get("/staff/leads?tag=visa&per_page=25").text
    first = re.findall(r"data-open>([A-Z0-9-]+)<", html)
    next_link = unescape(re.search(r'href="([^"]*after=[^"]*)"', html).group(1))
    second = in_order(staff_client, next_link.split("?", 1)[1])

    assert first + second == [lead.reference for lead in leads]


# Saved views


def save(client: FlaskClient, name: str, query: str, shared: bool = False) -> None:
    data = {"name": name, "query": query, **({"shared": "y"} if shared else {})}
    response = post(client, "/staff/leads/views", data)
    assert response.status_code == 302, response.text


def test_a_private_view_is_its_owners_tab_only(
    staff_client: FlaskClient, colleague_client: FlaskClient, three: list[Lead]
):
    save(staff_client, "Kazakh leads", "country=kz&sort=activity&per_page=25&bogus=1")

    view = db.session.scalar(select(SavedView))
    assert view.query == "country=KZ&sort=activity&per_page=25"  # what the list understands
    assert "Kazakh leads" in staff_client.get("/staff/leads").text
    assert "Kazakh leads" not in colleague_client.get("/staff/leads").text
    refused = post(colleague_client, f"/staff/leads/views/{view.id}/delete", {})
    assert refused.status_code == 404
    assert db.session.scalar(select(SavedView)) is not None


def test_a_shared_view_is_everyones_tab_and_only_its_owner_deletes_it(
    staff_client: FlaskClient, colleague_client: FlaskClient, three: list[Lead]
):
    save(staff_client, "Unassigned", "assignee=unassigned", shared=True)
    view = db.session.scalar(select(SavedView))

    theirs = colleague_client.get("/staff/leads").text
    assert 'Unassigned</a> <span class="meta">(shared)</span>' in theirs
    assert f"/staff/leads/views/{view.id}/delete" not in theirs
    assert post(colleague_client, f"/staff/leads/views/{view.id}/delete", {}).status_code == 404

    post(staff_client, f"/staff/leads/views/{view.id}/delete", {})
    assert db.session.scalar(select(SavedView)) is None
    assert "Unassigned</a> <span" not in colleague_client.get("/staff/leads").text


def test_the_view_being_looked_at_is_marked_current(staff_client: FlaskClient, three: list[Lead]):
    save(staff_client, "Newest KZ", "country=KZ")

    current = staff_client.get("/staff/leads?country=kz").text
    other = staff_client.get("/staff/leads?country=MN").text
    assert '<a href="/staff/leads?country=KZ" aria-current="page">Newest KZ</a>' in current
    assert '<a href="/staff/leads?country=KZ">Newest KZ</a>' in other


def test_a_view_without_a_name_comes_back_with_the_error_and_the_list(
    staff_client: FlaskClient, three: list[Lead]
):
    response = post(staff_client, "/staff/leads/views", {"name": " ", "query": "country=KZ"})

    assert response.status_code == 422
    assert "Please give the view a name." in response.text
    assert 'value="country=KZ"' in response.text  # the filters are kept for the next try
    assert listed(staff_client) == {lead.reference for lead in three}
    assert db.session.scalar(select(SavedView)) is None


def test_saving_under_a_name_again_replaces_the_owners_view(
    staff_user: StaffUser, colleague: StaffUser
):
    saved_views.save_view(db.session, staff_user.id, "Mine", "assignee=mine", shared=False)
    saved_views.save_view(db.session, staff_user.id, "Mine", "assignee=mine&tag=vip", True)
    saved_views.save_view(db.session, colleague.id, "Mine", "", shared=False)

    views = saved_views.visible_views(db.session, staff_user.id)
    assert [(v.name, v.query, v.shared) for v in views] == [("Mine", "assignee=mine&tag=vip", True)]


# Page size and sorting


@pytest.mark.parametrize(("asked", "shown"), [("25", 25), ("100", 30), ("7", 30), ("", 30)])
def test_the_page_size_is_chosen_from_the_offered_sizes(
    staff_client: FlaskClient, app: Flask, asked: str, shown: int
):
    for n in range(30):
        make_lead(email=f"p{n}@example.com", created_at=NOW - timedelta(minutes=n))

    html = staff_client.get(f"/staff/leads?per_page={asked}").text

    assert html.count("data-lead-row") == shown
    assert ("Next page" in html) == (shown < 30)


def test_sortable_headers_are_links_that_say_how_the_list_is_sorted(
    staff_client: FlaskClient, three: list[Lead]
):
    html = staff_client.get("/staff/leads?sort=activity&country=KZ").text

    headers = re.findall(r'<th scope="col" aria-sort="(\w+)"><a href="([^"]+)"', html)
    links = {parse_qs(urlsplit(unescape(href)).query)["sort"][0]: order for order, href in headers}
    assert links == {"created": "none", "activity": "descending", "status": "none"}
    assert all("country=KZ" in href for _order, href in headers)  # the filters stay
    by_status = staff_client.get("/staff/leads?sort=status").text
    assert 'aria-sort="ascending"><a href="/staff/leads?sort=status"' in by_status


# The table's columns


def test_each_row_shows_its_clinics_answers_waiting_time_assignee_and_tags(
    staff_client: FlaskClient, staff_user: StaffUser, three: list[Lead]
):
    make_clinic("Alpha Test Clinic")
    make_clinic("Beta Test Clinic")
    make_clinic("Gamma Test Clinic")
    lead = three[0]
    process_lead(db.session, lead.id, PROCESSING, now=NOW)
    db.session.refresh(lead)
    first, second, third = lead.assignments
    first.response = ClinicResponse.QUOTED
    second.expired_at = NOW
    lead.assigned_to_id = staff_user.id
    db.session.commit()
    tags.add_tag(db.session, lead.id, staff_user.id, "callback")

    html = staff_client.get("/staff/leads").text
    row = next(r for r in html.split("<tr data-lead-row>") if lead.reference in r)

    assert f"{first.clinic.name}: <strong>quoted</strong>" in row
    assert f"{second.clinic.name}: <strong>expired</strong>" in row
    assert f"{third.clinic.name}: <strong>waiting</strong>" in row
    assert "triager</td>" in row  # the assignee, by the name part of their address
    assert "<li>callback</li>" in row
    assert "KZ · ru" in row
    assert re.search(r"<time datetime=[^>]+>\d+ d</time>", row)  # waiting since NOW


def test_a_page_of_leads_costs_the_same_queries_however_many_rows(
    staff_client: FlaskClient, staff_user: StaffUser, app: Flask
):
    make_clinic("Alpha Test Clinic")

    def queries_for_a_page_of(count: int) -> int:
        for n in range(count):
            lead = make_lead(email=f"q{count}-{n}@example.com", assigned_to_id=staff_user.id)
            process_lead(db.session, lead.id, PROCESSING, now=NOW)
            tags.add_tag(db.session, lead.id, staff_user.id, f"t{n % 3}")
        with statements_run() as statements:
            staff_client.get("/staff/leads")
        return len(statements)

    assert queries_for_a_page_of(2) == queries_for_a_page_of(10)


# Keyboard


def test_the_list_carries_what_the_keyboard_shortcuts_rely_on(
    staff_client: FlaskClient, three: list[Lead]
):
    html = staff_client.get("/staff/leads").text

    assert html.count("<tr data-lead-row>") == 3
    for lead in three:
        assert f'href="/staff/leads/{lead.id}" data-open>' in html
    assert 'id="q" name="q" value="" data-search>' in html
    assert re.search(r"<dialog [^>]*data-key-help>", html)
    assert '<details class="key-help">' in html  # the same help without JavaScript
    assert html.count("<kbd>j</kbd>") == 2
    assert '<script src="/static/console-keys.js" defer></script>' in html
    assert "<script>" not in html and " onclick=" not in html


def test_the_keyboard_script_is_served_and_finds_rows_by_their_data_attributes(client: FlaskClient):
    response = client.get("/static/console-keys.js")

    assert response.status_code == 200
    script = response.text
    for hook in ("[data-lead-row]", "[data-open]", "[data-search]", "[data-key-help]"):
        assert hook in script
    assert "showModal" in script and "scrollIntoView" in script


def test_each_row_says_when_staff_owe_the_patient_a_first_reply(staff_client: FlaskClient):
    overdue = make_lead(email="late@example.com", staff_due_at=NOW - timedelta(days=20))
    answered = make_lead(
        email="done@example.com",
        staff_due_at=NOW - timedelta(days=20),
        staff_responded_at=NOW - timedelta(days=21),
    )

    rows = {
        lead.reference: row
        for row in re.findall(
            r"<tr data-lead-row>.*?</tr>", staff_client.get("/staff/leads").text, re.S
        )
        for lead in (overdue, answered)
        if lead.reference in row
    }

    assert 'class="clock clock-overdue">overdue<' in rows[overdue.reference]
    assert 'class="clock">answered<' in rows[answered.reference]
