"""The server-rendered Home tab and its chart JSON, through the real URL routes."""

from __future__ import annotations

import re
from datetime import date
from html import unescape
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from events.periods import Period
from events.services import crm_users_upsert
from tenancy.models import Membership, Workspace
from tests.conftest import journeys
from views_home import selectors
from views_home.queries import HomeQuery

pytestmark = pytest.mark.django_db

AS_OF = "2025-10-21"  # a Tuesday; the 7-day period is Oct 15–21, the previous one Oct 8–14
QUERY = {"as_of": AS_OF, "days": "7"}


def login(client: Client, username: str = "ada", *, workspace: Workspace | None = None, **extra: Any) -> Any:
    user = get_user_model().objects.create_user(username=username, password="pw-not-used", **extra)
    if workspace is not None:
        Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.VIEWER)
    client.force_login(user)
    return user


@pytest.fixture
def shanghai(make_workspace: Any) -> Workspace:
    """A workspace in Asia/Shanghai (UTC+8) with three users and a hand-made history.

    Current period (Oct 15–21): alice 3 events on 2 days (one at 01:30 local on Oct 21, which is
    still Oct 20 in UTC), bob 1 event; carol none. Previous period (Oct 8–14): alice 1, bob 3 on
    3 days, carol 1. One event of alice falls on Oct 22 local (Oct 21 in UTC) and must not count.
    """
    workspace = make_workspace("sh", tz="Asia/Shanghai")[0]
    journeys(
        workspace,
        [
            # current period
            ("alice", "2025-10-15T09:00:00+08:00", "Leads", "view", "list_view"),
            ("alice", "2025-10-15T09:05:00+08:00", "Leads", "create"),
            ("alice", "2025-10-20T17:30:00+00:00", "Deals", "view"),  # Oct 21 01:30 in Shanghai
            ("bob", "2025-10-16T11:00:00+08:00", "Contacts", "view"),
            # after as_of in Shanghai (still Oct 21 in UTC)
            ("alice", "2025-10-21T16:30:00+00:00", "Leads", "view"),
            # previous period
            ("alice", "2025-10-08T10:00:00+08:00", "Leads", "view"),
            ("bob", "2025-10-10T10:00:00+08:00", "Leads", "view"),
            ("bob", "2025-10-11T10:00:00+08:00", "Leads", "view"),
            ("bob", "2025-10-12T10:00:00+08:00", "Calendar", "view"),
            ("carol", "2025-10-09T10:00:00+08:00", "Leads", "view"),
        ],
    )
    crm_users_upsert(
        workspace=workspace,
        rows=[
            {"external_id": "alice", "name": "Alice Liu", "email": "alice@zylker.test", "country": "CN"},
            {"external_id": "bob", "name": "Bob Singh", "email": "bob@zylker.test", "country": "IN"},
            {"external_id": "carol", "email": "carol@zylker.test", "country": "CN"},
        ],
    )
    return workspace


def home_url(slug: str = "sh") -> str:
    return reverse("home-tab", kwargs={"slug": slug})


def chart_url(slug: str = "sh") -> str:
    return reverse("home-chart-weekly-interactions", kwargs={"slug": slug})


