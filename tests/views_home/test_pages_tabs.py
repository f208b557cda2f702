"""The server-rendered Activity, Trends and Hub tabs and their chart JSON, through the real URL routes.

One hand-made workspace in Asia/Shanghai (UTC+8); every expected number below is counted by hand from
the events listed in ``shanghai``.
"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tenancy.models import Membership, Workspace
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

LOCAL = "+08:00"


@pytest.fixture
def shanghai(make_workspace: Any) -> Workspace:
    """Three users; local dates (Asia/Shanghai) in the comments.

    alice (CN): Sep 30 Leads view/list_view · Oct 8 Leads view/kanban_view · Oct 15 Leads view/list_view
                and Leads create · Oct 21 01:30 Deals view (Oct 20 in UTC) · Oct 22 00:30 Leads view
                (Oct 21 in UTC: after every range below)
    bob (IN):   Sep 29 Leads view · Oct 10 and Oct 11 Leads view/list_view · Oct 12 Calendar view ·
                Oct 16 Contacts view
    carol (CN): Oct 9 Leads view · Oct 20 23:59 Leads export
    """
    workspace = make_workspace("sh", tz="Asia/Shanghai")[0]
    journeys(
        workspace,
        [
            ("alice", f"2025-09-30T10:00:00{LOCAL}", "Leads", "view", "list_view"),
            ("alice", f"2025-10-08T10:00:00{LOCAL}", "Leads", "view", "kanban_view"),
            ("alice", f"2025-10-15T09:00:00{LOCAL}", "Leads", "view", "list_view"),
            ("alice", f"2025-10-15T09:05:00{LOCAL}", "Leads", "create"),
            ("alice", "2025-10-20T17:30:00+00:00", "Deals", "view"),
            ("alice", "2025-10-21T16:30:00+00:00", "Leads", "view"),
            ("bob", f"2025-09-29T10:00:00{LOCAL}", "Leads", "view"),
            ("bob", f"2025-10-10T10:00:00{LOCAL}", "Leads", "view", "list_view"),
            ("bob", f"2025-10-11T10:00:00{LOCAL}", "Leads", "view", "list_view"),
            ("bob", f"2025-10-12T10:00:00{LOCAL}", "Calendar", "view"),
            ("bob", f"2025-10-16T11:00:00{LOCAL}", "Contacts", "view"),
            ("carol", f"2025-10-09T10:00:00{LOCAL}", "Leads", "view"),
            ("carol", f"2025-10-20T23:59:00{LOCAL}", "Leads", "export"),
        ],
    )
    crm_users(
        workspace,
        [
            {"external_id": "alice", "name": "Alice Liu", "email": "alice@zylker.test", "country": "CN"},
            {"external_id": "bob", "name": "Bob Singh", "email": "bob@zylker.test", "country": "IN"},
            {"external_id": "carol", "email": "carol@zylker.test", "country": "CN"},
        ],
    )
    return workspace


def login(client: Client, workspace: Workspace | None, username: str = "ada") -> Any:
    user = get_user_model().objects.create_user(username=username, password="pw-not-used")
    if workspace is not None:
        Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.VIEWER)
    client.force_login(user)
    return user


@pytest.fixture
def member(client: Client, shanghai: Workspace) -> Client:
    login(client, shanghai)
    return client


def url(name: str, slug: str = "sh") -> str:
    return reverse(name, kwargs={"slug": slug})


def text_of(html: str) -> str:
    """The visible text, whitespace collapsed, for assertions that ignore markup."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """The text of each body row's cells of one table."""
    match = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', html, flags=re.S)
    assert match, f"no table {table_id}"
    body = re.search(r"<tbody>(.*?)</tbody>", match.group(1), flags=re.S)
    assert body
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), flags=re.S)
    return [[text_of(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)] for row in rows]


def csv_links(html: str) -> dict[str, dict[str, list[str]]]:
    """Each CSV link's path → its query (parsed)."""
    links = [unescape(href) for href in re.findall(r'<a class="csv-link" href="([^"]+)"', html)]
    return {urlsplit(link).path: parse_qs(urlsplit(link).query) for link in links}


def chart(client: Client, name: str, query: dict[str, Any]) -> dict[str, Any]:
    response = client.get(url(name), query)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    data: dict[str, Any] = response.json()
    assert set(data) == {"labels", "datasets"}
    for dataset in data["datasets"]:
        assert set(dataset) - {"borderDash"} == {"label", "data", "backgroundColor", "borderColor"}
    return data


