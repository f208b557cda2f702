"""Pages of the Home, Activity, Trends and Hub tabs (DESIGN.md §4).

Every figure comes from ``views_home.selectors``; this module only picks the workspace (scoped by
``crm_usage.api.workspaces_for``, 404 otherwise), validates the query with the tab's form from
``views_home.forms`` (400 with the messages in the form otherwise) and shapes selector results for
the template (arrows, heat levels, the Monday-aligned calendar grid, bucket labels, links that carry
the same query to the other tabs, the chart JSON and the CSV exports).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from core.chrome import page_chrome, with_query
from events.models import Feature
from events.periods import Interval, Period, week_start
from events.selectors import UnknownStep, feature_resolve, workspace_data_state
from tenancy.models import Workspace
from tenancy.scoping import workspaces_for
from views_home import selectors
from views_home.forms import (
    DAY_PRESETS,
    GROUP_BY_LABELS,
    ActivityQueryForm,
    HomeQueryForm,
    HubQueryForm,
    TrendsQueryForm,
)

CALENDAR_WEEKS = 5
WEEKLY_WEEKS = 5
TOP_USERS_LIMIT = 10
HEAT_LEVELS = 4

METRICS: tuple[tuple[str, Promise, Promise, bool], ...] = (
    # (selector field, label, explanation, a rise is good news)
    ("interactions", _("Interactions"), _("Events in the period; every action counts."), True),
    ("features_used", _("Features used"), _("Distinct features with at least one event."), True),
    ("attendance_days", _("Attendance (user-days)"), _("Active days summed over all users."), True),
    ("active_users", _("Active users"), _("Users with at least one event."), True),
    ("inactive_users", _("Inactive users"), _("Users not deactivated, with no event in the period."), False),
)


@dataclass(frozen=True)
class MetricCard:
    key: str
    label: Promise
    help: Promise
    value: int
    previous: int
    change_pct: float | None
    direction: str  # "up", "down", "flat" or "" when there is no change to show
    tone: str  # "good", "bad" or "neutral": the colour of the change

    @property
    def abs_change_pct(self) -> float | None:
        return None if self.change_pct is None else abs(self.change_pct)


@dataclass(frozen=True)
class WeekRow:
    week_start: date
    week_end: date  # the Sunday, or as_of for the current (partial) week
    interactions: int
    partial: bool


@dataclass(frozen=True)
class CalendarCell:
    date: date
    active_users: int
    level: int  # 0 (none) … HEAT_LEVELS (the busiest day shown)


@dataclass(frozen=True)
class CalendarRow:
    week_start: date
    cells: list[CalendarCell | None]  # Monday … Sunday; None outside the range shown


def metric_cards(summary: selectors.HomeSummary) -> list[MetricCard]:
    cards = []
    for key, label, help_text, rise_is_good in METRICS:
        metric: selectors.Metric = getattr(summary, key)
        change = metric.change_pct
        if change is None:
            direction, tone = "", "neutral"
        elif change == 0:
            direction, tone = "flat", "neutral"
        else:
            direction = "up" if change > 0 else "down"
            tone = "good" if (change > 0) == rise_is_good else "bad"
        cards.append(MetricCard(key, label, help_text, metric.value, metric.previous, change, direction, tone))
    return cards


def week_rows(weeks: list[selectors.WeekCount], as_of: date) -> list[WeekRow]:
    rows = []
    for week in weeks:
        end = week.week_start + timedelta(days=6)
        rows.append(WeekRow(week.week_start, min(end, as_of), week.interactions, partial=end > as_of))
    return rows


def heat_level(value: int, busiest: int) -> int:
    if value <= 0 or busiest <= 0:
        return 0
    return min(HEAT_LEVELS, math.ceil(value * HEAT_LEVELS / busiest))


def calendar_rows(days: list[selectors.DayCount]) -> list[CalendarRow]:
    """Lay the selector's days out Monday to Sunday; days outside its range are empty cells."""
    if not days:
        return []
    by_date = {day.date: day.active_users for day in days}
    busiest = max(by_date.values())
    rows = []
    monday, last = week_start(days[0].date), days[-1].date
    while monday <= last:
        cells: list[CalendarCell | None] = []
        for offset in range(7):
            day = monday + timedelta(days=offset)
            if day in by_date:
                cells.append(CalendarCell(day, by_date[day], heat_level(by_date[day], busiest)))
            else:
                cells.append(None)
        rows.append(CalendarRow(monday, cells))
        monday += timedelta(days=7)
    return rows


@require_safe
@login_required
def index(request: HttpRequest) -> HttpResponse:
    """``/``: the Home tab of the first workspace the user may read, or how to get one."""
    first = workspaces_for(request.user).order_by("name", "slug").first()
    if first is not None:
        return redirect(with_query(reverse("home-tab", kwargs={"slug": first.slug}), request.GET))
    return render(request, "views_home/no_workspace.html", page_chrome(request, None))


