"""The Behaviour tab (docs/metrics.md#behaviour), three views: failures and speed (where operations
fail or slow down, and when), retention (do people come back) and engagement (lifecycle and
stickiness). Each page parses its query once (``core.pages.tab_page``), calls the selectors with
it, and links the same query to the chart JSON and the CSV exports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from behaviour import selectors
from behaviour.charts import weekday_names
from behaviour.forms import AnomaliesForm, BehaviourForm, EngagementForm, PathsForm, RetentionForm
from behaviour.queries import (
    AnomaliesQuery,
    BehaviourQuery,
    EngagementQuery,
    PathsQuery,
    PathUsersQuery,
    QualityQuery,
    RetentionQuery,
)
from core.chrome import with_query
from core.pages import TabPage, tab_page, workspace_url
from core.people import drilldown_url
from core.queries import PeriodQuery, parse_or_errors
from events.models import Feature
from tenancy.scoping import WorkspaceScope, workspace_page


@dataclass(frozen=True)
class FailureRow:
    row: selectors.FeatureFailures
    heatmap_url: str  # this page with the heatmap of the feature and action


@dataclass(frozen=True)
class HeatmapRow:
    weekday: str
    cells: list[selectors.HeatmapCell]


@require_safe
@workspace_page
def behaviour_tab(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page = tab_page(request, scope, "behaviour-tab", BehaviourQuery, BehaviourForm)
    template, query = "behaviour/behaviour.html", page.query
    if (response := page.nothing_to_show(request, template)) is not None:
        return response
    assert query is not None

    failures = selectors.failures_by_feature(query.failures())
    cells = selectors.hour_heatmap(query.heatmap())
    heatmap_params = query.heatmap().params()
    failure_params = query.failures().params()
    page.context.update(
        {
            "subnav": subnav(scope, query, "behaviour-tab"),
            "failure_rows": [
                FailureRow(
                    row,
                    with_query(request.path, query.params(feature=row.feature, action=row.action)) + "#heatmap",
                )
                for row in failures.features
            ],
            "durations_exact": failures.durations == "exact",
            "has_outcomes": any(row.known_outcome for row in failures.features),
            "has_failures": any(row.failures for row in failures.features),
            "heatmap_feature": query.feature,
            "heatmap_action": query.action,
            "heatmap_rows": [HeatmapRow(name, cells[n * 24 : n * 24 + 24]) for n, name in enumerate(weekday_names())],
            "heatmap_has_events": any(c.events for c in cells),
            "heatmap_has_outcomes": any(c.outcomes for c in cells),
            "hours": range(24),
            "failure_chart_url": workspace_url("behaviour-chart-failure-rate", scope, failure_params),
            "heatmap_chart_url": workspace_url("behaviour-chart-heatmap", scope, heatmap_params),
            "failure_heatmap_chart_url": workspace_url("behaviour-chart-failure-heatmap", scope, heatmap_params),
            "csv": {
                "failures": workspace_url("api-behaviour-failures", scope, query.failures().params(format="csv")),
                "heatmap": workspace_url("api-behaviour-heatmap", scope, query.heatmap().params(format="csv")),
            },
        }
    )
    return render(request, template, page.context)


VIEWS = (
    (_("Failures and speed"), "behaviour-tab"),
    (_("Retention"), "behaviour-retention"),
    (_("Engagement"), "behaviour-engagement"),
    (_("Paths"), "behaviour-paths"),
    (_("Anomalies"), "behaviour-anomalies"),
    (_("Data quality"), "behaviour-data-quality"),
)


def subnav(scope: WorkspaceScope, query: PeriodQuery, current: str) -> list[dict[str, Any]]:
    """The tab's views, each keeping the period and the user filters."""
    keep = QueryDict(mutable=True)
    keep.update(query.period_pick.params())
    for name, values in query.filters.items():
        keep.setlist(name, values)
    items = [
        {"label": label, "url": workspace_url(name, scope, keep), "current": name == current} for label, name in VIEWS
    ]
    # The analysis report of the same period (the reports app, by its URL name).
    items.append({"label": _("Analysis report"), "url": workspace_url("reports-analysis", scope, keep), "report": True})
    return items


def heat_class(pct: float | None) -> str:
    """The shade of a retention cell: ``heat-0`` … ``heat-10`` by tenths (classes, as the CSP allows
    no inline style)."""
    return "heat-none" if pct is None else f"heat-{min(10, int(pct // 10))}"