def series(data: dict[str, Any]) -> dict[str, list[int]]:
    return {dataset["label"]: dataset["data"] for dataset in data["datasets"]}


PAGES = ("activity-tab", "trends-tab", "hub-tab")
CHARTS = ("activity-chart-features", "trends-chart", "hub-chart-popularity", "hub-chart-frequency")


# --- access -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES + CHARTS)
def test_login_required(client: Client, shanghai: Workspace, name: str) -> None:
    response = client.get(url(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("name", PAGES + CHARTS)
def test_non_member_gets_404(client: Client, shanghai: Workspace, make_workspace: Any, name: str) -> None:
    login(client, make_workspace("other")[0])
    assert client.get(url(name)).status_code == 404
    assert client.get(url(name, "no-such-workspace")).status_code == 404


def test_tabs_are_enabled_and_keep_the_query(member: Client) -> None:
    html = member.get(url("trends-tab"), {"feature": "Leads", "start": "2025-10-01", "end": "2025-10-21"}).content
    page = html.decode()
    for name in ("home-tab", "activity-tab", "hub-tab"):
        assert f'href="{url(name)}?feature=Leads&amp;start=2025-10-01&amp;end=2025-10-21"' in page
    assert re.search(r'class="tab is-active" href="[^"]+" aria-current="page">Trends</a>', page)


def test_a_range_from_another_tab_carries_over(member: Client) -> None:
    """as_of + days (Home, Activity) and start + end (Trends, Hub) are read as the same period."""
    trends = member.get(url("trends-tab"), {"as_of": "2025-10-21", "days": "7"})
    assert trends.context["query"].period.start.isoformat() == "2025-10-15"
    assert trends.context["query"].period.end.isoformat() == "2025-10-21"
    activity = member.get(url("activity-tab"), {"start": "2025-10-15", "end": "2025-10-21"})
    assert activity.context["period"].start.isoformat() == "2025-10-15"
    assert activity.context["period"].days == 7


# --- Activity -----------------------------------------------------------------------------------------

ACTIVITY = {"as_of": "2025-10-21", "days": "7"}  # Oct 15–21, previous period Oct 8–14


def test_activity_page_shows_summary_and_features(member: Client) -> None:
    response = member.get(url("activity-tab"), ACTIVITY)
    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(html)
    assert "Last 7 days: Oct 15, 2025 – Oct 21, 2025" in text
    # The Home summary cards: 5 events now (alice 3, bob 1, carol 1), 5 before (Oct 8, 9, 10, 11, 12).
    cards = re.search(r'<ul class="cards" role="list">(.*?)</ul>', html, flags=re.S)
    assert cards
    card_text = text_of(cards.group(1))
    assert "Interactions 5 = no change Previous period: 5" in card_text
    assert "Features used 3 ▲ 50.0% rise Previous period: 2" in card_text
    assert "Active users 3 = no change Previous period: 3" in card_text
    # Per feature, most interactions first; ties by name. Alice's Oct 22 (local) event is outside.
    assert table_rows(html, "feature-table") == [
        ["Draw Leads on the chart", "1", "Leads", "3"],
        ["Draw Contacts on the chart", "2", "Contacts", "1"],
        ["Draw Deals on the chart", "3", "Deals", "1"],
    ]
    # The top five are ticked for the chart by default; each name links to its trend.
    assert len(re.findall(r'name="lines" value="[^"]+" checked', html)) == 3
    assert f'href="{url("trends-tab")}?feature=Leads&amp;start=2025-10-15&amp;end=2025-10-21"' in html, (
        "feature → Trends link"
    )


def test_activity_defaults_to_sixty_days(member: Client) -> None:
    response = member.get(url("activity-tab"), {"as_of": "2025-10-21"})
    assert response.status_code == 200
    period = response.context["period"]
    assert (period.start.isoformat(), period.end.isoformat(), period.days) == ("2025-08-23", "2025-10-21", 60)
    rows = table_rows(response.content.decode(), "feature-table")
    assert [row[2:] for row in rows] == [["Leads", "9"], ["Calendar", "1"], ["Contacts", "1"], ["Deals", "1"]]


def test_activity_chart_has_every_day_and_the_chosen_lines(member: Client) -> None:
    data = chart(member, "activity-chart-features", ACTIVITY)
    assert data["labels"] == [f"2025-10-{day}" for day in range(15, 22)]
    assert series(data) == {
        "Leads": [2, 0, 0, 0, 0, 1, 0],
        "Contacts": [0, 1, 0, 0, 0, 0, 0],
        "Deals": [0, 0, 0, 0, 0, 0, 1],
    }
    # A feature keeps the colour of its rank in the table (Chart.js 4's palette), whatever is drawn.
    only = chart(member, "activity-chart-features", {**ACTIVITY, "lines": ["Deals"]})
    assert series(only) == {"Deals": [0, 0, 0, 0, 0, 0, 1]}
    assert only["datasets"][0]["borderColor"] == "rgb(255, 159, 64)"  # third colour: Deals is third
    assert data["datasets"][0]["borderColor"] == "rgb(54, 162, 235)"


def test_activity_of_one_user_by_external_id_or_email(member: Client) -> None:
    response = member.get(url("activity-tab"), {**ACTIVITY, "user": "alice"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Activity of Alice Liu" in text_of(html)
    assert table_rows(html, "feature-table") == [
        ["Draw Leads on the chart", "1", "Leads", "2"],
        ["Draw Deals on the chart", "2", "Deals", "1"],
    ]
    assert 'data-metric="interactions"' not in html  # the workspace summary is not this user's
    assert series(chart(member, "activity-chart-features", {**ACTIVITY, "user": "alice"}))["Leads"] == [
        2,
        0,
        0,
        0,
        0,
        0,
        0,
    ]
    by_email = member.get(url("activity-tab"), {**ACTIVITY, "user": "BOB@zylker.test"})
    assert "Activity of Bob Singh" in text_of(by_email.content.decode())
    assert [row[2:] for row in table_rows(by_email.content.decode(), "feature-table")] == [["Contacts", "1"]]


def test_activity_feature_filter_and_user_filters(member: Client) -> None:
    response = member.get(url("activity-tab"), {**ACTIVITY, "feature": "Deals,Calendar"})
    html = response.content.decode()
    # Features asked for are listed even at zero.
    assert [row[2:] for row in table_rows(html, "feature-table")] == [["Deals", "1"], ["Calendar", "0"]]
    assert re.search(r'<input type="checkbox" name="feature" value="Deals"[^>]*checked', html)
    filtered = member.get(url("activity-tab"), {**ACTIVITY, "country": "CN"})
    assert [row[2:] for row in table_rows(filtered.content.decode(), "feature-table")] == [
        ["Leads", "3"],
        ["Deals", "1"],
    ]


def test_activity_csv_links(member: Client) -> None:
    html = member.get(url("activity-tab"), {**ACTIVITY, "feature": "Leads", "country": "CN"}).content.decode()
    links = csv_links(html)
    features = links[url("api-activity-features")]
    assert features == {
        "as_of": ["2025-10-21"],
        "days": ["7"],
        "feature": ["Leads"],
        "country": ["CN"],
        "format": ["csv"],
    }
    summary = links[url("api-home-summary")]
    assert summary == {"as_of": ["2025-10-21"], "days": ["7"], "country": ["CN"], "format": ["csv"]}
    link = next(unescape(h) for h in re.findall(r'<a class="csv-link" href="([^"]+)"', html) if "activity" in h)
    download = member.get(link)
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert download.content.decode().splitlines()[:3] == [
        "feature,date,interactions",
        "Leads,2025-10-15,2",
        "Leads,2025-10-16,0",
    ]


def test_activity_page_wires_the_chart_without_inline_script(member: Client) -> None:
    html = member.get(url("activity-tab"), ACTIVITY).content.decode()
    for script in ("vendor/chart.js-4.6.1/chart.umd.min.js", "js/charts.js", "views_home/activity.js"):
        assert f"/static/{script}" in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "cdn" not in html.lower()
    assert f'data-chart-url="{url("activity-chart-features")}?as_of=2025-10-21&amp;days=7"' in html


# --- Trends -------------------------------------------------------------------------------------------

TRENDS = {"feature": "Leads", "start": "2025-10-01", "end": "2025-10-21"}


def test_trends_week_buckets_start_on_monday_and_only_count_the_range(member: Client) -> None:
    response = member.get(url("trends-tab"), {**TRENDS, "interval": "week", "view": "table"})
    assert response.status_code == 200
    html = response.content.decode()
    # The Sep 29 week exists (the range enters it on Oct 1) but its Sep 29/30 events are outside.
    assert table_rows(html, "trend-table") == [
        ["Week of Sep 29, 2025 partial", "0"],
        ["Week of Oct 6, 2025", "4"],
        ["Week of Oct 13, 2025", "2"],
        ["Week of Oct 20, 2025 partial", "1"],
    ]
    assert "Total 7" in text_of(html)
    data = chart(member, "trends-chart", {**TRENDS, "interval": "week"})
    assert data["labels"] == ["2025-09-29", "2025-10-06", "2025-10-13", "2025-10-20"]
    assert series(data) == {"Events": [0, 4, 2, 1]}


def test_trends_distinct_users_per_week_and_month_buckets(member: Client) -> None:
    users = chart(member, "trends-chart", {**TRENDS, "interval": "week", "measure": "users"})
    assert series(users) == {"Distinct users": [0, 3, 1, 1]}
    month = chart(member, "trends-chart", {**TRENDS, "start": "2025-09-01", "interval": "month"})
    assert month["labels"] == ["2025-09-01", "2025-10-01"]
    assert series(month) == {"Events": [2, 7]}
    page = member.get(url("trends-tab"), {**TRENDS, "start": "2025-09-01", "interval": "month", "view": "table"})
    assert table_rows(page.content.decode(), "trend-table") == [["September 2025", "2"], ["October 2025 partial", "7"]]


def test_trends_day_interval_with_action_and_detail_has_every_day(member: Client) -> None:
    query = {**TRENDS, "action": "view", "detail": "list_view", "start": "2025-10-09", "end": "2025-10-16"}
    data = chart(member, "trends-chart", query)
    assert data["labels"] == [f"2025-10-{day:02d}" for day in range(9, 17)]
    assert series(data) == {"Events": [0, 1, 1, 0, 0, 0, 1, 0]}
    html = member.get(url("trends-tab"), query).content.decode()
    assert "Leads → view → list_view" in text_of(html)


def test_trends_group_by_country(member: Client) -> None:
    """Countries read by their names (the code beside, as the CRM sends it and the filters take it);
    the API and its CSV keep the codes."""
    query = {**TRENDS, "interval": "week", "group_by": "country"}
    assert series(chart(member, "trends-chart", query)) == {"China (CN)": [0, 2, 2, 1], "India (IN)": [0, 2, 0, 0]}
    html = member.get(url("trends-tab"), {**query, "view": "table"}).content.decode()
    head = text_of(re.search(r"<thead>.*?</thead>", html, flags=re.S).group(0))  # type: ignore[union-attr]
    assert "Week China (CN) India (IN)" in head
    assert table_rows(html, "trend-table")[1] == ["Week of Oct 6, 2025", "2", "2"]
    assert re.search(r'value="CN"[^>]*> <span>China \(CN\)</span>', html)  # the country filter's option
    member.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert set(series(chart(member, "trends-chart", query))) == {"中国 (CN)", "印度 (IN)"}


def test_trends_compares_with_the_previous_period(member: Client, make_workspace: Any) -> None:
    """October 1–21 beside September 10–30, day by day: Leads on September 29 (bob) and 30 (alice) are
    the previous period's days 20 and 21. Not with a group-by, and not in the API's answer."""
    query = {**TRENDS, "compare": "previous"}
    data = chart(member, "trends-chart", query)
    assert series(data)["Events"] == [0] * 7 + [1, 1, 1, 1, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0]
    previous = data["datasets"][1]
    assert previous["label"] == "Previous period (September 10 – September 30)"
    assert previous["data"] == [0] * 19 + [1, 1] and previous["borderDash"] == [6, 4]
    assert len(data["datasets"]) == 2
    weekly = chart(member, "trends-chart", {**query, "interval": "week"})  # Sep 10–30: weeks of 8, 15, 22, 29
    assert weekly["datasets"][1]["data"] == [0, 0, 0, 2]
    grouped = chart(member, "trends-chart", {**query, "group_by": "country"})
    assert all("borderDash" not in dataset for dataset in grouped["datasets"])
    html = member.get(url("trends-tab"), query).content.decode()
    assert re.search(r'<option value="previous" selected>The previous period</option>', html)
    assert "compare=previous" in re.search(r'data-chart-url="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    api = member.get(reverse("api-trends", kwargs={"slug": "sh"}), query).json()
    assert "Previous" not in json.dumps(api)
    assert api == member.get(reverse("api-trends", kwargs={"slug": "sh"}), TRENDS).json()


def test_trends_defaults_to_the_most_used_feature_and_thirty_days(member: Client, shanghai: Workspace) -> None:
    response = member.get(url("trends-tab"), {"end": "2025-10-21"})
    assert response.status_code == 200
    q = response.context["query"]
    assert (q.feature.key, q.period.start.isoformat(), q.interval.value, q.measure.value) == (
        "Leads",
        "2025-09-22",
        "day",
        "events",
    )
    html = response.content.decode()
    assert re.search(r'<option value="Leads" selected>', html)  # the picker shows the feature in force
    assert len(response.context["bucket_rows"]) == 30


def test_trends_dependent_pickers_offer_only_what_was_seen(member: Client) -> None:
    html = member.get(url("trends-tab"), {**TRENDS, "action": "view"}).content.decode()
    catalog = json.loads(
        re.search(r'<script id="feature-catalog" type="application/json">(.*?)</script>', html, flags=re.S).group(1)  # type: ignore[union-attr]
    )
    assert catalog["Leads"]["actions"] == {"create": [], "export": [], "view": ["kanban_view", "list_view"]}
    assert catalog["Deals"]["actions"] == {"view": []}
    assert set(catalog) == {"Calendar", "Contacts", "Deals", "Leads"}

    def options(name: str, page: str) -> list[str]:
        select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, flags=re.S)
        assert select
        return re.findall(r'<option value="([^"]*)"', select.group(1))

    # Server-side too: the action picker lists the chosen feature's actions, the detail picker the
    # chosen action's details.
    assert options("action", html) == ["", "create", "export", "view"]
    assert options("detail", html) == ["", "kanban_view", "list_view"]
    deals = member.get(url("trends-tab"), {**TRENDS, "feature": "Deals"}).content.decode()
    assert options("action", deals) == ["", "view"]
    assert options("detail", deals) == [""]
    # The only <script> without src is the JSON data block.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [
        '<script id="feature-catalog" type="application/json">'
    ]


def test_trends_csv_link_and_view_switch(member: Client) -> None:
    query = {**TRENDS, "interval": "week", "measure": "users", "group_by": "country", "country": "CN"}
    html = member.get(url("trends-tab"), query).content.decode()
    assert csv_links(html)[url("api-trends")] == {
        "feature": ["Leads"],
        "start": ["2025-10-01"],
        "end": ["2025-10-21"],
        "interval": ["week"],
        "measure": ["users"],
        "group_by": ["country"],
        "country": ["CN"],
        "format": ["csv"],
    }
    link = next(unescape(h) for h in re.findall(r'<a class="csv-link" href="([^"]+)"', html))
    download = member.get(link)
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert "CN,2025-10-06,2" in download.content.decode().splitlines()
    # Chart view by default (table pane hidden); ?view=table the other way round.
    assert re.search(r'data-pane="table" hidden', html) and not re.search(r'data-pane="chart" hidden', html)
    table = member.get(url("trends-tab"), {**query, "view": "table"}).content.decode()
    assert re.search(r'data-pane="chart" hidden', table)


# --- Hub ----------------------------------------------------------------------------------------------

HUB = {"start": "2025-10-08", "end": "2025-10-21"}


def test_hub_popularity_and_default_frequency(member: Client) -> None:
    response = member.get(url("hub-tab"), HUB)
    assert response.status_code == 200
    html = response.content.decode()
    assert [row[:4] for row in table_rows(html, "popularity-table")] == [
        ["1", "Leads", "3", "7"],
        ["2", "Calendar", "1", "1"],
        ["3", "Contacts", "1", "1"],
        ["4", "Deals", "1", "1"],
    ]
    # The most popular feature by default, with the default buckets 1, 11, 101.
    assert "Frequency of Leads" in text_of(html)
    assert table_rows(html, "frequency-table") == [["1–10", "3"], ["11–100", "0"], ["101+", "0"]]
    assert (
        f'href="{url("trends-tab")}?feature=Calendar&amp;measure=users&amp;start=2025-10-08&amp;end=2025-10-21"' in html
    )

    popularity = chart(member, "hub-chart-popularity", HUB)
    assert popularity["labels"] == ["Leads", "Calendar", "Contacts", "Deals"]
    assert series(popularity) == {"Users": [3, 1, 1, 1]}
    frequency = chart(member, "hub-chart-frequency", HUB)
    assert frequency["labels"] == ["1–10", "11–100", "101+"]
    assert series(frequency) == {"Users": [3, 0, 0]}


def test_hub_feature_set_buckets_and_filters(member: Client) -> None:
    query = {**HUB, "features": ["Deals", "Contacts"], "feature": "Leads", "buckets": "1,3"}
    html = member.get(url("hub-tab"), query).content.decode()
    assert [row[1:4] for row in table_rows(html, "popularity-table")] == [["Contacts", "1", "1"], ["Deals", "1", "1"]]
    # alice has 3 Leads events in the range, bob and carol 2 each.
    assert table_rows(html, "frequency-table") == [["1–2", "2"], ["3+", "1"]]
    assert series(chart(member, "hub-chart-frequency", query)) == {"Users": [2, 1]}
    india = member.get(url("hub-tab"), {**HUB, "country": "IN"}).content.decode()
    assert [row[1:4] for row in table_rows(india, "popularity-table")] == [
        ["Leads", "1", "2"],
        ["Calendar", "1", "1"],
        ["Contacts", "1", "1"],
    ]


def test_hub_csv_links(member: Client) -> None:
    query = {**HUB, "features": ["Leads", "Deals"], "buckets": "1,3", "status": "active"}
    html = member.get(url("hub-tab"), query).content.decode()
    links = csv_links(html)
    assert links[url("api-hub-popularity")] == {
        "start": ["2025-10-08"],
        "end": ["2025-10-21"],
        "features": ["Leads", "Deals"],
        "status": ["active"],
        "format": ["csv"],
    }
    assert links[url("api-hub-frequency")] == {
        "start": ["2025-10-08"],
        "end": ["2025-10-21"],
        "feature": ["Leads"],
        "buckets": ["1,3"],
        "status": ["active"],
        "format": ["csv"],
    }
    for link in (unescape(h) for h in re.findall(r'<a class="csv-link" href="([^"]+)"', html)):
        response = member.get(link)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), link
    frequency = next(unescape(h) for h in re.findall(r'<a class="csv-link" href="([^"]+)"', html) if "frequency" in h)
    assert member.get(frequency).content.decode().splitlines() == ["min,max,users", "1,2,2", "3,,1"]


# --- bad input: 400 with the message in the form, never 500 -------------------------------------------


@pytest.mark.parametrize(
    ("name", "query", "field", "message"),
    [
        ("trends-tab", {"feature": "Nope"}, "feature", "Unknown feature: 'Nope'."),
        ("trends-tab", {"feature": "Leads", "action": "fly"}, "action", "No 'fly' action was seen for Leads."),
        (
            "trends-tab",
            {"feature": "Leads", "action": "view", "detail": "grid"},
            "detail",
            "No 'view' action with detail 'grid' was seen for Leads.",
        ),
        ("trends-tab", {"feature": "Leads", "detail": "list_view"}, "detail", "A detail needs an action."),
        ("trends-tab", {"start": "2025-10-21", "end": "2025-10-01"}, "start", "Must not be after end."),
        (
            "trends-tab",
            {"start": "2023-01-01", "end": "2025-10-21"},
            "end",
            "The range may span at most 731 days (2 years).",
        ),
        ("trends-tab", {"start": "2025-02-30"}, "start", "Enter a date as YYYY-MM-DD."),
        ("trends-tab", {"end": "yesterday"}, "end", "Enter a date as YYYY-MM-DD."),
        (
            "trends-tab",
            {"start": "1900-01-01", "end": "1900-01-02"},
            "start",
            "Must be between 1970-01-01 and 2999-12-31.",
        ),
        ("trends-tab", {"interval": "year"}, "interval", "Select a valid choice."),
        ("trends-tab", {"group_by": "email"}, "group_by", "Select a valid choice."),
        ("trends-tab", {"status": "sleeping"}, "status", "Unknown status: sleeping."),
        ("hub-tab", {"buckets": "10,5"}, "buckets", "Lower bounds must increase, e.g. 1,11,101."),
        ("hub-tab", {"buckets": "1,ten"}, "buckets", "Lower bounds must be whole numbers separated by commas"),
        ("hub-tab", {"buckets": "0,5"}, "buckets", "Lower bounds start at 1 or more."),
        ("hub-tab", {"features": "Leads,Nope"}, "features", "Unknown feature: 'Nope'."),
        ("hub-tab", {"feature": "Nope"}, "feature", "Unknown feature: 'Nope'."),
        ("hub-tab", {"start": "2025-10-21", "end": "2025-10-01"}, "start", "Must not be after end."),
        ("hub-tab", {"start": "2020-01-01", "end": "2025-10-21"}, "end", "The range may span at most 731 days"),
        ("hub-tab", {"features": "Leads,De\x00als"}, "features", "Null characters are not allowed."),
        ("trends-tab", {"feature": "Le\x00ads"}, "feature", "Null characters are not allowed."),
        ("activity-tab", {"user": "nobody"}, "user", "No CRM user has the external ID or email 'nobody'."),
        ("activity-tab", {"feature": "Nope"}, "feature", "Unknown feature: 'Nope'."),
        ("activity-tab", {"lines": "Nope"}, "lines", "Unknown feature: 'Nope'."),
        ("activity-tab", {"as_of": "2025-13-01"}, "as_of", "Enter a date as YYYY-MM-DD."),
        ("activity-tab", {"days": "732"}, "days", "Ensure this value is less than or equal to 731."),
    ],
)
def test_bad_input_is_a_400_with_the_message_in_the_form(
    member: Client, name: str, query: dict[str, str], field: str, message: str
) -> None:
    response = member.get(url(name), query)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    html = response.content.decode()
    assert message in text_of(html)
    # The field itself is marked (Django sets aria-invalid on the widget) and no figure is shown.
    if field != "lines":  # chosen in the feature table, which is not shown without figures
        assert 'aria-invalid="true"' in html or 'class="dropdown filter has-error"' in html
    assert "csv-link" not in html and "data-chart-url" not in html
    # The chart endpoint of the page answers the same query with the same error.
    chart_name = {"trends-tab": "trends-chart", "hub-tab": "hub-chart-popularity"}.get(name, "activity-chart-features")
    chart_response = member.get(url(chart_name), query)
    assert chart_response.status_code == 400
    assert field in chart_response.json()["errors"]


def test_a_user_shared_email_asks_for_the_external_id(member: Client, shanghai: Workspace) -> None:
    crm_users(shanghai, [{"external_id": "alice2", "email": "alice@zylker.test"}])
    response = member.get(url("activity-tab"), {"user": "alice@zylker.test"})
    assert response.status_code == 400
    assert "Several users have the email 'alice@zylker.test'; use the external id." in text_of(
        response.content.decode()
    )


def test_a_typed_bad_date_stays_visible(member: Client) -> None:
    html = member.get(url("hub-tab"), {"start": "2025-02-30"}).content.decode()
    assert re.search(r'<input type="text" name="start" value="2025-02-30"', html)


# --- empty states ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_no_events_shows_how_to_send_them(client: Client, make_workspace: Any, name: str) -> None:
    fresh = make_workspace("fresh")[0]
    login(client, fresh)
    response = client.get(url(name, "fresh"))
    assert response.status_code == 200
    text = text_of(response.content.decode())
    assert "No events yet" in text
    assert "curl -X POST http://testserver/api/v1/events/batch" in text
    assert "data-chart-url" not in response.content.decode()


def test_the_empty_state_s_example_event_lands_in_the_default_period(
    client: Client, make_workspace: Any, time_machine: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The example is stamped with this minute in the workspace's time zone: sent as shown, Home counts it.
    With the fixed 2025 date it had, the event went to a day outside the default period (zeros)."""
    time_machine.move_to("2026-11-20T03:04:30+00:00")
    fresh, ingest_key = make_workspace("fresh", tz="Asia/Shanghai")
    login(client, fresh)
    html = unescape(client.get(url("home-tab", "fresh")).content.decode())
    assert "An event counts on the day of its timestamp in the workspace's time zone (Asia/Shanghai)" in text_of(html)
    example = re.search(r"-d '(\{.*?\})'</code>", html, re.S)
    assert example is not None
    payload = json.loads(example.group(1))
    assert payload["events"][0]["timestamp"] == "2026-11-20T11:04:00+08:00"
    with django_capture_on_commit_callbacks(execute=True):  # the rollups' refresh, queued on commit
        sent = client.post(
            "/api/v1/events/batch", payload, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {ingest_key}"
        )
    assert sent.status_code in (200, 202) and sent.json()["accepted"] == 1, sent.content
    summary = client.get("/api/v1/workspaces/fresh/home/summary").json()
    assert summary["metrics"]["active_users"]["value"] == 1, summary
    assert "No events yet" not in text_of(client.get(url("home-tab", "fresh")).content.decode())


@pytest.mark.parametrize(
    ("name", "query", "message"),
    [
        ("activity-tab", {"as_of": "2024-01-31"}, "No interaction in this period."),
        (
            "trends-tab",
            {"feature": "Leads", "start": "2024-01-01", "end": "2024-01-31"},
            "No matching event in this range.",
        ),
        ("hub-tab", {"start": "2024-01-01", "end": "2024-01-31"}, "Nobody used these features in this range."),
    ],
)
def test_no_data_in_range_says_so(member: Client, name: str, query: dict[str, str], message: str) -> None:
    response = member.get(url(name), query)
    assert response.status_code == 200
    assert message in text_of(response.content.decode())


# --- rollups only ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("activity-tab", {**ACTIVITY, "user": "alice"}),
        ("activity-tab", ACTIVITY),
        ("trends-tab", {"start": "2025-10-01", "end": "2025-10-21", "group_by": "country"}),
        ("hub-tab", HUB),
        ("activity-chart-features", ACTIVITY),
        ("trends-chart", TRENDS),
        ("hub-chart-popularity", HUB),
        ("hub-chart-frequency", HUB),
    ],
)
def test_pages_and_charts_read_rollups_not_raw_events(member: Client, name: str, query: dict[str, Any]) -> None:
    """The only query on the events table is the existence check of the empty state (LIMIT 1)."""
    with CaptureQueriesContext(connection) as queries:
        assert member.get(url(name), query).status_code == 200
    on_events = [q["sql"] for q in queries.captured_queries if re.search(r'\bFROM "events_event"', q["sql"])]
    assert all("LIMIT 1" in sql for sql in on_events), on_events
    assert len(on_events) <= 1


def test_every_page_links_to_the_api_reference(member: Client) -> None:
    """The footer of a signed-in page and the tokens page link to the API's documentation, which opens."""
    for page in (url("home-tab"), url("trends-tab"), "/account/tokens/"):
        html = member.get(page).content.decode()
        assert re.search(r'<a href="/api/v1/docs/">API reference</a>', html), page
    assert member.get("/api/v1/docs/").status_code == 200
    member.logout()
    assert "/api/v1/docs/" not in member.get("/accounts/login/").content.decode()


def test_the_user_field_suggests_users_by_name_email_or_id(member: Client, make_workspace: Any) -> None:
    """The Activity tab's type-ahead (static/js/app.js reads it): a part of a name, an email or an
    external id; exact ids and emails first, then by name; this workspace's users only."""
    other = make_workspace("other")[0]
    crm_users(other, [{"external_id": "alice-2", "name": "Alice Other", "email": "alice@other.test"}])
    suggest = url("activity-user-suggestions")

    def ids(text: str) -> list[str]:
        response = member.get(suggest, {"q": text})
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        return [user["external_id"] for user in response.json()["users"]]

    assert member.get(suggest, {"q": "ali"}).json() == {
        "users": [{"external_id": "alice", "name": "Alice Liu", "email": "alice@zylker.test"}]
    }
    assert ids("SINGH") == ["bob"]  # any case, part of the name
    assert ids("zylker.test") == ["carol", "alice", "bob"]  # no name sorts first, then Alice Liu, Bob Singh
    assert ids("bob@zylker.test") == ["bob"] and ids("carol") == ["carol"]
    assert ids("a") == [] and ids("") == [] and ids("nobody") == []
    crm_users(
        Workspace.objects.get(slug="sh"), [{"external_id": f"al-{n:02d}", "name": f"Al {n:02d}"} for n in range(12)]
    )
    found = ids("al")
    assert len(found) == 10 and found[0] == "al-00"  # at most ten
    assert ids("al-07") == ["al-07"]
    # The chosen id is what the form sends: the page of that user.
    page = member.get(url("activity-tab"), {**ACTIVITY, "user": ids("Alice")[0]})
    assert "Activity of Alice Liu" in text_of(page.content.decode())
    assert 'data-suggest-url="/w/sh/activity/users.json"' in page.content.decode()
    # Another workspace's suggestions are not this member's to read; nor anyone's signed out.
    assert member.get(url("activity-user-suggestions", "other"), {"q": "ali"}).status_code == 404
    member.logout()
    assert member.get(suggest, {"q": "ali"}).status_code == 302
    # A member of both reads each workspace's own users under its slug.
    both = get_user_model().objects.create_user(username="both")
    for workspace in (Workspace.objects.get(slug="sh"), other):
        Membership.objects.create(workspace=workspace, user=both, role=Membership.Role.VIEWER)
    member.force_login(both)
    assert [u["external_id"] for u in member.get(suggest, {"q": "alice"}).json()["users"]] == ["alice"]
    there = member.get(url("activity-user-suggestions", "other"), {"q": "alice"}).json()["users"]
    assert there == [{"external_id": "alice-2", "name": "Alice Other", "email": "alice@other.test"}]