@require_safe
@login_required
def home_tab(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = get_object_or_404(workspaces_for(request.user), slug=slug)
    form = HomeQueryForm(request.GET, workspace=workspace)
    context: dict[str, Any] = {
        **page_chrome(request, workspace, active="home-tab"),
        "form": form,
        "day_presets": DAY_PRESETS,
    }
    if not form.is_valid():
        return render(request, "views_home/home.html", context, status=400)
    data_state = workspace_data_state(workspace=workspace)
    if not data_state.has_events:
        context["no_events"] = True
        context["batch_url"] = request.build_absolute_uri(reverse("api-events-batch"))
        return render(request, "views_home/home.html", context)

    q = form.cleaned_data
    as_of, filters = q["as_of"], q["filters"]
    period = Period.ending(as_of, q["days"], workspace.tzinfo)
    summary = selectors.home_summary(workspace=workspace, period=period, filters=filters)
    weeks = selectors.weekly_interactions(workspace=workspace, as_of=as_of, weeks=WEEKLY_WEEKS, filters=filters)
    calendar = selectors.attendance_calendar(workspace=workspace, as_of=as_of, weeks=CALENDAR_WEEKS, filters=filters)
    top_by_interactions = selectors.top_users(
        workspace=workspace, period=period, by="interactions", limit=TOP_USERS_LIMIT, filters=filters
    )
    top_by_attendance = selectors.top_users(
        workspace=workspace, period=period, by="attendance", limit=TOP_USERS_LIMIT, filters=filters
    )

    def api(name: str, **extra: Any) -> str:
        return with_query(reverse(name, kwargs={"slug": slug}), form.query(format="csv", **extra))

    context.update(
        {
            "summary": summary,
            "cards": metric_cards(summary),
            "week_rows": week_rows(weeks, as_of),
            "calendar_rows": calendar_rows(calendar),
            "calendar_days": calendar,
            "top_by_interactions": top_by_interactions,
            "top_by_attendance": top_by_attendance,
            "rollups_pending": data_state.rollups_pending,
            "presets": [
                {
                    "days": days,
                    "url": with_query(request.path, form.query(days=days)),
                    "active": days == q["days"],
                }
                for days in DAY_PRESETS
            ],
            "weekly_chart_url": with_query(
                reverse("home-chart-weekly-interactions", kwargs={"slug": slug}), form.query()
            ),
            "csv": {
                "summary": api("api-home-summary"),
                "weekly": api("api-home-weekly", weeks=WEEKLY_WEEKS),
                "calendar": api("api-home-calendar", weeks=CALENDAR_WEEKS),
                "top_interactions": api("api-home-top-users", by="interactions", limit=TOP_USERS_LIMIT),
                "top_attendance": api("api-home-top-users", by="attendance", limit=TOP_USERS_LIMIT),
            },
        }
    )
    return render(request, "views_home/home.html", context)


# --- shared by the Activity, Trends and Hub tabs ----------------------------------------------------

ACTIVITY_DEFAULT_LINES = 5  # features drawn on the Activity chart when none are chosen
ACTIVITY_PRESETS = (7, 30, 60, 90)  # quick periods of the Activity tab, in days
PALETTE_SIZE = 7  # Chart.js 4's default colours (charts.CHARTJS_COLORS; .swatch--N in app.css)


def _workspace(request: HttpRequest, slug: str) -> Workspace:
    return get_object_or_404(workspaces_for(request.user), slug=slug)


def _url(name: str, slug: str, query: QueryDict | None = None) -> str:
    """A URL of the workspace (page, chart JSON or API endpoint) with a query."""
    return with_query(reverse(name, kwargs={"slug": slug}), query)


def _no_events(request: HttpRequest, workspace: Workspace, context: dict[str, Any]) -> bool:
    """Fill the context for a workspace without events (the Home empty state); True if so."""
    state = workspace_data_state(workspace=workspace)
    context["rollups_pending"] = state.rollups_pending
    if state.has_events:
        return False
    context["no_events"] = True
    context["batch_url"] = request.build_absolute_uri(reverse("api-events-batch"))
    return True


def trends_link(slug: str, feature: str, period: Period, filters: dict[str, list[str]], **extra: str) -> str:
    """The Trends tab for one feature over ``period``, with the same user filters."""
    query = QueryDict(mutable=True)
    query["feature"] = feature
    for key, value in extra.items():
        if value:
            query[key] = value
    query["start"], query["end"] = period.start.isoformat(), period.end.isoformat()
    for name, values in filters.items():
        query.setlist(name, values)
    return with_query(reverse("trends-tab", kwargs={"slug": slug}), query)


def measure_label(measure: selectors.Measure) -> Promise:
    return _("Distinct users") if measure is selectors.Measure.USERS else _("Events")


def group_label(group: str | None, default: str | Promise) -> str | Promise:
    """A series' name: the group's value, "(not set)" for users without one, ``default`` ungrouped."""
    if group is None:
        return default
    return group or _("(not set)")


def bucket_range_label(bucket: selectors.FrequencyBucket) -> str:
    """1–10, 11–100, 101+ (a bucket of one number is that number)."""
    if bucket.max is None:
        return f"{bucket.min}+"
    if bucket.max == bucket.min:
        return str(bucket.min)
    return f"{bucket.min}–{bucket.max}"


def frequency_feature(workspace: Workspace, q: dict[str, Any]) -> Feature | None:
    """The feature whose frequency the Hub shows: the one chosen, else the most popular of the range
    (among the chosen set, with the same filters); None when nobody used any."""
    if q.get("frequency_feature") is not None:
        feature: Feature = q["frequency_feature"]
        return feature
    popular = selectors.feature_popularity(
        workspace=workspace, period=q["period"], features=q["feature_set"], filters=q["filters"]
    )
    if not popular or popular[0].users == 0:
        return None
    try:
        return feature_resolve(workspace=workspace, key=popular[0].feature)
    except UnknownStep:  # deleted meanwhile
        return None


def _bucket_label(bucket: date, interval: Interval) -> str:
    if interval is Interval.MONTH:
        return date_format(bucket, str(_("F Y")))
    if interval is Interval.WEEK:
        return str(_("Week of %(day)s") % {"day": date_format(bucket, str(_("M j, Y")))})
    return date_format(bucket, str(_("D, M j, Y")))


@dataclass(frozen=True)
class FeatureRow:
    feature: str
    interactions: int
    rank: int
    color: int  # index in the palette: the line's colour on the chart
    on_chart: bool
    trends_url: str


@dataclass(frozen=True)
class BucketRow:
    bucket: date
    label: str
    partial: bool  # the bucket begins before the range or ends after it
    values: list[int]


@dataclass(frozen=True)
class PopularityRow:
    rank: int
    feature: str
    users: int
    interactions: int
    trends_url: str
    frequency_url: str


@dataclass(frozen=True)
class FrequencyRow:
    label: str
    min: int
    max: int | None
    users: int


def _base_context(request: HttpRequest, workspace: Workspace, form: Any, active: str) -> dict[str, Any]:
    return {**page_chrome(request, workspace, active=active), "form": form, "day_presets": DAY_PRESETS}


@require_safe
@login_required
def activity_tab(request: HttpRequest, slug: str) -> HttpResponse:
    """Summary metrics and per-feature interactions for a period (60 days by default), for the whole
    workspace or one CRM user, as a table and a daily line chart."""
    workspace = _workspace(request, slug)
    form = ActivityQueryForm(request.GET, workspace=workspace)
    context = _base_context(request, workspace, form, "activity-tab")
    template = "views_home/activity.html"
    if _no_events(request, workspace, context):  # nothing to query: how to send events
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)

    q = form.cleaned_data
    period, filters, crm_user = q["period"], q["filters"], q["crm_user"]
    rows = selectors.activity_features(
        workspace=workspace, period=period, filters=filters, features=q["features"], crm_user=crm_user
    )
    chosen = set(q["lines"]) if q["lines"] else {row.feature for row in rows[:ACTIVITY_DEFAULT_LINES]}
    feature_rows = [
        FeatureRow(
            feature=row.feature,
            interactions=row.interactions,
            rank=rank + 1,
            color=rank % PALETTE_SIZE,
            on_chart=row.feature in chosen,
            trends_url=trends_link(slug, row.feature, period, filters),
        )
        for rank, row in enumerate(rows)
    ]
    summary = None if crm_user else selectors.home_summary(workspace=workspace, period=period, filters=filters)
    lines_hidden = [(key, value) for key, values in form.query(lines=None).lists() for value in values]
    context.update(
        {
            "period": period,
            "crm_user": crm_user,
            "summary": summary,
            "cards": metric_cards(summary) if summary else [],
            "feature_rows": feature_rows,
            "has_data": any(row.interactions for row in rows),
            "lines_hidden": lines_hidden,
            "presets": [
                {
                    "days": days,
                    "url": with_query(request.path, form.query(days=days)),
                    "active": days == q["days"],
                }
                for days in ACTIVITY_PRESETS
            ],
            "clear_user_url": with_query(request.path, form.query(user=None)),
            "chart_url": _url("activity-chart-features", slug, form.query()),
            "csv": {
                "summary": _url("api-home-summary", slug, form.query(user=None, feature=None, lines=None, format="csv"))
                if summary
                else "",
                "features": _url("api-activity-features", slug, form.api_query(format="csv")),
            },
        }
    )
    return render(request, template, context)


