"""The server-rendered User analysis pages, through the real URL routes: the users table, a user's
page and its chart JSON, and the filter-set builder with saving, sharing and deleting."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tenancy.models import Membership, Workspace
from tests.conftest import crm_users, journeys
from useranalysis.models import FilterSet

pytestmark = pytest.mark.django_db

PERIOD = {"as_of": "2025-10-31", "days": "30"}  # Oct 2–31; the previous period is Sep 2 – Oct 1
ADA = "ada.liu@corp"  # an external id with '@' and '.'


def at(day: str, hm: str) -> str:
    return f"2025-{day}T{hm}:00+08:00"


@pytest.fixture
def sh(make_workspace: Any) -> Workspace:
    """Asia/Shanghai (UTC+8), as_of Oct 31, 30 days.

    ada: Oct 30 09:00–10:00 (7 Home views: one 60-minute session), Oct 31 20:00 and 20:05 two Leads
         creates (a 5-minute session); Sep 20 in the previous period; one Leads view on Nov 1 00:30
         local (still Oct 31 in UTC) that must not count. → attendance 2 (prev 1, +100.0), last seen
         Oct 31 20:05, 2 sessions, 65.0 min, 9 interactions, 2 features.
    bob: Oct 2 01:30 local (Oct 1 in UTC) one Calendar view, Oct 10 11:00 and 11:10 Contacts views;
         Sep 5–7 in the previous period. → 2 (prev 3, −33.3), Oct 10 11:10, 2 sessions, 10.0 min,
         3 interactions, 2 features.
    carol: Sep 25 only (previous period). → 0 (prev 1, −100.0), last seen Sep 25, nothing else.
    dan: deactivated, never seen. → 0, no change to show, never.
    """
    workspace = make_workspace("sh", tz="Asia/Shanghai")[0]
    crm_users(
        workspace,
        [
            {"external_id": ADA, "name": "Ada Liu", "email": "ada@zylker.test", "country": "CN", "language": "zh"},
            {"external_id": "bob", "name": "Bob Singh", "email": "bob@zylker.test", "country": "IN"},
            {"external_id": "carol", "email": "carol@zylker.test", "country": "CN", "status": "inactive"},
            {"external_id": "dan", "name": "Dan", "country": "DE", "status": "deactivated"},
        ],
    )
    journeys(
        workspace,
        [(ADA, at("10-30", f"{9 + m // 60:02d}:{m % 60:02d}"), "Home", "view") for m in range(0, 61, 10)]
        + [
            (ADA, at("10-31", "20:00"), "Leads", "create"),
            (ADA, at("10-31", "20:05"), "Leads", "create"),
            (ADA, at("09-20", "10:00"), "Home", "view"),
            (ADA, "2025-10-31T16:30:00+00:00", "Leads", "view"),  # Nov 1 00:30 in Shanghai
            ("bob", "2025-10-01T17:30:00+00:00", "Calendar", "view"),  # Oct 2 01:30 in Shanghai
            ("bob", at("10-10", "11:00"), "Contacts", "view"),
            ("bob", at("10-10", "11:10"), "Contacts", "view"),
            ("bob", at("09-05", "10:00"), "Leads", "view"),
            ("bob", at("09-06", "10:00"), "Leads", "view"),
            ("bob", at("09-07", "10:00"), "Leads", "view"),
            ("carol", at("09-25", "10:00"), "Leads", "view"),
        ],
    )
    return workspace


def login(
    client: Client, workspace: Workspace | None, role: str = Membership.Role.VIEWER, username: str = "ada"
) -> Any:
    user, _ = get_user_model().objects.get_or_create(username=username)
    if workspace is not None:
        Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
    client.force_login(user)
    return user


def url(name: str, slug: str = "sh", **kwargs: Any) -> str:
    return reverse(name, kwargs={"slug": slug, **kwargs})


def text_of(html: str) -> str:
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def rows_of(html: str, table_id: str = "users-table") -> list[dict[str, str]]:
    """Each row of a user table: external id and the text of every metric cell."""
    table = re.search(rf'<table class="[^"]*\bua-table\b[^"]*" id="{table_id}">(.*?)</table>', html, flags=re.S)
    assert table, f"no table {table_id}"
    rows = []
    for user, body in re.findall(r'<tr data-user="([^"]*)">(.*?)</tr>', table.group(1), flags=re.S):
        cells = dict(re.findall(r'<td[^>]*data-metric="([a-z_]+)"[^>]*>(.*?)</td>', body, flags=re.S))
        rows.append({"user": unescape(user), **{k: text_of(v) for k, v in cells.items()}})
    return rows


def order_of(html: str, table_id: str = "users-table") -> list[str]:
    return [r["user"] for r in rows_of(html, table_id)]


def heading(html: str, key: str) -> str:
    match = re.search(rf'<th scope="col" data-column="{key}"[^>]*>.*?</th>', html, flags=re.S)
    assert match, key
    return match.group(0)


def href_of(fragment: str, key: str) -> str:
    match = re.search(rf'href="([^"]+)" data-sort-key="{key}"', fragment)
    assert match, key
    return unescape(match.group(1))


def query_of(link: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(link).query)


# --- access -------------------------------------------------------------------------------------------


def test_pages_require_login(client: Client, sh: Workspace) -> None:
    for page in (
        url("users-tab"),
        url("users-detail", external_id=ADA),
        url("users-chart-daily-activity"),
        url("users-filter-sets"),
        url("users-filter-set-new"),
    ):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith(reverse("login"))


def test_non_members_and_unknown_users_get_404(client: Client, sh: Workspace, make_workspace: Any) -> None:
    login(client, make_workspace("other")[0])
    filter_set = FilterSet.objects.create(
        workspace=sh, owner=get_user_model().objects.create(username="owner"), name="x", visibility="workspace"
    )
    for page in (
        url("users-tab"),
        url("users-detail", external_id=ADA),
        url("users-chart-daily-activity") + f"?user={ADA}",
        url("users-filter-sets"),
        url("users-filter-set-new"),
        url("users-filter-set", pk=filter_set.pk),
        url("users-filter-set-delete", pk=filter_set.pk),
        url("users-filter-set-csv", table="users"),
        url("users-tab", slug="no-such-workspace"),
    ):
        assert client.get(page).status_code == 404, page

    login(client, sh)
    assert client.get(url("users-detail", external_id="nobody")).status_code == 404
    assert client.get(url("users-detail", external_id="ADA.LIU@corp")).status_code == 404  # ids are exact
    assert client.get(url("users-chart-daily-activity"), {"user": "nobody"}).status_code == 404


def test_the_tab_is_enabled_in_the_tab_bar(client: Client, sh: Workspace) -> None:
    login(client, sh)
    html = client.get(reverse("home-tab", kwargs={"slug": "sh"})).content.decode()
    assert f'href="{url("users-tab")}' in html


# --- the users table ----------------------------------------------------------------------------------


def test_table_shows_the_exact_figures_in_the_workspace_time_zone(client: Client, sh: Workspace) -> None:
    login(client, sh)
    response = client.get(url("users-tab"), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    rows = {r["user"]: r for r in rows_of(html)}
    assert list(rows) == [ADA, "bob", "carol", "dan"]  # by external id by default
    assert rows[ADA] == {
        "user": ADA,
        "attendance_days": "2",
        "attendance_change_pct": "▲ 100.0% rise",
        "last_seen": "Oct 31, 2025 20:05 on the last day of the period",
        "session_count": "2",
        "session_minutes": "1 h 05 min",  # 65.0 minutes in the API and the CSV
        "interactions": "9",
        "features_used": "2",
    }
    assert rows["bob"] == {
        "user": "bob",
        "attendance_days": "2",
        "attendance_change_pct": "▼ 33.3% fall",
        "last_seen": "Oct 10, 2025 11:10 21 days before the period's end",
        "session_count": "2",
        "session_minutes": "10 min",
        "interactions": "3",
        "features_used": "2",
    }
    assert rows["carol"]["attendance_change_pct"] == "▼ 100.0% fall"
    assert rows["carol"]["last_seen"] == "Sep 25, 2025 10:00 36 days before the period's end"
    assert (rows["carol"]["session_count"], rows["carol"]["session_minutes"], rows["carol"]["interactions"]) == (
        "0",
        "0 min",
        "0",
    )
    # Nothing to compare with: a dash (and words for screen readers), not a number.
    assert rows["dan"]["attendance_change_pct"].startswith("—")
    assert "no activity in the previous period" in rows["dan"]["attendance_change_pct"]
    assert rows["dan"]["last_seen"] == "never"
    # Rise and fall carry a colour class as well as the words.
    assert 'ua-change ua-change--up" data-change="100.0"' in html
    assert 'ua-change ua-change--down" data-change="-33.3"' in html

    text = text_of(html)
    assert "Last 30 days: Oct 2, 2025 – Oct 31, 2025" in text
    assert "Ada Liu ada@zylker.test External ID: ada.liu@corp" in text
    assert "Inactive" in text and "Deactivated" in text
    assert "1–4 of 4" in text
    # Each name opens the user's page, with the table's query to come back to.
    detail = re.search(r'<a class="user-cell__name" href="([^"]+)">Ada Liu</a>', html)
    assert detail
    link = unescape(detail.group(1))
    assert urlsplit(link).path == url("users-detail", external_id=ADA)
    assert query_of(link) == {"as_of": ["2025-10-31"], "days": ["30"]}


def test_sorting_links_aria_and_order(client: Client, sh: Workspace) -> None:
    login(client, sh)
    html = client.get(url("users-tab"), PERIOD).content.decode()
    # Unsorted numeric columns sort descending first; the current column's link reverses it.
    assert query_of(href_of(heading(html, "interactions"), "interactions"))["ordering"] == ["-interactions"]
    assert query_of(href_of(heading(html, "name"), "name"))["ordering"] == ["name"]
    assert 'aria-sort="ascending"' in heading(html, "name")  # sorted by external id (same heading)
    assert query_of(href_of(heading(html, "name"), "external_id"))["ordering"] == ["-external_id"]

    html = client.get(url("users-tab"), {**PERIOD, "ordering": "-interactions"}).content.decode()
    assert order_of(html) == [ADA, "bob", "carol", "dan"]
    assert 'aria-sort="descending"' in heading(html, "interactions")
    assert "aria-sort" not in heading(html, "attendance_days")
    link = href_of(heading(html, "interactions"), "interactions")
    assert query_of(link) == {"as_of": ["2025-10-31"], "days": ["30"], "ordering": ["interactions"]}

    # Users without a value come last whichever the direction.
    html = client.get(url("users-tab"), {**PERIOD, "ordering": "attendance_change_pct"}).content.decode()
    assert order_of(html) == ["carol", "bob", ADA, "dan"]
    html = client.get(url("users-tab"), {**PERIOD, "ordering": "-last_seen"}).content.decode()
    assert order_of(html) == [ADA, "bob", "carol", "dan"]
    html = client.get(url("users-tab"), {**PERIOD, "ordering": "name"}).content.decode()
    assert order_of(html) == ["carol", ADA, "bob", "dan"]  # carol has no name
    # Every column of the table sorts.
    for key in ("status", "attendance_days", "last_seen", "session_count", "session_minutes", "features_used"):
        assert href_of(heading(html, key), key)


def test_search_and_user_filters(client: Client, sh: Workspace) -> None:
    login(client, sh)

    def users(**params: str) -> list[str]:
        response = client.get(url("users-tab"), {**PERIOD, **params})
        assert response.status_code == 200
        return order_of(response.content.decode())

    assert users(search="singh") == ["bob"]  # name
    assert users(search="CAROL@zylker") == ["carol"]  # email, any case
    assert users(search="liu@co") == [ADA]  # external id
    assert users(country="CN") == [ADA, "carol"]
    assert users(status="deactivated,inactive") == ["carol", "dan"]
    assert users(country="CN", search="ada") == [ADA]

    response = client.get(url("users-tab"), {**PERIOD, "search": "zzz"})
    text = text_of(response.content.decode())
    assert "No user matches." in text and "Clear the search and filters" in text


def test_pagination_and_the_csv_of_every_matching_row(client: Client, sh: Workspace) -> None:
    login(client, sh)
    response = client.get(url("users-tab"), {**PERIOD, "page_size": "3", "ordering": "-interactions"})
    html = response.content.decode()
    assert order_of(html) == [ADA, "bob", "carol"]
    text = text_of(html)
    assert "1–3 of 4" in text and "Page 1 of 2" in text
    next_link = unescape(re.search(r'href="([^"]+)" rel="next"', html).group(1))  # type: ignore[union-attr]
    assert query_of(next_link) == {
        "as_of": ["2025-10-31"],
        "days": ["30"],
        "ordering": ["-interactions"],
        "page": ["2"],
        "page_size": ["3"],
    }
    html = client.get(next_link).content.decode()
    assert order_of(html) == ["dan"]
    assert "4–4 of 4" in text_of(html)
    # A page past the end shows the last one.
    assert order_of(client.get(url("users-tab"), {**PERIOD, "page_size": "3", "page": "9"}).content.decode()) == ["dan"]

    # The CSV link is the users endpoint with the same query: every matching row, not the page.
    csv_link = unescape(re.search(r'<a class="csv-link" href="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert urlsplit(csv_link).path == reverse("api-users", kwargs={"slug": "sh"})
    params = query_of(csv_link)
    assert params["format"] == ["csv"] and params["ordering"] == ["-interactions"] and "page" not in params
    rows = list(csv.DictReader(io.StringIO(client.get(csv_link).content.decode())))
    assert [r["external_id"] for r in rows] == [ADA, "bob", "carol", "dan"]
    assert rows[0]["session_minutes"] == "65.0" and rows[1]["attendance_change_pct"] == "-33.3"


def test_invalid_query_is_a_400_page_with_the_message(client: Client, sh: Workspace) -> None:
    login(client, sh)
    for params, message in (
        ({"days": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"as_of": "2025-02-30"}, "Enter a date as YYYY-MM-DD."),
        ({"ordering": "password"}, "Select a valid choice."),
        ({"status": "gone"}, "Unknown status: gone."),
        ({"page_size": "100000"}, "Ensure this value is less than or equal to 500."),
    ):
        response = client.get(url("users-tab"), params)
        assert response.status_code == 400, params
        assert message in text_of(response.content.decode()), params


def test_empty_workspace_says_what_to_do(client: Client, make_workspace: Any) -> None:
    empty = make_workspace("empty")[0]
    login(client, empty)
    response = client.get(url("users-tab", slug="empty"))
    assert response.status_code == 200
    text = text_of(response.content.decode())
    assert "No CRM users yet" in text and "import_users users.csv --workspace empty" in text


# --- a user's page ------------------------------------------------------------------------------------


def test_user_page(client: Client, sh: Workspace) -> None:
    login(client, sh)
    response = client.get(url("users-detail", external_id=ADA), {**PERIOD, "ordering": "-interactions"})
    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(html)
    assert "Ada Liu" in text and "ada@zylker.test" in text and "Country China (CN)" in text and "Language zh" in text

    cards = {key: text_of(body) for key, body in re.findall(r'data-metric="([a-z_]+)">(.*?)</li>', html, flags=re.S)}
    assert cards["attendance_days"].startswith("Attendance 2 days ▲ 100.0% rise Previous period (Sep 2 – Oct 1): 1")
    assert cards["last_seen"] == "Last seen On the last day of the period Fri, Oct 31, 2025 20:05"
    assert cards["session_count"].startswith("Sessions 2")
    assert cards["session_minutes"].startswith("Session time 1 h 05 min")  # 65.0 minutes in the API
    assert cards["interactions"].startswith("Interactions 9")
    assert cards["features_used"] == "Features used 2 of 4 features in the catalog"

    # Sessions that start in the period, newest first, in the workspace's time zone.
    sessions = re.search(r'<table class="table table--compact" id="sessions-table">(.*?)</table>', html, flags=re.S)
    assert sessions
    assert text_of(sessions.group(1)).endswith(
        "Fri, Oct 31, 2025 20:00 20:05 5 min 00 s 2 Thu, Oct 30, 2025 09:00 10:00 1 h 00 min 7"
    )

    # Features used with their counts, and the catalog's others; names open the Trends tab.
    used = re.search(r'<table class="table table--compact" id="features-used">(.*?)</table>', html, flags=re.S)
    assert used
    assert text_of(used.group(1)).endswith("Home 7 Leads 2")
    unused = re.search(r'<ul class="ua-chips" role="list" id="features-unused">(.*?)</ul>', html, flags=re.S)
    assert unused
    assert text_of(unused.group(1)) == "Calendar Contacts"
    trends = re.search(r'<a href="([^"]+)">Home</a>', html)
    assert trends
    assert urlsplit(unescape(trends.group(1))).path == reverse("trends-tab", kwargs={"slug": "sh"})
    assert query_of(unescape(trends.group(1))) == {
        "feature": ["Home"],
        "start": ["2025-10-02"],
        "end": ["2025-10-31"],
    }

    # Daily activity: the chart's JSON URL and the same figures as a table.
    daily = re.search(r'<table class="table table--compact" id="daily-table">(.*?)</table>', html, flags=re.S)
    assert daily
    assert "Thu, Oct 30, 2025 7 Fri, Oct 31, 2025 2" in text_of(daily.group(1))
    chart = re.search(r'data-chart-url="([^"]+)"', html)
    assert chart
    assert query_of(unescape(chart.group(1))) == {"user": [ADA], "as_of": ["2025-10-31"], "days": ["30"]}

    # Back to the table with the same query.
    back = re.search(r'<p class="ua-back"><a href="([^"]+)"', html)
    assert back
    assert query_of(unescape(back.group(1))) == {"as_of": ["2025-10-31"], "days": ["30"], "ordering": ["-interactions"]}


def test_user_page_with_an_invalid_period_is_a_400(client: Client, sh: Workspace) -> None:
    login(client, sh)
    response = client.get(url("users-detail", external_id=ADA), {"days": "0"})
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 1." in text_of(response.content.decode())


def test_user_page_of_someone_never_seen(client: Client, sh: Workspace) -> None:
    login(client, sh)
    response = client.get(url("users-detail", external_id="dan"), PERIOD)
    assert response.status_code == 200
    text = text_of(response.content.decode())
    assert "Last seen Never" in text
    assert "No session started in this period." in text
    assert "No interaction in this period." in text
    assert "Calendar Contacts Home Leads" in text  # every feature unused


def test_daily_activity_chart_json(client: Client, sh: Workspace) -> None:
    login(client, sh)
    response = client.get(url("users-chart-daily-activity"), {"user": ADA, **PERIOD})
    assert response.status_code == 200
    data = json.loads(response.content)
    assert set(data) == {"labels", "datasets"}
    assert len(data["labels"]) == 30 and data["labels"][0] == "2025-10-02" and data["labels"][-1] == "2025-10-31"
    (dataset,) = data["datasets"]
    assert set(dataset) == {"label", "data", "backgroundColor", "borderColor"}
    assert dataset["label"] == "Interactions"
    assert dataset["data"] == [0] * 28 + [7, 2]  # every day present, zeros included

    bob = json.loads(client.get(url("users-chart-daily-activity"), {"user": "bob", **PERIOD}).content)
    assert bob["datasets"][0]["data"][0] == 1  # Oct 2 01:30 in Shanghai, Oct 1 in UTC

    bad = client.get(url("users-chart-daily-activity"), {"user": ADA, "days": "0"})
    assert bad.status_code == 400 and "days" in bad.json()["errors"]
    assert client.get(url("users-chart-daily-activity"), PERIOD).status_code == 400  # no user


# --- filter sets: the builder -------------------------------------------------------------------------


def builder_query(activity: list[dict[str, str]] = (), features: list[dict[str, str]] = (), **extra: Any) -> dict:  # type: ignore[assignment]
    query: dict[str, Any] = {
        **PERIOD,
        "activity-TOTAL_FORMS": str(len(activity)),
        "activity-INITIAL_FORMS": "0",
        "features-TOTAL_FORMS": str(len(features)),
        "features-INITIAL_FORMS": "0",
        **extra,
    }
    for prefix, rows in (("activity", activity), ("features", features)):
        for i, row in enumerate(rows):
            for key, value in row.items():
                query[f"{prefix}-{i}-{key}"] = value
    return query


BUSY = {"metric": "attendance_days", "op": ">=", "value": "2"}
NO_CREATE = {"feature": "Leads", "action": "create", "used": "false", "min_count": "1"}


def test_a_new_builder_offers_blank_rows_and_no_result(client: Client, sh: Workspace) -> None:
    login(client, sh, role=Membership.Role.ANALYST)
    response = client.get(url("users-filter-set-new"), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="activity-0-metric"' in html and 'name="features-0-feature"' in html
    assert 'id="result"' not in html
    # The feature → action picker's data, as JSON (not executable).
    catalog = re.search(r'<script id="feature-actions" type="application/json">(.*?)</script>', html, flags=re.S)
    assert catalog
    assert json.loads(catalog.group(1)) == {
        "Calendar": ["view"],
        "Contacts": ["view"],
        "Home": ["view"],
        "Leads": ["create", "view"],
    }
    assert "<script>" not in html  # no inline script
    # A blank row is left out: running it matches everyone.
    response = client.get(url("users-filter-set-new"), builder_query([{"metric": "", "op": ">", "value": ""}]))
    assert "4 of 4 users, 100.0%" in text_of(response.content.decode())


def test_run_a_combination_of_conditions(client: Client, sh: Workspace) -> None:
    login(client, sh)  # a viewer may run filter sets, not save them
    response = client.get(url("users-filter-set-new"), builder_query([BUSY], [NO_CREATE]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 of 4 users, 25.0%" in text_of(html)
    assert order_of(html, "matched-users") == ["bob"]

    used = {"feature": "Leads", "action": "create", "used": "true", "min_count": "2"}
    response = client.get(
        url("users-filter-set-new"),
        builder_query([{"metric": "session_minutes", "op": ">", "value": "5"}], [used]),
    )
    html = response.content.decode()
    assert "1 of 4 users, 25.0%" in text_of(html) and order_of(html, "matched-users") == [ADA]

    # Last seen within a day of as_of (ada: Oct 31) or more than 20 days before (bob 21, carol 36;
    # dan, never seen, too).
    response = client.get(
        url("users-filter-set-new"), builder_query([{"metric": "last_seen_days", "op": "<=", "value": "1"}])
    )
    assert order_of(response.content.decode(), "matched-users") == [ADA]
    response = client.get(
        url("users-filter-set-new"), builder_query([{"metric": "last_seen_days", "op": ">", "value": "20"}])
    )
    assert order_of(response.content.decode(), "matched-users") == ["bob", "carol", "dan"]

    # User attributes narrow the total as well; a group-by splits it.
    response = client.get(url("users-filter-set-new"), builder_query([BUSY], [NO_CREATE], country="IN"))
    assert "1 of 1 users, 100.0%" in text_of(response.content.decode())
    response = client.get(url("users-filter-set-new"), builder_query([BUSY], [NO_CREATE], group_by="country"))
    html = response.content.decode()
    groups = re.search(r'<table class="table table--compact ua-groups" id="groups-table">(.*?)</table>', html, re.S)
    assert groups
    assert text_of(groups.group(1)).endswith("India (IN) 1 1 100.0% China (CN) 0 2 0.0% Germany (DE) 0 1 0.0%")
    assert '<meter class="ua-bar" min="0" max="100" value="100.0"' in html


def test_matched_users_link_to_their_pages_and_sort(client: Client, sh: Workspace) -> None:
    login(client, sh)
    query = builder_query([{"metric": "interactions", "op": ">=", "value": "0"}], ordering="-interactions")
    html = client.get(url("users-filter-set-new"), query).content.decode()
    assert order_of(html, "matched-users") == [ADA, "bob", "carol", "dan"]
    # The matched table fills last seen and features used for the rows it shows, as the users tab.
    users_tab = {r["user"]: r for r in rows_of(client.get(url("users-tab"), PERIOD).content.decode())}
    assert {r["user"]: r for r in rows_of(html, "matched-users")} == users_tab
    assert users_tab["bob"]["features_used"] == "2" and users_tab["dan"]["last_seen"] == "never"
    link = re.search(r'<a class="user-cell__name" href="([^"]+)">Bob Singh</a>', html)
    assert link
    assert urlsplit(unescape(link.group(1))).path == url("users-detail", external_id="bob")
    # Sorting keeps the definition (in the URL) and only changes the order.
    sort = query_of(href_of(heading(html, "interactions"), "interactions"))
    assert sort["ordering"] == ["interactions"] and sort["activity-0-metric"] == ["interactions"]


@pytest.mark.parametrize(
    ("activity", "features", "extra", "messages"),
    [
        ([], [{"feature": "Nope", "used": "true", "min_count": "1"}], {}, ["Unknown feature: 'Nope'."]),
        ([{"metric": "interactions", "op": ">", "value": "-1"}], [], {}, ["greater than or equal to 0"]),
        ([{"metric": "interactions", "op": "~", "value": "1"}], [], {}, ['"~" is not a valid choice.']),
        ([{"metric": "karma", "op": ">", "value": "1"}], [], {}, ['"karma" is not a valid choice.']),
        ([{"metric": "interactions", "op": ">", "value": "many"}], [], {}, ["A valid number is required."]),
        ([{"metric": "interactions", "op": ">", "value": "nan"}], [], {}, ["A valid number is required."]),
        ([], [{"feature": "Leads", "action": "delete", "min_count": "1"}], {}, ["No 'delete' action was seen"]),
        ([], [{"feature": "Leads", "used": "true", "min_count": "0"}], {}, ["greater than or equal to 1"]),
        ([], [{"feature": "Leads", "used": "maybe"}], {}, ["Must be a valid boolean."]),
        ([], [], {"group_by": "salary"}, ['"salary" is not a valid choice.']),
        ([], [], {"status": "gone"}, ["Unknown status: gone."]),
        ([], [], {"activity-TOTAL_FORMS": "x"}, ["ManagementForm data is missing or has been tampered with"]),
        ([], [], {"activity-TOTAL_FORMS": "5000"}, ["Please submit at most 20 forms."]),
    ],
)
def test_an_invalid_condition_is_a_400_page_with_the_api_message(
    client: Client, sh: Workspace, activity: Any, features: Any, extra: Any, messages: list[str]
) -> None:
    login(client, sh, role=Membership.Role.ANALYST)
    response = client.get(url("users-filter-set-new"), builder_query(activity, features, **extra))
    assert response.status_code == 400
    text = text_of(response.content.decode())
    for message in messages:
        assert message in text
    assert "users," not in text  # no result
    # The same definition POSTed to save is refused the same way, and nothing is saved.
    response = client.post(url("users-filter-set-new"), builder_query(activity, features, name="x", **extra))
    assert response.status_code == 400
    assert not FilterSet.objects.exists()


def test_the_error_is_next_to_the_row_at_fault(client: Client, sh: Workspace) -> None:
    login(client, sh, role=Membership.Role.ANALYST)
    good = {"metric": "interactions", "op": ">", "value": "1"}
    bad = {"metric": "interactions", "op": ">", "value": "-1"}
    html = client.get(url("users-filter-set-new"), builder_query([good, bad])).content.decode()
    rows = re.findall(r'<fieldset class="ua-row( has-error)?" data-row>(.*?)</fieldset>', html, flags=re.S)
    assert [bool(flag) for flag, _body in rows[:2]] == [False, True]
    assert "Ensure this value is greater than or equal to 0." in text_of(rows[1][1])
    assert "Activity condition 2, value: Ensure this value is greater than or equal to 0." in text_of(html)


def test_add_a_row_without_javascript(client: Client, sh: Workspace) -> None:
    login(client, sh, role=Membership.Role.ANALYST)
    response = client.get(url("users-filter-set-new"), builder_query([BUSY], add="activity"))
    html = response.content.decode()
    assert 'name="activity-1-metric"' in html and 'name="activity-TOTAL_FORMS" value="2"' in html
    assert 'id="result"' not in html


def test_csv_of_an_unsaved_result_reuses_the_page_query(client: Client, sh: Workspace) -> None:
    login(client, sh)
    html = client.get(
        url("users-filter-set-new"), builder_query([BUSY], [NO_CREATE], group_by="country")
    ).content.decode()
    links = [unescape(h) for h in re.findall(r'<a class="csv-link" href="([^"]+)"', html)]
    users_csv, groups_csv = links
    assert urlsplit(users_csv).path == url("users-filter-set-csv", table="users")
    rows = list(csv.DictReader(io.StringIO(client.get(users_csv).content.decode())))
    assert [(r["external_id"], r["attendance_days"], r["attendance_change_pct"]) for r in rows] == [
        ("bob", "2", "-33.3")
    ]
    groups = list(csv.DictReader(io.StringIO(client.get(groups_csv).content.decode())))
    assert [(g["group"], g["matched"], g["total"], g["matched_pct"]) for g in groups] == [
        ("IN", "1", "1", "100.0"),
        ("CN", "0", "2", "0.0"),
        ("DE", "0", "1", "0.0"),
    ]
    bad = client.get(url("users-filter-set-csv", table="users"), builder_query([], [{"feature": "Nope"}]))
    assert bad.status_code == 400 and "Unknown feature" in bad.content.decode()


# --- filter sets: saving, sharing, deleting -----------------------------------------------------------


def test_save_as_analyst(client: Client, sh: Workspace) -> None:
    user = login(client, sh, role=Membership.Role.ANALYST)
    html = client.get(url("users-filter-set-new"), builder_query([BUSY], [NO_CREATE])).content.decode()
    assert 'formmethod="post" name="csrfmiddlewaretoken"' in html  # the Save button
    # Run is a GET of the same form: the token rides on the Save button only, never in a Run URL.
    builder = re.search(r'<form method="get"[^>]*id="builder".*?</form>', html, flags=re.S)
    assert builder
    assert 'type="hidden" name="csrfmiddlewaretoken"' not in builder.group(0)

    response = client.post(
        url("users-filter-set-new"),
        builder_query(
            [BUSY], [NO_CREATE], name="Busy, no leads", visibility="workspace", group_by="country", days="14"
        ),
    )
    assert response.status_code == 302
    saved = FilterSet.objects.get()
    assert (saved.name, saved.owner, saved.visibility, saved.group_by, saved.default_days) == (
        "Busy, no leads",
        user,
        "workspace",
        "country",
        14,
    )
    assert saved.conditions == {
        "activity": [{"metric": "attendance_days", "op": ">=", "value": 2.0}],
        "features": [{"feature": "Leads", "action": "create", "used": False, "min_count": 1}],
    }
    assert response["Location"] == url("users-filter-set", pk=saved.pk) + "?as_of=2025-10-31"

    # The saved set opens with its result; its CSV is the API's results endpoint.
    response = client.get(response["Location"])
    html = response.content.decode()
    assert response.status_code == 200
    assert "created" in text_of(html)
    csv_link = unescape(re.search(r'<a class="csv-link" href="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert urlsplit(csv_link).path == reverse("filter-set-results", kwargs={"slug": "sh", "pk": saved.pk})
    assert query_of(csv_link) == {"as_of": ["2025-10-31"], "days": ["14"], "format": ["csv"]}

    # It is listed, and changing it updates the same row.
    listing = text_of(client.get(url("users-filter-sets")).content.decode())
    assert "Busy, no leads" in listing and "Attendance (active days) ≥ 2 · Did not use Leads → create" in listing
    response = client.post(
        url("users-filter-set", pk=saved.pk),
        builder_query([BUSY], [], name="Busy", visibility="private"),
    )
    assert response.status_code == 302
    saved.refresh_from_db()
    assert (saved.name, saved.visibility, FilterSet.objects.count()) == ("Busy", "private", 1)
    assert saved.conditions == {"activity": [{"metric": "attendance_days", "op": ">=", "value": 2.0}]}


def test_saving_needs_a_name(client: Client, sh: Workspace) -> None:
    login(client, sh, role=Membership.Role.ANALYST)
    response = client.post(url("users-filter-set-new"), builder_query([BUSY], name=""))
    assert response.status_code == 400
    assert "Name: This field may not be blank." in text_of(response.content.decode())
    assert not FilterSet.objects.exists()


def test_viewer_cannot_save(client: Client, sh: Workspace) -> None:
    login(client, sh, role=Membership.Role.VIEWER)
    html = client.get(url("users-filter-set-new"), builder_query([BUSY])).content.decode()
    assert 'formmethod="post"' not in html  # no Save button
    response = client.post(url("users-filter-set-new"), builder_query([BUSY], name="mine"))
    assert response.status_code == 403
    assert not FilterSet.objects.exists()


def make_set(workspace: Workspace, owner: Any, visibility: str, name: str = "theirs") -> FilterSet:
    return FilterSet.objects.create(
        workspace=workspace,
        owner=owner,
        name=name,
        visibility=visibility,
        group_by="",
        default_days=30,
        conditions={"activity": [{"metric": "attendance_days", "op": ">=", "value": 2.0}]},
    )


def test_private_filter_set_of_someone_else_is_404(client: Client, sh: Workspace) -> None:
    owner = login(client, sh, role=Membership.Role.ANALYST, username="owner")
    private = make_set(sh, owner, "private")
    login(client, sh, role=Membership.Role.ANALYST, username="other")
    assert client.get(url("users-filter-set", pk=private.pk)).status_code == 404
    assert client.post(url("users-filter-set", pk=private.pk), builder_query([BUSY], name="x")).status_code == 404
    assert client.get(url("users-filter-set-delete", pk=private.pk)).status_code == 404
    assert client.post(url("users-filter-set-delete", pk=private.pk)).status_code == 404
    assert "theirs" not in client.get(url("users-filter-sets")).content.decode()
    assert FilterSet.objects.filter(pk=private.pk).exists()


def test_shared_filter_set_is_read_only_for_other_members(client: Client, sh: Workspace) -> None:
    owner = login(client, sh, role=Membership.Role.ANALYST, username="owner")
    shared = make_set(sh, owner, "workspace")
    login(client, sh, role=Membership.Role.ANALYST, username="other")
    response = client.get(url("users-filter-set", pk=shared.pk), {"as_of": "2025-10-31"})
    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(html)
    assert "Attendance (active days) ≥ 2" in text
    assert "2 of 4 users, 50.0%" in text
    assert 'id="builder"' not in html and 'formmethod="post"' not in html
    assert "Open a copy in the builder" in text
    # Builder parameters in the URL do not change what a non-editor sees.
    response = client.get(url("users-filter-set", pk=shared.pk), builder_query([], [], group_by="country"))
    assert "2 of 4 users, 50.0%" in text_of(response.content.decode())
    assert client.post(url("users-filter-set", pk=shared.pk), builder_query([], name="mine")).status_code == 403
    assert client.post(url("users-filter-set-delete", pk=shared.pk)).status_code == 403
    listing = client.get(url("users-filter-sets")).content.decode()
    assert "theirs" in listing and url("users-filter-set-delete", pk=shared.pk) not in listing


def test_delete_by_owner_and_by_admin(client: Client, sh: Workspace) -> None:
    owner = login(client, sh, role=Membership.Role.ANALYST, username="owner")
    mine = make_set(sh, owner, "private", name="mine")
    shared = make_set(sh, owner, "workspace", name="shared")
    response = client.get(url("users-filter-set-delete", pk=mine.pk))
    assert response.status_code == 200
    assert "Delete “mine”?" in text_of(response.content.decode())
    response = client.post(url("users-filter-set-delete", pk=mine.pk))
    assert response.status_code == 302 and response["Location"] == url("users-filter-sets")
    assert not FilterSet.objects.filter(pk=mine.pk).exists()

    login(client, sh, role=Membership.Role.ADMIN, username="admin")
    assert client.post(url("users-filter-set-delete", pk=shared.pk)).status_code == 302
    assert not FilterSet.objects.exists()
