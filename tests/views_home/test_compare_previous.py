"""Home's weekly chart and Activity's daily chart compared with the previous period (``compare=previous``,
as Trends has it): the page's charts only, through the real URL routes; the API's answers unchanged.

The events are those of ``shanghai`` (tests/views_home/test_pages_tabs.py), local dates (Asia/Shanghai):
Leads on Sep 29 (bob), Sep 30 (alice), Oct 8 (alice), Oct 9 (carol), Oct 10 and 11 (bob), Oct 15 (alice,
twice), Oct 20 (carol); Calendar Oct 12 (bob); Contacts Oct 16 (bob); Deals Oct 21 (alice).
"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from django.test import Client

from tests.views_home import test_pages_tabs as tabs
from tests.views_home.test_pages_tabs import url

pytestmark = pytest.mark.django_db

# The Activity and Trends tests' workspace and member, shared (fixtures).
shanghai = tabs.shanghai
member = tabs.member

DASHED = [6, 4]


def chart(client: Client, name: str, query: dict[str, Any]) -> dict[str, Any]:
    response = client.get(url(name), query)
    assert response.status_code == 200, response.content
    data: dict[str, Any] = response.json()
    assert set(data) == {"labels", "datasets"}
    return data


def by_label(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {dataset["label"]: dataset for dataset in data["datasets"]}


# Wednesday Oct 8 to Tuesday Oct 21 (14 days): the previous period is Wednesday Sep 24 to Tuesday Oct 7.
WEEKS = {"start": "2025-10-08", "end": "2025-10-21"}


def test_home_weekly_chart_compares_week_by_week(member: Client) -> None:
    """This period's weeks of Oct 6 (8–12: 5), 13 (3) and 20 (20–21: 2) beside the previous period's
    weeks of Sep 22 (24–28: 0), Sep 29 (2: Sep 29 and 30) and Oct 6 (6–7: 0), each cut to its days."""
    plain = chart(member, "home-chart-weekly-interactions", WEEKS)
    assert [d["data"] for d in plain["datasets"]] == [[5, 3, 2]]
    data = chart(member, "home-chart-weekly-interactions", {**WEEKS, "compare": "previous"})
    assert data["labels"] == ["2025-10-06", "2025-10-13", "2025-10-20"]
    assert data["datasets"][0] == plain["datasets"][0]  # the bars are unchanged
    previous = data["datasets"][1]
    assert previous == {
        "label": "Previous period (September 24 – October 7)",
        "data": [0, 2, 0],
        "backgroundColor": "rgba(201, 203, 207, 0.5)",
        "borderColor": "rgb(201, 203, 207)",
        "borderDash": DASHED,
        "type": "line",  # a line over the bars
    }
    # One whole week, Oct 13–19 (3), beside Oct 6–12 (5).
    week = chart(
        member, "home-chart-weekly-interactions", {"start": "2025-10-13", "end": "2025-10-19", "compare": "previous"}
    )
    assert [d["data"] for d in week["datasets"]] == [[3], [5]]


def test_home_page_offers_the_choice_and_keeps_it_off_the_api(member: Client) -> None:
    response = member.get(url("home-tab"), {**WEEKS, "compare": "previous"})
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<option value="previous" selected>The previous period</option>', html)
    chart_url = unescape(re.search(r'data-chart-url="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert chart_url == f"{url('home-chart-weekly-interactions')}?start=2025-10-08&end=2025-10-21&compare=previous"
    csv = [unescape(h) for h in re.findall(r'<a class="csv-link" href="([^"]+)"', html)]
    assert csv and not any("compare" in link for link in csv)
    api = url("api-home-weekly")
    assert member.get(api, {**WEEKS, "compare": "previous"}).json() == member.get(api, WEEKS).json()


# Oct 15–21 beside Oct 8–14.
ACTIVITY = {"as_of": "2025-10-21", "days": "7"}


def test_activity_chart_compares_each_line_day_by_day(member: Client) -> None:
    """Leads on Oct 8, 9, 10 and 11; neither Contacts nor Deals before Oct 15. Each previous line has the
    colour of its feature, dashed."""
    data = chart(member, "activity-chart-features", {**ACTIVITY, "compare": "previous"})
    lines = by_label(data)
    assert list(lines) == [
        "Leads",
        "Contacts",
        "Deals",
        "Leads, previous period (October 8 – October 14)",
        "Contacts, previous period (October 8 – October 14)",
        "Deals, previous period (October 8 – October 14)",
    ]
    assert lines["Leads"]["data"] == [2, 0, 0, 0, 0, 1, 0]
    leads_before = lines["Leads, previous period (October 8 – October 14)"]
    assert leads_before["data"] == [1, 1, 1, 1, 0, 0, 0]
    assert leads_before["borderDash"] == DASHED and "type" not in leads_before
    assert leads_before["borderColor"] == lines["Leads"]["borderColor"] == "rgb(54, 162, 235)"
    assert lines["Deals, previous period (October 8 – October 14)"]["data"] == [0] * 7
    assert lines["Deals, previous period (October 8 – October 14)"]["borderColor"] == "rgb(255, 159, 64)"
    # Only the lines drawn are compared; without compare, nothing is added.
    only = chart(member, "activity-chart-features", {**ACTIVITY, "lines": "Deals", "compare": "previous"})
    assert [d["label"] for d in only["datasets"]] == ["Deals", "Deals, previous period (October 8 – October 14)"]
    assert len(chart(member, "activity-chart-features", ACTIVITY)["datasets"]) == 3


def test_activity_page_offers_the_choice_and_keeps_it_off_the_api(member: Client) -> None:
    html = member.get(url("activity-tab"), {**ACTIVITY, "compare": "previous"}).content.decode()
    assert re.search(r'<option value="previous" selected>The previous period</option>', html)
    chart_url = unescape(re.search(r'data-chart-url="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert chart_url.endswith("?as_of=2025-10-21&days=7&compare=previous")
    csv = [unescape(h) for h in re.findall(r'<a class="csv-link" href="([^"]+)"', html)]
    assert csv and not any("compare" in link for link in csv)
    # The lines form keeps it, and a feature's link to Trends carries it there.
    assert '<input type="hidden" name="compare" value="previous">' in html
    assert "compare=previous" in unescape(re.search(r'href="([^"]*/trends/[^"]*)"', html).group(1))  # type: ignore[union-attr]
    api = url("api-activity-features")
    answer = member.get(api, {**ACTIVITY, "compare": "previous"}).json()
    assert answer == member.get(api, ACTIVITY).json() and "previous period" not in json.dumps(answer)


@pytest.mark.parametrize(
    ("page", "chart_name", "query"),
    [("home-tab", "home-chart-weekly-interactions", WEEKS), ("activity-tab", "activity-chart-features", ACTIVITY)],
)
def test_a_bad_compare_is_a_400_naming_it(member: Client, page: str, chart_name: str, query: dict[str, str]) -> None:
    response = member.get(url(chart_name), {**query, "compare": "next"})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["compare"]
    page_response = member.get(url(page), {**query, "compare": "next"})
    assert page_response.status_code == 400 and "compare" in page_response.context["form"].errors
