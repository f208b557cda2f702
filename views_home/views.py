"""Pages of the Home tab (DESIGN.md §4).

Every figure comes from ``views_home.selectors``; this module only picks the workspace (scoped by
``crm_usage.api.workspaces_for``, 404 otherwise), validates the query with ``HomeQueryForm`` and
shapes selector results for the template (arrows, heat levels, the Monday-aligned calendar grid,
links that carry the same query).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from crm_usage.api import workspaces_for
from crm_usage.chrome import page_chrome, with_query
from events.periods import Period, week_start
from events.selectors import workspace_data_state
from views_home import selectors
from views_home.forms import DAY_PRESETS, HomeQueryForm

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