@require_safe
@login_required
def trends_tab(request: HttpRequest, slug: str) -> HttpResponse:
    """One feature (+ action + detail) per day, week or month, as a line chart and a table."""
    workspace = _workspace(request, slug)
    form = TrendsQueryForm(request.GET, workspace=workspace)
    context = _base_context(request, workspace, form, "trends-tab")
    context["catalog"] = form.catalog_data()
    template = "views_home/trends.html"
    if _no_events(request, workspace, context):  # nothing to query: how to send events
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)

    q = form.cleaned_data
    period, interval, measure = q["period"], q["interval"], q["measure"]
    series = selectors.trend_series(
        workspace=workspace,
        feature=q["feature_obj"],
        period=period,
        interval=interval,
        measure=measure,
        action=q["action"],
        detail=q["detail"],
        group_by=q["group_by"] or None,
        filters=q["filters"],
    )
    buckets = period.buckets(interval)
    label = measure_label(measure)
    rows = []  # buckets × series
    for index, bucket in enumerate(buckets):
        partial = bucket < period.start or _bucket_end(bucket, interval) > period.end
        rows.append(
            BucketRow(bucket, _bucket_label(bucket, interval), partial, [s.points[index].value for s in series])
        )
    context.update(
        {
            "period": period,
            "series": series,
            "series_labels": [group_label(s.group, label) for s in series],
            "measure_label": label,
            "group_by_label": GROUP_BY_LABELS.get(q["group_by"], q["group_by"]),
            "bucket_rows": rows,
            "has_data": any(s.total for s in series),
            "show_totals": measure is selectors.Measure.EVENTS,
            "view": q["view"],
            "view_urls": {view: with_query(request.path, form.query(view=view)) for view in ("chart", "table")},
            "chart_url": _url("trends-chart", slug, form.api_query()),
            "csv": {"trends": _url("api-trends", slug, form.api_query(format="csv"))},
        }
    )
    return render(request, template, context)