def text_of(html: str) -> str:
    """The visible text, whitespace collapsed, for assertions that ignore markup."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def card_text(html: str, key: str) -> str:
    match = re.search(rf'<li class="card metric" data-metric="{key}">(.*?)</li>', html, flags=re.S)
    assert match, f"no card for {key}"
    return text_of(match.group(1))


# --- access -----------------------------------------------------------------------------------------


def test_pages_require_login(client: Client, shanghai: Workspace) -> None:
    for url in (reverse("home"), home_url(), chart_url()):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_non_member_gets_404(client: Client, shanghai: Workspace, make_workspace: Any) -> None:
    other = make_workspace("other")[0]
    login(client, workspace=other)
    assert client.get(home_url()).status_code == 404
    assert client.get(chart_url()).status_code == 404
    assert client.get(home_url("no-such-workspace")).status_code == 404


def test_root_redirects_to_first_workspace_and_keeps_query(client: Client, make_workspace: Any) -> None:
    beta, alpha = make_workspace("beta")[0], make_workspace("alpha")[0]
    user = login(client, workspace=beta)
    Membership.objects.create(workspace=alpha, user=user)
    response = client.get(reverse("home"), {"days": "7"})
    assert response.status_code == 302
    assert response["Location"] == home_url("alpha") + "?days=7"


def test_root_without_workspace_explains_what_to_do(client: Client, db: Any) -> None:
    login(client)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    text = text_of(response.content.decode())
    assert "You are not a member of any workspace yet" in text
    assert "manage.py create_workspace" in text
    assert reverse("admin:index") not in response.content.decode()  # not staff


def test_staff_sees_admin_link(client: Client, db: Any) -> None:
    login(client, is_staff=True)
    response = client.get(reverse("home"))
    assert f'href="{reverse("admin:index")}"' in response.content.decode()


def test_login_page_renders_and_logs_in(client: Client, shanghai: Workspace) -> None:
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
    user = get_user_model().objects.create_user(username="grace", password="correct horse battery")
    Membership.objects.create(workspace=shanghai, user=user)
    response = client.post(reverse("login"), {"username": "grace", "password": "correct horse battery"})
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).redirect_chain[-1][0] == home_url()


# --- the figures --------------------------------------------------------------------------------------


def test_member_sees_the_selector_figures(client: Client, shanghai: Workspace) -> None:
    login(client, workspace=shanghai)
    response = client.get(home_url(), QUERY)
    assert response.status_code == 200
    html = response.content.decode()

    period = Period.ending(date(2025, 10, 21), 7, shanghai.tzinfo)
    assert response.context["summary"] == selectors.home_summary(HomeQuery.over(shanghai, period))

    assert card_text(html, "interactions").startswith("Interactions 4 ▼ 20.0% fall Previous period: 5")
    assert card_text(html, "features_used").startswith("Features used 3 ▲ 50.0% rise Previous period: 2")
    assert card_text(html, "attendance_days").startswith("Attendance (user-days) 3 ▼ 40.0% fall Previous period: 5")
    assert card_text(html, "active_users").startswith("Active users 2 ▼ 33.3% fall Previous period: 3")
    # No inactive user in the previous period: no change to show.
    assert card_text(html, "inactive_users").startswith("Inactive users 1 — no change to show: nothing to compare")
    # A rise of inactive users would be bad news; a fall of interactions is.
    assert 'metric__change--bad" data-change="-20.0"' in html
    assert 'metric__change--good" data-change="50.0"' in html

    text = text_of(html)
    assert "Last 7 days: Oct 15, 2025 – Oct 21, 2025" in text
    assert "compared with Oct 8, 2025 – Oct 14, 2025" in text

    # Interactions per week (table under the chart): the Monday weeks of the period, each counted
    # inside it (Oct 15–19, then Oct 20–21), so that they add up to the interactions card.
    weeks = [(r.week_start.isoformat(), r.first.isoformat(), r.interactions) for r in response.context["week_rows"]]
    assert weeks == [("2025-10-13", "2025-10-15", 3), ("2025-10-20", "2025-10-20", 1)]
    assert sum(n for *_days, n in weeks) == response.context["summary"].interactions.value == 4
    assert "Oct 15 – Oct 19, 2025 3" in text
    assert "Oct 20 – Oct 21, 2025 so far 1" in text

    # Attendance calendar: the period's days (Oct 15–21), laid out Monday to Sunday.
    rows = response.context["calendar_rows"]
    assert [row.week_start for row in rows] == [date(2025, 10, 13), date(2025, 10, 20)]
    assert rows[0].cells[:2] == [None, None]  # Oct 13–14 are before the period
    assert rows[-1].cells[2:] == [None] * 5  # Oct 22–26 are after as_of
    assert 'title="Tue, Oct 21, 2025: 1 active user"' in html
    assert 'title="Wed, Oct 15, 2025: 1 active user"' in html
    assert 'title="Fri, Oct 17, 2025: 0 active users"' in html
    assert "Oct 11, 2025" not in html  # before the period: not in the calendar

    # Top users: name, email, external id and value, from the selector.
    top = re.search(r'<table class="table" id="top-interactions">(.*?)</table>', html, flags=re.S)
    assert top
    assert (
        "1 Alice Liu alice@zylker.test External ID: alice 3 2 Bob Singh bob@zylker.test External ID: bob 1"
        in text_of(top.group(1))
    )
    top = re.search(r'<table class="table" id="top-attendance">(.*?)</table>', html, flags=re.S)
    assert top
    assert (
        "1 Alice Liu alice@zylker.test External ID: alice 2 2 Bob Singh bob@zylker.test External ID: bob 1"
        in text_of(top.group(1))
    )


def test_user_filters_apply_and_offer_the_workspace_values(client: Client, shanghai: Workspace) -> None:
    login(client, workspace=shanghai)
    response = client.get(home_url(), {**QUERY, "country": "CN"})
    assert response.status_code == 200
    html = response.content.decode()
    assert card_text(html, "interactions").startswith("Interactions 3 ")  # alice only
    assert card_text(html, "inactive_users").startswith("Inactive users 1 ")  # carol (CN)
    # Options are the distinct values of the workspace's users, the chosen one ticked.
    assert re.search(r'<input type="checkbox" name="country" value="CN"[^>]*checked', html)
    assert re.search(r'<input type="checkbox" name="country" value="IN"(?![^>]*checked)', html)
    # The chart URL carries the same filters.
    canvas = re.search(r'data-chart-url="([^"]+)"', html)
    assert canvas and "country=CN" in unescape(canvas.group(1))


def test_csv_links_carry_the_query_and_download(client: Client, shanghai: Workspace) -> None:
    login(client, workspace=shanghai)
    html = client.get(home_url(), QUERY).content.decode()
    links = [unescape(href) for href in re.findall(r'<a class="csv-link" href="([^"]+)"', html)]
    base = "/api/v1/workspaces/sh/home/"
    assert {link.split("?")[0] for link in links} == {
        base + "summary",
        base + "weekly-interactions",
        base + "attendance-calendar",
        base + "top-users",
    }
    weekly = next(link for link in links if "weekly-interactions" in link)
    # The weekly table follows the period, so its CSV asks for the period's days (Oct 15–21).
    assert "format=csv" in weekly and "start=2025-10-15&end=2025-10-21" in weekly
    response = client.get(weekly)  # the session works for the API
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines() == ["week_start,interactions", "2025-10-13,3", "2025-10-20,1"]
    summary = next(link for link in links if "summary" in link)
    assert f"as_of={AS_OF}" in summary and "days=7" in summary
    top = [link for link in links if "top-users" in link]
    assert any("by=attendance" in link for link in top) and any("by=interactions" in link for link in top)


def test_chart_json_is_exactly_labels_and_datasets(client: Client, shanghai: Workspace) -> None:
    login(client, workspace=shanghai)
    response = client.get(chart_url(), QUERY)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) == {"labels", "datasets"}
    assert data["labels"] == ["2025-09-22", "2025-09-29", "2025-10-06", "2025-10-13", "2025-10-20"]
    assert len(data["datasets"]) == 1
    dataset = data["datasets"][0]
    assert set(dataset) == {"label", "data", "backgroundColor", "borderColor"}
    assert dataset["label"] == "Interactions"
    assert dataset["data"] == [0, 0, 5, 3, 1]
    assert dataset["borderColor"] == "rgb(54, 162, 235)"  # Chart.js 4's first default colour

    filtered = client.get(chart_url(), {**QUERY, "country": "IN"}).json()
    assert filtered["datasets"][0]["data"] == [0, 0, 3, 1, 0]


def test_chart_json_rejects_a_bad_query(client: Client, shanghai: Workspace) -> None:
    login(client, workspace=shanghai)
    response = client.get(chart_url(), {"as_of": "2025-02-30"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"as_of"}


def test_page_wires_the_chart_without_inline_script(client: Client, shanghai: Workspace) -> None:
    login(client, workspace=shanghai)
    html = client.get(home_url(), QUERY).content.decode()
    assert "/static/vendor/chart.js-4.6.1/chart.umd.min.js" in html
    assert "/static/js/charts.js" in html  # the one chart loader of every page
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []  # every script is a file
    assert "cdn" not in html.lower()
    assert f'data-chart-url="{chart_url()}?start=2025-10-15&amp;end=2025-10-21"' in html


def test_workspace_switcher_and_tabs(client: Client, shanghai: Workspace, make_workspace: Any) -> None:
    other = make_workspace("acme2")[0]
    user = login(client, workspace=shanghai)
    Membership.objects.create(workspace=other, user=user)
    html = client.get(home_url(), QUERY).content.decode()
    assert f'href="{home_url("acme2")}?as_of={AS_OF}&amp;days=7"' in html
    assert 'aria-current="page"' in html and ">Home</a>" in html
    # Every tab links to the same workspace and keeps the period and filters in its query.
    for name, path in (("Activity", "activity"), ("Trends", "trends"), ("Hub", "hub")):
        assert f'href="/w/{shanghai.slug}/{path}/?as_of={AS_OF}&amp;days=7">{name}</a>' in html
    assert 'action="/accounts/logout/"' in html and 'method="post"' in html


# --- invalid input and empty states -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"as_of": "2025-13-40"}, "as_of", "Enter a date as YYYY-MM-DD."),
        ({"as_of": "yesterday"}, "as_of", "Enter a date as YYYY-MM-DD."),
        ({"as_of": "0001-01-01"}, "as_of", "Choose a date between 1970-01-01 and 2999-12-31."),
        ({"days": "0"}, "days", "Ensure this value is greater than or equal to 1."),
        ({"days": "732"}, "days", "Ensure this value is less than or equal to 731."),
        ({"days": "ten"}, "days", "Enter a whole number."),
        ({"status": "sleeping"}, "status", "Unknown status: sleeping."),
    ],
)
def test_invalid_query_shows_the_error_in_the_form(
    client: Client, shanghai: Workspace, query: dict[str, str], field: str, message: str
) -> None:
    login(client, workspace=shanghai)
    response = client.get(home_url(), query)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert message in text_of(response.content.decode())
    assert "csv-link" not in response.content.decode()  # no figures for a query that is not valid


def test_empty_state_without_events(client: Client, make_workspace: Any) -> None:
    workspace = make_workspace("fresh")[0]
    login(client, workspace=workspace)
    response = client.get(home_url("fresh"))
    assert response.status_code == 200
    text = text_of(response.content.decode())
    assert "No events yet" in text
    assert "curl -X POST http://testserver/api/v1/events/batch" in text
    assert "Authorization: Bearer <ingest key>" in text
    assert "manage.py import_events events.csv --workspace fresh" in text
    assert "data-chart-url" not in response.content.decode()


def test_top_users_link_to_their_user_page(client: Client, shanghai: Workspace) -> None:
    login(client, workspace=shanghai)
    html = client.get(home_url(), QUERY).content.decode()
    assert f'href="/w/{shanghai.slug}/users/alice/?as_of={AS_OF}&amp;days=7"' in html
    detail = client.get(f"/w/{shanghai.slug}/users/alice/", QUERY)
    assert detail.status_code == 200


def test_an_admin_creates_an_ingest_key_from_the_empty_state(client: Client, make_workspace: Any) -> None:
    from tenancy.models import AuditEntry, IngestKey

    empty = make_workspace("empty")[0]
    user = login(client, workspace=empty)
    Membership.objects.filter(user=user).update(role=Membership.Role.ADMIN)
    html = client.get(f"/w/{empty.slug}/").content.decode()
    assert f'action="/w/{empty.slug}/ingest-keys/new/"' in html
    page = client.post(f"/w/{empty.slug}/ingest-keys/new/").content.decode()
    raw = re.search(r'<code id="ingest-key">([^<]+)</code>', page).group(1)
    assert IngestKey.objects.filter(workspace=empty, digest=IngestKey.digest_of(raw)).exists()
    assert AuditEntry.objects.filter(workspace=empty, action="key_issued").exists()


def test_a_viewer_gets_no_key_button_and_a_403(client: Client, make_workspace: Any) -> None:
    empty = make_workspace("empty")[0]
    login(client, workspace=empty)
    assert "ingest-keys/new" not in client.get(f"/w/{empty.slug}/").content.decode()
    assert client.post(f"/w/{empty.slug}/ingest-keys/new/").status_code == 403