@dataclass(frozen=True)
class CohortRow:
    cohort: selectors.Cohort
    cells: list[tuple[selectors.RetentionValue, str]]  # each value with its shade


@require_safe
@workspace_page
def retention_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page: TabPage[RetentionQuery] = tab_page(request, scope, "behaviour-tab", RetentionQuery, RetentionForm)
    template, query = "behaviour/retention.html", page.query
    if (response := page.nothing_to_show(request, template)) is not None:
        return response
    assert query is not None
    cohorts = selectors.retention(query)
    page.context.update(
        {
            "subnav": subnav(scope, query, "behaviour-retention"),
            "cohort_rows": [CohortRow(c, [(v, heat_class(v.pct)) for v in c.values]) for c in cohorts],
            "offsets": range(query.periods),
            "has_cohorts": any(c.size for c in cohorts),
            "interval": query.interval.value,
            "chart_url": workspace_url("behaviour-chart-retention", scope, query.params()),
            "csv_url": workspace_url("api-behaviour-retention", scope, query.params(format="csv")),
            # A cell opens its users (docs/drilldown.md): add people=<cohort>:<offset>.
            "people_url": drilldown_url(scope.workspace.slug, "behaviour/retention", query.params()),
        }
    )
    return render(request, template, page.context)


@require_safe
@workspace_page
def engagement_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page: TabPage[EngagementQuery] = tab_page(request, scope, "behaviour-tab", EngagementQuery, EngagementForm)
    template, query = "behaviour/engagement.html", page.query
    if (response := page.nothing_to_show(request, template)) is not None:
        return response
    assert query is not None
    buckets = selectors.lifecycle(query.lifecycle())
    sticky = selectors.stickiness(query.stickiness())
    page.context.update(
        {
            "subnav": subnav(scope, query, "behaviour-engagement"),
            "buckets": buckets,
            "has_lifecycle": any(b.new or b.returning or b.resurrecting or b.dormant for b in buckets),
            "interval": query.interval.value,
            "stickiness": sticky,
            "sticky_users": sum(n for _, n in sticky.counts),
            "lifecycle_chart_url": workspace_url("behaviour-chart-lifecycle", scope, query.lifecycle().params()),
            "stickiness_chart_url": workspace_url("behaviour-chart-stickiness", scope, query.stickiness().params()),
            # A bar opens its users (docs/drilldown.md): add people=<bucket>:<state> or <active days>.
            "lifecycle_people": drilldown_url(scope.workspace.slug, "behaviour/lifecycle", query.lifecycle().params()),
            "stickiness_people": drilldown_url(
                scope.workspace.slug, "behaviour/stickiness", query.stickiness().params()
            ),
            "csv": {
                "lifecycle": workspace_url("api-behaviour-lifecycle", scope, query.lifecycle().params(format="csv")),
                "stickiness": workspace_url("api-behaviour-stickiness", scope, query.stickiness().params(format="csv")),
            },
        }
    )
    return render(request, template, page.context)


@require_safe
@workspace_page
def anomalies_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page: TabPage[AnomaliesQuery] = tab_page(request, scope, "behaviour-tab", AnomaliesQuery, AnomaliesForm)
    template, query = "behaviour/anomalies.html", page.query
    if (response := page.nothing_to_show(request, template)) is not None:
        return response
    assert query is not None
    found = selectors.anomalies(query)
    # The chart: the query's feature, or the total; an anomaly row links to its feature's chart.
    page.context.update(
        {
            "subnav": subnav(scope, query, "behaviour-anomalies"),
            "anomalies": [
                (a, with_query(request.path, query.params(feature=a.feature or "*")) + "#anomaly-chart") for a in found
            ],
            "series_label": query.feature.key if isinstance(query.feature, Feature) else None,
            "chart_url": workspace_url("behaviour-chart-anomaly", scope, query.params()),
            "csv_url": workspace_url("api-behaviour-anomalies", scope, query.params(format="csv")),
        }
    )
    return render(request, template, page.context)


@dataclass(frozen=True)
class Check:
    name: str
    title: Any
    explanation: Any
    finding: selectors.Finding
    columns: list[tuple[str, Any]]  # (example key, heading)


