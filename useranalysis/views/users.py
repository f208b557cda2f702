"""The users table and a user's page (docs/metrics.md#user-analysis).

Each page parses its query once (``core.pages.tab_page``: 400 with the messages in the form when it
is not valid), calls the selectors with it, shapes the results (``useranalysis.presenters``) and
links the same query to the chart JSON, the CSV export, the user's page and back.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from core.chrome import with_query
from core.forms import PeriodForm
from core.pages import tab_page, workspace_url
from core.queries import PRESET_PARAMS, QueryInvalid
from events.filters import USER_FILTER_FIELDS
from events.models import CrmUser
from events.periods import Period
from tenancy.scoping import WorkspaceScope, workspace_page
from useranalysis import presenters, selectors
from useranalysis.forms import UsersForm
from useranalysis.queries import UserEventsQuery, UserPageQuery, UserQuery, UsersQuery
from useranalysis.views.common import PERIOD_AND_FILTERS, TAB, only, subnav, tab_request

SESSION_LIMIT = 100  # sessions listed on a user's page, newest first


@require_safe
@workspace_page
def users_tab(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """One row per CRM user for the period: attendance and its change, last seen, sessions, session
    minutes, interactions, features used; sortable, searchable, filtered, paginated, CSV of all rows."""
    narrowed = tab_request(request, only(request.GET, PERIOD_AND_FILTERS))
    page = tab_page(narrowed, scope, TAB, UsersQuery, UsersForm, data=request.GET)
    template, query = "useranalysis/users.html", page.query
    keep = query.params(search=None, ordering=None, page=None, page_size=None) if query else QueryDict()
    page.context["subnav"] = subnav(scope, keep, TAB)
    if query is None:
        return render(request, template, page.context, status=400)
    page.context.update(
        {
            "period": query.period,
            "has_users": scope.rows(CrmUser).exists(),
            "has_events": page.has_events,
            "narrowed": bool(query.search or query.filters),
            "reset_url": with_query(
                request.path, query.params(search=None, page=None, **dict.fromkeys(USER_FILTER_FIELDS))
            ),
            "users_batch_url": request.build_absolute_uri(reverse("api-users-batch")),
            "events_batch_url": request.build_absolute_uri(reverse("api-events-batch")),
            "table": users_table(request.path, query),
            "csv_url": workspace_url("api-users", scope, query.params(page=None, page_size=None, format="csv")),
        }
    )
    return render(request, template, page.context)


def users_table(path: str, query: UsersQuery) -> dict[str, Any]:
    # The table shows one page: last seen and features used are filled for its rows only, unless
    # it is sorted by them.
    defer = selectors.can_defer(query.ordering)
    rows = selectors.sort_rows(selectors.user_rows(query, defer=defer), query.ordering)
    return presenters.user_table(
        rows,
        presenters.TableLinks(path, query, "users-table"),
        detail=query.params(),
        caption=_("CRM users and their activity in the period; sort by a column heading."),
        complete=(lambda shown: selectors.user_rows_complete(query, shown)) if defer else None,
    )


# --- a user's page ------------------------------------------------------------------------------------


@require_safe
@workspace_page
def user_detail(request: HttpRequest, scope: WorkspaceScope, external_id: str) -> HttpResponse:
    """One CRM user: attributes, the period's metrics, daily activity (chart and table), sessions,
    features used and not used. The table's query rides along so "back" returns to the same view."""
    crm_user = scope.get(CrmUser, external_id=external_id)
    narrowed = tab_request(request, only(request.GET, PERIOD_AND_FILTERS))
    page = tab_page(narrowed, scope, TAB, UserPageQuery, PeriodForm, data=request.GET)
    template, query = "useranalysis/user_detail.html", page.query
    page.context["crm_user"] = crm_user
    if query is None:
        page.context["back_url"] = workspace_url(TAB, scope)
        return render(request, template, page.context, status=400)
    one = query.of(crm_user)
    page.context.update(user_figures(one))
    used, unused = selectors.features_of_user(one)
    page.context.update(features_of(scope, one, used, unused))
    page.context.update(user_timeline(request, scope, one, sorted(used)))
    page.context.update(
        {
            "chart_url": workspace_url("users-chart-daily-activity", scope, one.params()),
            "back_url": workspace_url(TAB, scope, query.params()),
            "activity_url": workspace_url("activity-tab", scope, one.params()),
            "hidden_query": [
                (key, value) for key, values in query.params(**dict.fromkeys(PRESET_PARAMS)).lists() for value in values
            ],
        }
    )
    return render(request, template, page.context)


