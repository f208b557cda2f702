"""The Perception tab's pages (docs/perception.md): the voice of the customer, and the vocabulary its
labels use (admins change it). Each page parses its query once (``core.pages.tab_page``), calls its
selectors with it, and links the same query to its chart JSON and its CSV exports."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from core.forms import QueryForm
from core.pages import TabPage, tab_page, workspace_url
from core.queries import PeriodQuery
from perception import presenters
from perception.charts import sentiment_labels
from perception.forms import PerceptionForm, VocabularyForm, VoiceForm
from perception.queries import BREAKDOWNS, BreakdownQuery, PerceptionAccountsQuery, SummaryQuery, TrendQuery
from perception.selectors import metrics
from perception.selectors import voice as voice_selectors
from perception.services import PAGE_KEYWORDS
from perception.voice_queries import FeedbackListQuery, KeywordQuery, VoiceQuery, VoiceUnitQuery
from records.labelling import settings_as_json
from records.models import Contract, Feedback, SurveyResponse
from records.services import perception_settings_replace
from tenancy.models import AuditEntry
from tenancy.scoping import WorkspaceScope, workspace_page
from tenancy.services import audit_record

# How many feedback items the voice page lists; the CSV has them all.
PAGE_ROWS = 50
TAB = "perception-tab"

PAGES = (
    (_("Overview"), TAB),
    (_("Voice of the customer"), "perception-voice"),
)


def subnav(scope: WorkspaceScope, current: str) -> list[dict[str, Any]]:
    items = []
    for label, name in PAGES:
        try:
            url = workspace_url(name, scope)
        except NoReverseMatch:  # a page not built yet
            continue
        items.append({"label": label, "url": url, "current": name == current})
    return items


def perception_page[Q: PeriodQuery](
    request: HttpRequest,
    scope: WorkspaceScope,
    name: str,
    query_class: type[Q],
    form_class: type[QueryForm] = VoiceForm,
    batch_kind: str = "feedback",
) -> TabPage[Q]:
    page = tab_page(request, scope, TAB, query_class, form_class)
    workspace = scope.workspace
    page.context.update(
        {
            "subnav": subnav(scope, name),
            "waiting": Feedback.objects.filter(workspace=workspace, labelled_at__isnull=True).count(),
            "batch_url": request.build_absolute_uri(reverse("api-records-batch", kwargs={"kind": batch_kind})),
            "is_admin": scope.is_admin,
        }
    )
    if page.query is not None:
        page.context["period"] = page.query.period
    return page


def nothing_to_show(request: HttpRequest, page: TabPage[Any], template: str) -> HttpResponse | None:
    """The empty state, or the form's messages (400); None: figures to show."""
    if page.context["empty"]:
        return render(request, template, page.context)
    if page.query is None:
        return render(request, template, page.context, status=400)
    return None


@require_safe
@workspace_page
def overview_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """NPS, CES, CSAT, churn, renewal and retention cost against the previous period, by month, and per
    industry or owner, with the accounts behind the churn a click away."""
    page = perception_page(request, scope, TAB, BreakdownQuery, PerceptionForm, batch_kind="contracts")
    workspace = scope.workspace
    page.context["empty"] = not (
        SurveyResponse.objects.filter(workspace=workspace).exists()
        or Contract.objects.filter(workspace=workspace).exists()
    )
    template = "perception/overview.html"
    if (response := nothing_to_show(request, page, template)) is not None:
        return response
    query = page.query
    assert query is not None
    summary = metrics.summary(query.derive(SummaryQuery))
    fmt = presenters.money_of(workspace)
    months = metrics.trend(query.derive(TrendQuery))
    groups = metrics.breakdown(query)
    params = query.params(by=None)
    page.context.update(
        {
            "previous": summary.previous,
            "summary": summary,
            "cards": presenters.summary_cards(summary, fmt),
            "headings": [label for _key, label, _help, _kind, _good in presenters.METRICS],
            "months": [(row.month, presenters.row_texts(row.values, fmt)) for row in months],
            "groups": [
                (row.group, group_link(scope, query, row), presenters.row_texts(row.values, fmt)) for row in groups
            ],
            "by": query.by,
            "by_links": {by: workspace_url(TAB, scope, query.params(by=by)) for by in BREAKDOWNS},
            "segments_url": workspace_url("accounts-segments", scope),
            "trend_chart_url": workspace_url("perception-chart-trend", scope, params),
            "drill": {
                status: workspace_url("perception-accounts", scope, query.params(by=None, status=status))
                for status in ("at_start", "churned", "retained")
            },
            "csv": {
                "summary": workspace_url("api-perception-summary", scope, query.params(by=None, format="csv")),
                "trend": workspace_url("api-perception-trend", scope, query.params(by=None, format="csv")),
                "breakdown": workspace_url("api-perception-breakdown", scope, query.params(format="csv")),
            },
        }
    )
    return render(request, template, page.context)