def _bucket_end(bucket: date, interval: Interval) -> date:
    """The last day of the day, ISO week or month named ``bucket``."""
    if interval is Interval.DAY:
        return bucket
    if interval is Interval.WEEK:
        return bucket + timedelta(days=6)
    return (bucket.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


@require_safe
@login_required
def hub_tab(request: HttpRequest, slug: str) -> HttpResponse:
    """Popularity (distinct users per feature) and frequency (users per bucket of their number of
    events on one feature) for a range and an optional set of features."""
    workspace = _workspace(request, slug)
    form = HubQueryForm(request.GET, workspace=workspace)
    context = _base_context(request, workspace, form, "hub-tab")
    template = "views_home/hub.html"
    if _no_events(request, workspace, context):  # nothing to query: how to send events
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)

    q = form.cleaned_data
    period, filters = q["period"], q["filters"]
    popularity = selectors.feature_popularity(
        workspace=workspace, period=period, features=q["feature_set"], filters=filters
    )
    feature = frequency_feature(workspace, q)
    buckets = (
        selectors.feature_frequency(
            workspace=workspace, period=period, feature=feature, bounds=q["bounds"], filters=filters
        )
        if feature is not None
        else []
    )
    frequency_query = form.frequency_query(feature.key) if feature is not None else None
    if feature is not None:
        form.show_frequency_feature(feature.key)
    context.update(
        {
            "period": period,
            "popularity_rows": [
                PopularityRow(
                    rank=rank + 1,
                    feature=row.feature,
                    users=row.users,
                    interactions=row.interactions,
                    trends_url=trends_link(slug, row.feature, period, filters, measure="users"),
                    frequency_url=with_query(request.path, form.query(feature=row.feature)) + "#frequency",
                )
                for rank, row in enumerate(popularity)
            ],
            "has_data": any(row.users for row in popularity),
            "frequency_feature": feature,
            "frequency_rows": [FrequencyRow(bucket_range_label(b), b.min, b.max, b.users) for b in buckets],
            "frequency_trends_url": trends_link(slug, feature.key, period, filters) if feature else "",
            "popularity_chart_url": _url("hub-chart-popularity", slug, form.popularity_query()),
            "frequency_chart_url": _url("hub-chart-frequency", slug, frequency_query) if frequency_query else "",
            "csv": {
                "popularity": _url("api-hub-popularity", slug, form.popularity_query(format="csv")),
                "frequency": _url("api-hub-frequency", slug, form.frequency_query(feature.key, format="csv"))
                if feature is not None
                else "",
            },
        }
    )
    return render(request, template, context)