TIMELINE_PAGE_SIZE = 50


def user_timeline(request: HttpRequest, scope: WorkspaceScope, one: UserQuery, used: list[str]) -> dict[str, Any]:
    """The user's raw events in the period, newest first, a page at a time (``events_page``), of one
    feature if ``events_feature`` names one; the same query as ``users/<id>/events``."""
    assert one.crm_user is not None
    data = QueryDict(mutable=True)
    data.update({"start": one.period.start.isoformat(), "end": one.period.end.isoformat()})
    data["feature"] = request.GET.get("events_feature", "")
    errors: list[str] = []
    try:
        query = UserEventsQuery.parse(data, workspace=scope.workspace)
    except QueryInvalid as exc:  # an unknown feature: say so, and show every feature's events
        errors = [m for messages in exc.errors.values() for m in messages]
        query = UserEventsQuery.over(scope.workspace, one.period)
    query = query.of(one.crm_user)
    events = Paginator(selectors.user_events(query), TIMELINE_PAGE_SIZE).get_page(request.GET.get("events_page"))

    def page_url(number: int) -> str:
        params = request.GET.copy()
        params["events_page"] = str(number)
        return with_query(request.path, params) + "#events"

    def feature_url(key: str) -> str:
        params = request.GET.copy()
        params.pop("events_page", None)
        params.pop("events_feature", None)
        if key:
            params["events_feature"] = key
        return with_query(request.path, params) + "#events"

    return {
        "events_page": events,
        "events_feature": query.feature.key if query.feature else "",
        "events_errors": errors,
        "events_previous_url": page_url(events.previous_page_number()) if events.has_previous() else "",
        "events_next_url": page_url(events.next_page_number()) if events.has_next() else "",
        "events_csv_url": workspace_url(
            "api-user-events", scope, query.params(format="csv"), external_id=one.crm_user.external_id
        ),
        # One link per feature the user used in the period (and every feature): no form to submit.
        "events_feature_links": [
            {"key": key, "url": feature_url(key), "current": key == (query.feature.key if query.feature else "")}
            for key in ["", *used]
        ],
    }


def user_figures(one: UserQuery) -> dict[str, Any]:
    """The user's metrics, daily activity and sessions over the period."""
    period = one.period
    row = selectors.user_row(one)
    daily = selectors.user_daily_activity(one)
    sessions = selectors.user_sessions(one, SESSION_LIMIT)
    return {
        "period": period,
        "previous": period.previous(),
        "row": row,
        "change": presenters.Change(row.attendance_change_pct),
        "last_seen_relative": presenters.relative_days(row.last_seen, period.end, one.workspace.today()),
        "daily": daily,
        "active_days": sum(1 for _day, n in daily if n),
        "sessions": sessions,
        "sessions_shown": len(sessions),
        "session_limit": SESSION_LIMIT,
    }


def features_of(scope: WorkspaceScope, one: UserQuery, used: dict[str, int], unused: list[str]) -> dict[str, Any]:
    """The features the user used (most first, each with a bar) and the catalog's others
    (``selectors.features_of_user``); each name opens its trend over the period."""
    top = max(used.values(), default=0)

    def trends(feature: str) -> str:
        return trends_url(scope, feature, one.period)

    return {
        "features_used": [
            presenters.FeatureUse(key, n, round(n / top * 100, 1) if top else 0.0, trends(key))
            for key, n in used.items()
        ],
        "features_unused": [{"feature": key, "trends_url": trends(key)} for key in unused],
        "catalog_size": len(used) + len(unused),
    }


def trends_url(scope: WorkspaceScope, feature: str, period: Period) -> str:
    """The Trends tab for one feature over the period."""
    query = QueryDict(mutable=True)
    query["feature"] = feature
    query["start"], query["end"] = period.start.isoformat(), period.end.isoformat()
    return workspace_url("trends-tab", scope, query)