@require_safe
@workspace_page
def data_quality_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page: TabPage[QualityQuery] = tab_page(request, scope, "behaviour-tab", QualityQuery)
    template, query = "behaviour/data_quality.html", page.query
    if (response := page.nothing_to_show(request, template)) is not None:
        return response
    assert query is not None
    report = selectors.data_quality(query)
    event_columns = [("timestamp", _("Time")), ("user", _("User")), ("feature", _("Feature")), ("action", _("Action"))]
    session_columns = [
        ("started_at", _("Start")),
        ("user", _("User")),
        ("seconds", _("Seconds")),
        ("events", _("Events")),
    ]
    checks = [
        Check("suspected_duplicates", _("Suspected duplicates"),
              _("Events that follow one of the same user, feature, action, detail and record by 1 second or less: often a double click or a client that resends without a uuid."),
              report.suspected_duplicates, [*event_columns, ("gap_seconds", _("Gap (s)"))]),
        Check("short_sessions", _("Short sessions"), _("Sessions shorter than 10 seconds, one-event sessions included."),
              report.short_sessions, session_columns),
        Check("long_sessions", _("Long sessions"),
              _("Sessions longer than 24 hours: usually an integration or a shared login sending events all day."),
              report.long_sessions, session_columns),
        Check("late_events", _("Late events"),
              _("Received more than 24 hours after they happened: their days were recomputed when they arrived."),
              report.late_events, [*event_columns, ("received_at", _("Received"))]),
        Check("future_events", _("Future events"),
              _("Happened more than 5 minutes after they were received: a client clock or time zone is wrong."),
              report.future_events, [*event_columns, ("received_at", _("Received"))]),
        Check("users_never_seen", _("Users never seen"),
              _("CRM users who are not deactivated but have no event at all: not using the CRM, or sent under another ID."),
              report.users_never_seen, [("user", _("User")), ("name", _("Name")), ("email", _("Email"))]),
    ]  # fmt: skip
    period = QueryDict(mutable=True)
    period.update(query.period_pick.params())
    for check in checks:  # each example opens the user's page (their events) over the same period
        for example in check.finding.examples:
            example["url"] = workspace_url("users-detail", scope, period, external_id=example["user"]) + "#events"
    page.context.update(
        {
            "subnav": subnav(scope, query, "behaviour-data-quality"),
            "checks": checks,
            "features_to_review": report.features_to_review,
            "review_url": reverse("admin:events_feature_changelist") + "?auto_created__exact=1",
            "csv_url": workspace_url("api-behaviour-data-quality", scope, query.params(format="csv")),
        }
    )
    return render(request, template, page.context)


# The paths' own parameters: a link to a user's page keeps only the period and the filters.
PATH_PARAMS = ("node", "start_point", "end_point", "steps", "exclude", "limit")


@require_safe
@workspace_page
def paths_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page: TabPage[PathsQuery] = tab_page(request, scope, "behaviour-tab", PathsQuery, PathsForm)
    template, query = "behaviour/paths.html", page.query
    if (response := page.nothing_to_show(request, template)) is not None:
        return response
    assert query is not None
    report = selectors.paths(query)
    # A node or an edge clicked on the Sankey (or its tables): the users behind it.
    drill, drill_errors = (
        parse_or_errors(PathUsersQuery, request.GET, scope.workspace) if "at_step" in request.GET else (None, {})
    )
    drill_users = selectors.path_users(drill, drill.at_step, drill.at_node, drill.to_node) if drill else []
    page.context.update(
        {
            "drill": drill,
            "drill_base": query.params().urlencode(),
            "drill_errors": [m for messages in drill_errors.values() for m in messages],
            "drill_users": [
                (
                    u,
                    workspace_url(
                        "users-detail", scope, query.params(**dict.fromkeys(PATH_PARAMS)), external_id=u.external_id
                    ),
                )
                for u in drill_users
            ],
            "drill_csv_url": workspace_url("api-behaviour-path-users", scope, drill.params(format="csv"))
            if drill
            else "",
            "subnav": subnav(scope, query, "behaviour-paths"),
            "report": report,
            "chart_url": workspace_url("behaviour-chart-paths", scope, query.params()),
            "csv_url": workspace_url("api-behaviour-paths", scope, query.params(format="csv")),
        }
    )
    return render(request, template, page.context)