def group_link(scope: WorkspaceScope, query: BreakdownQuery, row: metrics.GroupRow) -> str | None:
    """The accounts at start of a breakdown's group: the drill-down filtered as the group is counted."""
    group_filter: dict[str, Any]
    if row.segment is not None:
        if query.segment is not None and query.segment.pk != row.segment:
            return None  # the page filters by one segment at a time
        group_filter = {"segment": row.segment}
    elif row.group is None:
        return None  # "no industry" is not a filter value
    else:
        group_filter = {query.by: row.group}
    return workspace_url("perception-accounts", scope, query.params(by=None, status="at_start", **group_filter))


ACCOUNT_ROWS = 50


@require_safe
@workspace_page
def accounts_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """The accounts behind the churn figures: at start, churned or retained in the period."""
    page = perception_page(request, scope, TAB, PerceptionAccountsQuery, PerceptionForm, batch_kind="contracts")
    page.context["empty"] = not Contract.objects.filter(workspace=scope.workspace).exists()
    template = "perception/accounts.html"
    if (response := nothing_to_show(request, page, template)) is not None:
        return response
    query = page.query
    assert query is not None
    rows = metrics.perception_accounts(query)
    paginator = Paginator(rows, ACCOUNT_ROWS)
    current = paginator.get_page(query.page)
    figures = metrics.account_figures(query, [account.pk for account in current])
    page.context.update(
        {
            "status": query.status,
            "accounts": [(account, figures.get(account.pk)) for account in current],
            "page_obj": current,
            "back_url": workspace_url(TAB, scope, query.params(status=None, page=None, page_size=None)),
            "csv_url": workspace_url("api-perception-accounts", scope, query.params(format="csv", page=None)),
            "page_links": {
                "previous": workspace_url("perception-accounts", scope, query.params(page=current.number - 1))
                if current.has_previous() else "",
                "next": workspace_url("perception-accounts", scope, query.params(page=current.number + 1))
                if current.has_next() else "",
            },
        }
    )  # fmt: skip
    return render(request, template, page.context)


@require_safe
@workspace_page
def voice_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page = perception_page(request, scope, "perception-voice", VoiceUnitQuery)
    page.context.update(
        {"empty": not Feedback.objects.filter(workspace=scope.workspace).exists(), "show_waiting": True}
    )
    template = "perception/voice.html"
    if (response := nothing_to_show(request, page, template)) is not None:
        return response
    query = page.query
    assert query is not None
    answer = voice_selectors.voice(query)
    items = voice_selectors.feedback_items(query.derive(FeedbackListQuery))
    params = query.params()
    page.context.update(
        {
            "voice": answer,
            "sentiment_names": sentiment_labels(),
            "keywords": voice_selectors.keywords(query.derive(KeywordQuery, limit=PAGE_KEYWORDS)),
            "mentions": voice_selectors.competitor_mentions(query),
            "items": list(items[:PAGE_ROWS]),
            "item_count": items.count(),
            "charts": {
                name: workspace_url(f"perception-chart-{name}", scope, params)
                for name in ("sentiment", "intents", "competitors", "keywords")
            },
            "csv": {
                "feedback": workspace_url("api-perception-feedback", scope, query.params(format="csv")),
                "keywords": workspace_url(
                    "api-perception-keywords", scope, query.params(format="csv", limit=500, by=None)
                ),
                "competitors": workspace_url(
                    "api-perception-competitor-mentions", scope, query.params(format="csv", by=None)
                ),
            },
        }
    )
    return render(request, template, page.context)


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_page
def settings_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """The vocabulary: every member reads it, admins change it (and every text is labelled again)."""
    workspace = scope.workspace
    current = settings_as_json(workspace)
    form = VocabularyForm(initial=VocabularyForm.initial_from(current))
    if request.method == "POST":
        if not scope.is_admin:
            return render(request, "403.html", status=403)
        form = VocabularyForm(request.POST)
        if form.is_valid():
            vocabulary = form.cleaned_data["vocabulary"]
            perception_settings_replace(workspace=workspace, **vocabulary)
            audit_record(
                workspace=workspace,
                actor=request.user,
                action=AuditEntry.Action.UPDATED,
                target_type="perceptionsettings",
                changes={"before": current, "after": vocabulary},
            )
            messages.success(request, _("Saved. Every feedback text is being labelled again with these words."))
            return redirect("perception-settings", slug=workspace.slug)
    page = tab_page(request, scope, TAB, VoiceQuery, VoiceForm)
    page.context.update(
        {
            "subnav": subnav(scope, "perception-settings"),
            "settings_form": form,
            "is_admin": scope.is_admin,
            "waiting": Feedback.objects.filter(workspace=workspace, labelled_at__isnull=True).count(),
        }
    )
    return render(request, "perception/settings.html", page.context, status=400 if form.errors else 200)
