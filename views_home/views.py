"""Pages of the Home, Activity, Trends and Hub tabs (docs/metrics.md#home and after).

Each page parses its query once (``core.pages.tab_page``: 400 with the messages in the form when it
is not valid), calls the tab's selectors with it, shapes the results (``views_home.presenters``) and
links the same query to the chart JSON, the CSV exports and the other tabs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from core.attributes import attribute_label
from core.charts import PALETTE_SIZE
from core.chrome import page_chrome, with_query
from core.pages import form_data, tab_page, workspace_url
from core.people import drilldown_url
from events.models import Feature
from events.periods import Period
from events.selectors import UnknownStep, crm_user_suggestions, feature_resolve
from tenancy.scoping import WorkspaceScope, workspace_page, workspaces_for
from views_home import presenters, selectors
from views_home.forms import ActivityForm, HomeForm, HubForm, TrendsForm
from views_home.queries import (
    ActivityPageQuery,
    HomePageQuery,
    HubQuery,
    Measure,
    TopUsersQuery,
    TrendsQuery,
    WeeksChartQuery,
    WeeksQuery,
)
from views_home.selectors.people import SUMMARY_PEOPLE

TOP_USERS_LIMIT = 10
ACTIVITY_DEFAULT_LINES = 5  # features drawn on the Activity chart when none are chosen


@require_safe
@login_required
def index(request: HttpRequest) -> HttpResponse:
    """``/``: the Home tab of the first workspace the user may read, or how to get one."""
    first = workspaces_for(request.user).order_by("name", "slug").first()
    if first is not None:
        return redirect(with_query(reverse("home-tab", kwargs={"slug": first.slug}), request.GET))
    return render(request, "views_home/no_workspace.html", page_chrome(request, None))


@require_safe
@workspace_page
def home_tab(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page = tab_page(request, scope, "home-tab", HomePageQuery, HomeForm)
    template, query = "views_home/home.html", page.query
    if (response := page.nothing_to_show(request, template)) is not None:
        return response
    assert query is not None

    summary = selectors.home_summary(query)
    weekly = query.derive(WeeksQuery, weeks=None)  # the period's weeks, as the cards count them
    calendar = selectors.attendance_calendar(weekly)

    def top(by: str) -> list[selectors.TopUser]:
        return selectors.top_users(query.derive(TopUsersQuery, by=by, limit=TOP_USERS_LIMIT))

    def api(name: str, **extra: Any) -> str:
        return workspace_url(name, scope, query.params(format="csv", compare=None, **extra))

    # The weekly figures follow a period named by start + end (as_of + days keep the API's five weeks).
    by_dates = weekly.with_period(query.period)
    chart_query = query.derive(WeeksChartQuery, weeks=None).with_period(query.period)  # + "Compare with"
    slug = scope.workspace.slug

    page.context.update(
        {
            "summary": summary,
            "cards": [  # the counts of users open the users (docs/drilldown.md)
                replace(card, people_url=drilldown_url(slug, "home/summary", query.params(), people=card.key))
                if card.key in SUMMARY_PEOPLE
                else card
                for card in presenters.metric_cards(summary)
            ],
            "calendar_people_url": drilldown_url(slug, "home/attendance-calendar", by_dates.params()),
            "week_rows": presenters.week_rows(selectors.weekly_interactions(weekly), query.period),
            "calendar_rows": presenters.calendar_rows(calendar),
            "calendar_days": calendar,
            "top_by_interactions": top("interactions"),
            "top_by_attendance": top("attendance"),
            "weekly_chart_url": workspace_url("home-chart-weekly-interactions", scope, chart_query.params()),
            "csv": {
                "summary": api("api-home-summary"),
                "weekly": workspace_url("api-home-weekly", scope, by_dates.params(format="csv")),
                "calendar": workspace_url("api-home-calendar", scope, by_dates.params(format="csv")),
                "top_interactions": api("api-home-top-users", by="interactions", limit=TOP_USERS_LIMIT),
                "top_attendance": api("api-home-top-users", by="attendance", limit=TOP_USERS_LIMIT),
            },
        }
    )
    return render(request, template, page.context)


def trends_link(
    scope: WorkspaceScope, feature: str, period: Period, filters: dict[str, list[str]], **extra: str
) -> str:
    """The Trends tab for one feature over ``period``, with the same user filters."""
    query = QueryDict(mutable=True)
    query["feature"] = feature
    for key, value in extra.items():
        if value:
            query[key] = value
    query["start"], query["end"] = period.start.isoformat(), period.end.isoformat()
    for name, values in filters.items():
        query.setlist(name, values)
    return workspace_url("trends-tab", scope, query)


@dataclass(frozen=True)
class FeatureRow:
    feature: str
    interactions: int
    rank: int
    color: int  # index in the palette: the line's colour on the chart
    on_chart: bool
    trends_url: str


@require_safe
@workspace_page
def user_suggestions(request: HttpRequest, scope: WorkspaceScope) -> JsonResponse:
    """The type-ahead of the Activity tab's User field: ``?q=`` a part of a name, email or external id;
    ``{"users": [{"external_id", "name", "email"}]}`` (at most 10)."""
    found = crm_user_suggestions(workspace=scope.workspace, text=request.GET.get("q", "")[:254])
    users = [{"external_id": u.external_id, "name": u.name, "email": u.email} for u in found]
    response = JsonResponse({"users": users})
    response["Cache-Control"] = "private, no-cache"
    return response


@require_safe
@workspace_page
def activity_tab(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """Summary metrics and per-feature interactions for a period (60 days by default), for the whole
    workspace or one CRM user, as a table and a daily line chart."""
    page = tab_page(request, scope, "activity-tab", ActivityPageQuery, ActivityForm)
    template, query = "views_home/activity.html", page.query
    if (response := page.nothing_to_show(request, template)) is not None:
        return response
    assert query is not None

    period, filters = query.period, query.filters
    rows = selectors.activity_features(query)
    lines = query.line_features
    chosen = {f.key for f in lines} if lines else {row.feature for row in rows[:ACTIVITY_DEFAULT_LINES]}
    summary = None if query.crm_user else selectors.home_summary(query)
    page.context.update(
        {
            "period": period,
            "crm_user": query.crm_user,
            "summary": summary,
            "cards": presenters.metric_cards(summary) if summary else [],
            "feature_rows": [
                FeatureRow(
                    feature=row.feature,
                    interactions=row.interactions,
                    rank=rank + 1,
                    color=rank % PALETTE_SIZE,
                    on_chart=row.feature in chosen,
                    trends_url=trends_link(scope, row.feature, period, filters, compare=query.compare),
                )
                for rank, row in enumerate(rows)
            ],
            "has_data": any(row.interactions for row in rows),
            "lines_hidden": [(key, value) for key, values in query.params(lines=None).lists() for value in values],
            "clear_user_url": with_query(request.path, query.params(user=None)),
            "chart_url": workspace_url("activity-chart-features", scope, query.params()),
            "csv": {
                "summary": workspace_url(
                    "api-home-summary",
                    scope,
                    query.params(user=None, feature=None, lines=None, compare=None, format="csv"),
                )
                if summary
                else "",
                "features": workspace_url(
                    "api-activity-features", scope, query.params(lines=None, compare=None, format="csv")
                ),
            },
        }
    )
    return render(request, template, page.context)


@require_safe
@workspace_page
def trends_tab(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """One feature (+ action + detail) per day, week or month, as a line chart and a table."""
    page = tab_page(request, scope, "trends-tab", TrendsQuery, TrendsForm)
    template, query = "views_home/trends.html", page.query
    assert isinstance(page.form, TrendsForm)
    page.context["catalog"] = page.form.catalog_data()
    if (response := page.nothing_to_show(request, template)) is not None:
        return response
    assert query is not None

    series = selectors.trend_series(query)
    label = presenters.measure_label(query.measure)
    bucket_rows = presenters.bucket_rows(series, query.period, query.interval)
    # Distinct users: each point and each cell opens its users (docs/drilldown.md).
    drill = ""
    if query.measure is Measure.USERS:
        drill = drilldown_url(scope.workspace.slug, "trends", query.params())

    def people_of(bucket: Any, group: str | None) -> str:
        if not drill:
            return ""
        extra = f"&people_group={quote(group, safe='')}" if query.group_by and group is not None else ""
        return f"{drill}&people={bucket.isoformat()}{extra}"

    page.context.update(
        {
            "period": query.period,
            "series": series,
            "series_labels": [presenters.group_label(s.group, label, query.group_by) for s in series],
            "measure_label": label,
            "group_by_label": attribute_label(query.group_by),
            "bucket_rows": bucket_rows,
            "bucket_cells": [
                (row, [(value, people_of(row.bucket, s.group)) for value, s in zip(row.values, series, strict=True)])
                for row in bucket_rows
            ],
            "drilldown": drill,
            "drilldown_people": json.dumps([[p.bucket.isoformat() for p in s.points] for s in series]),
            "drilldown_groups": json.dumps([s.group for s in series]) if query.group_by else "",
            "has_data": any(s.total for s in series),
            "show_totals": query.measure is Measure.EVENTS,
            "view": query.view,
            "view_urls": {view: with_query(request.path, query.params(view=view)) for view in ("chart", "table")},
            "chart_url": workspace_url("trends-chart", scope, query.params(view=None)),
            "csv": {"trends": workspace_url("api-trends", scope, query.params(view=None, format="csv"))},
        }
    )
    return render(request, template, page.context)


def frequency_feature(query: HubQuery) -> Feature | None:
    """The feature whose frequency the Hub shows: the one chosen, else the most popular of the range
    (among the chosen set, with the same filters); None when nobody used any."""
    if query.feature is not None:
        return query.feature
    popular = selectors.feature_popularity(query.popularity())
    if not popular or popular[0].users == 0:
        return None
    try:
        return feature_resolve(workspace=query.workspace, key=popular[0].feature)
    except UnknownStep:  # deleted meanwhile
        return None


@dataclass(frozen=True)
class PopularityRow:
    rank: int
    feature: str
    users: int
    interactions: int
    trends_url: str
    frequency_url: str
    people_url: str = ""  # its users (docs/drilldown.md)


@dataclass(frozen=True)
class FrequencyRow:
    label: str
    min: int
    max: int | None
    users: int
    people_url: str = ""  # its users (docs/drilldown.md)


@require_safe
@workspace_page
def hub_tab(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """Popularity (distinct users per feature) and frequency (users per bucket of their number of
    events on one feature) for a range and an optional set of features."""
    page = tab_page(request, scope, "hub-tab", HubQuery, HubForm)
    template, query = "views_home/hub.html", page.query
    if (response := page.nothing_to_show(request, template)) is not None:
        return response
    assert query is not None

    period, filters = query.period, query.filters
    popularity = selectors.feature_popularity(query.popularity())
    feature = frequency_feature(query)
    buckets = selectors.feature_frequency(query.frequency(feature)) if feature is not None else []
    if feature is not None and query.feature is None:  # the picker shows the feature in force
        shown = form_data(query)
        shown["feature"] = feature.key
        page.form = page.context["form"] = HubForm(shown, workspace=scope.workspace)
    popularity_params = query.params(feature=None, buckets=None)
    slug = scope.workspace.slug
    popularity_people = drilldown_url(slug, "hub/popularity", popularity_params)
    frequency_people = (
        drilldown_url(slug, "hub/frequency", query.params(features=None, feature=feature.key)) if feature else ""
    )
    page.context.update(
        {
            "period": period,
            "popularity_rows": [
                PopularityRow(
                    rank=rank + 1,
                    feature=row.feature,
                    users=row.users,
                    interactions=row.interactions,
                    trends_url=trends_link(scope, row.feature, period, filters, measure="users"),
                    frequency_url=with_query(request.path, query.params(feature=row.feature)) + "#frequency",
                    people_url=f"{popularity_people}&people={quote(row.feature, safe='')}",
                )
                for rank, row in enumerate(popularity)
            ],
            "has_data": any(row.users for row in popularity),
            "frequency_feature": feature,
            "frequency_rows": [
                FrequencyRow(
                    presenters.bucket_range_label(b), b.min, b.max, b.users, f"{frequency_people}&people={b.min}"
                )
                for b in buckets
            ],
            "popularity_people": popularity_people,
            "frequency_people": frequency_people,
            "frequency_selectors": json.dumps([[str(b.min) for b in buckets]]),
            "frequency_trends_url": trends_link(scope, feature.key, period, filters) if feature else "",
            "popularity_chart_url": workspace_url("hub-chart-popularity", scope, popularity_params),
            "frequency_chart_url": workspace_url(
                "hub-chart-frequency", scope, query.params(features=None, feature=feature.key)
            )
            if feature
            else "",
            "csv": {
                "popularity": workspace_url(
                    "api-hub-popularity", scope, query.params(feature=None, buckets=None, format="csv")
                ),
                "frequency": workspace_url(
                    "api-hub-frequency", scope, query.params(features=None, feature=feature.key, format="csv")
                )
                if feature is not None
                else "",
            },
        }
    )
    return render(request, template, page.context)
