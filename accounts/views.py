"""Pages of the Accounts tab (docs/accounts.md): the overview (seed 001), the account list, the saved
segments and an account's page.

Each page parses its query once (``accounts.queries``: a 400 with the messages in its form when it is not
valid), calls ``accounts.selectors`` with it and links the same query to its charts (``accounts.charts``)
and its CSV (the API with ``format=csv``). Who may see, save, change or delete a segment is the scope's
to say (``tenancy.scoping``).
"""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from accounts import presenters, selectors, services
from accounts.forms import ListForm, OverviewForm, SegmentSaveForm
from accounts.models import Segment
from accounts.queries import (
    DEFAULT_COLUMNS,
    CriteriaParams,
    ListPageQuery,
    ListQuery,
    OverviewQuery,
    SegmentSaveParams,
    segment_list_query,
)
from core.chrome import page_chrome, with_query
from core.pages import workspace_url
from core.queries import QueryInvalid, parse_or_errors
from records.selectors import figures_pending
from tenancy.scoping import WorkspaceScope, workspace_page

TAB = "accounts-tab"
LIST = "accounts-list"
SEGMENTS = "accounts-segments"
ACTIVITIES_PAGE_SIZE = 50
CLOSING_ROWS = 50  # accounts closing this month on the page; its CSV has them all
VIEWS = (
    (gettext_lazy("Overview"), TAB),
    (gettext_lazy("Account list"), LIST),
    (gettext_lazy("Segments"), SEGMENTS),
)


# --- what every page shares ------------------------------------------------------------------------------


def only(data: QueryDict, names: tuple[str, ...]) -> QueryDict:
    kept = QueryDict(mutable=True)
    for name in names:
        if values := [value for value in data.getlist(name) if value != ""]:
            kept.setlist(name, values)
    return kept


def chrome(request: HttpRequest, scope: WorkspaceScope, keep: QueryDict, current: str) -> dict[str, Any]:
    """The tab bar and the switcher (carrying only ``keep`` to other tabs: this tab's filters mean
    nothing there), the tab's views, and the state of the records."""
    narrowed = copy.copy(request)
    narrowed.GET = keep  # type: ignore[assignment]
    workspace = scope.workspace
    return {
        **page_chrome(narrowed, workspace, active=TAB),
        "subnav": [
            {"label": label, "url": workspace_url(name, scope), "current": name == current} for label, name in VIEWS
        ],
        "figures_pending": figures_pending(workspace=workspace),
        "has_records": selectors.records_exist(workspace),
        "deals_batch_url": request.build_absolute_uri(reverse("api-records-batch", kwargs={"kind": "deals"})),
        "can_create": scope.can_create_saved,
    }


def cents(value: int | None, scope: WorkspaceScope) -> str:
    return presenters.amount(value, scope.workspace)


def pager(request: HttpRequest, page: Page[Any], param: str = "page", anchor: str = "") -> dict[str, Any]:
    """Links to the pages around ``page`` keeping the rest of the query string."""

    def url(number: int) -> str:
        params = request.GET.copy()
        if number > 1:
            params[param] = str(number)
        else:
            params.pop(param, None)
        return with_query(request.path, params) + anchor

    last = page.paginator.num_pages
    return {
        "page": page,
        "start": page.start_index(),
        "end": page.end_index(),
        "count": page.paginator.count,
        "previous": url(page.number - 1) if page.has_previous() else "",
        "next": url(page.number + 1) if page.has_next() else "",
        "first": url(1) if page.number > 1 else "",
        "last": url(last) if page.number < last else "",
    }


def account_url(scope: WorkspaceScope, external_id: str) -> str:
    return reverse("accounts-detail", kwargs={"slug": scope.workspace.slug, "external_id": external_id})


def account_table(
    request: HttpRequest, scope: WorkspaceScope, query: ListQuery, columns: tuple[str, ...]
) -> dict[str, Any]:
    """One page of the list's accounts with the chosen columns laid out for the page."""
    page = Paginator(selectors.account_rows(query), query.page_size).get_page(query.page)
    rows = []
    for account in page:
        cells = []
        for column in columns:
            cells.append(
                {
                    "key": column,
                    "text": presenters.cell_text(account, column, scope.workspace),
                    "numeric": column in presenters.NUMERIC_COLUMNS,
                }
            )
        rows.append({"account": account, "url": account_url(scope, account.external_id), "cells": cells})
    return {
        "rows": rows,
        "columns": [
            {"key": c, "label": presenters.COLUMN_LABELS[c], "numeric": c in presenters.NUMERIC_COLUMNS}
            for c in columns
        ],
        "pager": pager(request, page),
    }


def hidden_fields(values: dict[str, Any]) -> list[tuple[str, str]]:
    """A list's saved filters as hidden form inputs (name, value), a list as repeated inputs."""
    fields = []
    for key, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            fields.append((key, str(item)))
    return fields


# --- the overview ----------------------------------------------------------------------------------------


@require_safe
@workspace_page
def accounts_tab(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """The 001 overview: KPIs, revenue by close month, acquisition, industries, revenue bands, top and
    rising products, accounts closing this month, suggested segments."""
    workspace = scope.workspace
    template = "accounts/overview.html"
    query, errors = parse_or_errors(OverviewQuery, request.GET, workspace)
    keep = only(request.GET, ("as_of", "days")) if query is not None else QueryDict()
    context = chrome(request, scope, keep, TAB)
    context["form"] = OverviewForm(query.params() if query else request.GET, workspace=workspace, errors=errors)
    context["query"] = query
    if query is None:
        return render(request, template, context, status=400)
    if not context["has_records"]:
        return render(request, template, context)
    answer = selectors.overview(query, CLOSING_ROWS)
    params = query.params()

    def csv(table: str) -> str:
        return workspace_url("api-accounts-overview", scope, query.params(table=table, format="csv"))

    context.update(
        {
            "answer": answer,
            "kpis": {
                "accounts": answer.kpis.accounts,
                "revenue": cents(answer.kpis.revenue_cents, scope),
                "new": answer.kpis.new_accounts_6m,
            },
            "new_since": query.new_since,
            "period": query.period,
            "previous": query.period.previous(),
            "top_accounts": [
                {"row": a, "url": account_url(scope, a.external_id), "revenue": cents(a.revenue_cents, scope)}
                for a in answer.top_accounts
            ],
            "closing": [
                {"row": c, "url": account_url(scope, c.external_id), "amount": cents(c.amount_cents, scope)}
                for c in answer.closing_this_month.rows
            ],
            "closing_truncated": answer.closing_this_month.truncated,
            "revenue_months": [(m.month, cents(m.revenue_cents, scope)) for m in answer.revenue_by_month],
            "bands": [
                {
                    "label": presenters.band_label(b.min_cents, b.max_cents, workspace),
                    "accounts": b.accounts,
                }
                for b in answer.revenue_bands
            ],
            "top_products": [{"row": p, "amount": cents(p.amount_cents, scope)} for p in answer.products.top],
            "rising_products": [
                {
                    "row": p,
                    "amount": cents(p.amount_cents, scope),
                    "previous": cents(p.previous_cents, scope),
                    "increase": cents(p.increase_cents, scope),
                }
                for p in answer.products.rising
            ],
            "suggestions": suggestions(request, scope),
            "charts": {
                name.replace("-", "_"): workspace_url(f"accounts-chart-{name}", scope, params)
                for name in ("revenue", "acquisition", "industries", "bands", "top-products", "rising-products")
            },
            "csv": {table: csv(table) for table in presenters.OVERVIEW_COLUMNS},
            "api_url": workspace_url("api-accounts-overview", scope, params),
        }
    )
    return render(request, template, context)


def suggestions(request: HttpRequest, scope: WorkspaceScope) -> list[dict[str, Any]]:
    """Each suggested segment with its count, its accounts in the list, and what saving it sends."""
    result = []
    for suggestion in selectors.suggested_segments(scope.workspace):
        rule = suggestion.rule
        filters = QueryDict(mutable=True)
        filters["suggested"] = rule.key
        result.append(
            {
                "suggestion": suggestion,
                "list_url": workspace_url(LIST, scope, filters),
                "hidden": [("suggested", rule.key)],
                "name": rule.name,
            }
        )
    return result


# --- the account list ------------------------------------------------------------------------------------


@require_safe
@workspace_page
def account_list(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """Every account (not deleted): search, filters, columns, order, pages, CSV, save as a segment."""
    workspace = scope.workspace
    template = "accounts/list.html"
    query, errors = parse_or_errors(ListPageQuery, request.GET, workspace)
    context = chrome(request, scope, QueryDict(), LIST)
    context["form"] = ListForm(query.params() if query else request.GET, workspace=workspace, errors=errors)
    context["query"] = query
    if query is None:
        return render(request, template, context, status=400)
    list_query = query.list_query()
    saved = list_query.saved_filters()
    context.update(
        {
            "table": account_table(request, scope, list_query, query.columns),
            "narrowed": list_query.narrowed,
            "reset_url": request.path,
            "csv_url": workspace_url("api-accounts", scope, list_query.params(page=None, page_size=None, format="csv")),
            "save_form": SegmentSaveForm(),
            "save_hidden": hidden_fields(saved),
            "save_url": workspace_url("accounts-segment-new", scope),
            "next_url": with_query(request.path, query.params()),
            "summary": presenters.describe_filters(saved),
            "page_size": query.page_size if query.page_size != ListQuery.page_size else None,
        }
    )
    return render(request, template, context)


# --- segments --------------------------------------------------------------------------------------------


@require_safe
@workspace_page
def segments(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """The segments the person may see (their own and the shared ones) and the suggested ones."""
    items = []
    for segment in scope.saved(Segment).order_by("name", "pk"):
        items.append(
            {
                "segment": segment,
                "url": workspace_url("accounts-segment", scope, pk=segment.pk),
                "mine": segment.owner_id == scope.user.pk,
                "can_edit": scope.can_edit_saved(segment),
                "delete_url": workspace_url("accounts-segment-delete", scope, pk=segment.pk),
                "summary": presenters.describe_filters(segment.stored_filters),
            }
        )
    context = {
        **chrome(request, scope, QueryDict(), SEGMENTS),
        "items": items,
        "list_url": workspace_url(LIST, scope),
        "suggestions": suggestions(request, scope),
        "save_form": SegmentSaveForm(),
        "save_url": workspace_url("accounts-segment-new", scope),
        "next_url": request.get_full_path(),
    }
    return render(request, "accounts/segments.html", context)


def safe_next(request: HttpRequest, default: str) -> str:
    back = request.POST.get("next", "")
    return back if back.startswith("/") and not back.startswith("//") else default


@require_http_methods(["POST"])
@workspace_page
def segment_new(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """Save the posted list filters as a segment (admins and analysts), then open it."""
    if not scope.can_create_saved:
        raise PermissionDenied("Only workspace admins and analysts save segments.")
    problems: list[str] = []
    save = SegmentSaveParams(data=request.POST)
    criteria = CriteriaParams(data=request.POST, context={"workspace": scope.workspace})
    for params in (save, criteria):
        if not params.is_valid():
            problems += [f"{key}: {m}" for key, ms in QueryInvalid(params.errors).errors.items() for m in ms]
    if problems:
        for problem in problems:
            messages.error(request, problem)
        return redirect(safe_next(request, workspace_url(LIST, scope)))
    filters = ListQuery.build(scope.workspace, dict(criteria.validated_data)).saved_filters()
    segment = services.segment_save(
        workspace=scope.workspace,
        actor=request.user,
        segment=None,
        values={**save.validated_data, "filters": filters},
    )
    messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
    return redirect(workspace_url("accounts-segment", scope, pk=segment.pk))


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_page
def segment_page(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    """A segment: its filters in words and its accounts (as the list shows them); its owner and admins
    rename it or change who sees it (POST)."""
    segment = scope.get_saved(Segment, pk)
    can_edit = scope.can_edit_saved(segment)
    here = workspace_url("accounts-segment", scope, pk=segment.pk)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only the owner or a workspace admin may change this segment.")
        save = SegmentSaveParams(data=request.POST)
        if save.is_valid():
            services.segment_save(
                workspace=scope.workspace, actor=request.user, segment=segment, values=dict(save.validated_data)
            )
            messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
        else:
            for key, ms in QueryInvalid(save.errors).errors.items():
                for m in ms:
                    messages.error(request, f"{key}: {m}")
        return redirect(here)
    filters = segment.stored_filters
    context: dict[str, Any] = {
        **chrome(request, scope, QueryDict(), SEGMENTS),
        "segment": segment,
        "can_edit": can_edit,
        "mine": segment.owner_id == scope.user.pk,
        "summary": presenters.describe_filters(filters),
        "edit_form": SegmentSaveForm(initial={"name": segment.name, "visibility": segment.visibility}),
        "delete_url": workspace_url("accounts-segment-delete", scope, pk=segment.pk),
        "list_url": workspace_url(LIST, scope, query_of(filters)),
        "segments_url": workspace_url(SEGMENTS, scope),
    }
    try:
        query = segment_list_query(scope.workspace, filters, request.GET)
    except QueryInvalid as exc:
        context["errors"] = [f"{key}: {m}" for key, ms in exc.errors.items() for m in ms]
        return render(request, "accounts/segment.html", context)
    params = QueryDict(mutable=True)
    params["format"] = "csv"
    if "ordering" in request.GET:
        params["ordering"] = query.ordering
    context.update(
        {
            "table": account_table(request, scope, query, DEFAULT_COLUMNS),
            "csv_url": workspace_url("segment-accounts", scope, params, pk=segment.pk),
            "api_url": workspace_url("segment-accounts", scope, pk=segment.pk),
        }
    )
    return render(request, "accounts/segment.html", context)


def query_of(filters: dict[str, Any]) -> QueryDict:
    params = QueryDict(mutable=True)
    for key, value in filters.items():
        if isinstance(value, list):
            params.setlist(key, [str(v) for v in value])
        else:
            params[key] = str(value)
    return params


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_page
def segment_delete(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    """Confirmation (GET), then deletion (POST) by the owner or a workspace admin."""
    segment = scope.get_saved(Segment, pk)
    if not scope.can_edit_saved(segment):
        raise PermissionDenied("Only the owner or a workspace admin may delete this segment.")
    if request.method == "POST":
        name = segment.name
        services.segment_delete(actor=request.user, segment=segment)
        messages.success(request, _("Segment “%(name)s” deleted.") % {"name": name})
        return redirect(workspace_url(SEGMENTS, scope))
    context = {
        **chrome(request, scope, QueryDict(), SEGMENTS),
        "segment": segment,
        "summary": presenters.describe_filters(segment.stored_filters),
        "cancel_url": workspace_url("accounts-segment", scope, pk=segment.pk),
    }
    return render(request, "accounts/segment_delete.html", context)


# --- an account ------------------------------------------------------------------------------------------


@require_safe
@workspace_page
def account_detail(request: HttpRequest, scope: WorkspaceScope, external_id: str) -> HttpResponse:
    """One account: its figures, deals, latest activities, products and revenue by close month."""
    account = selectors.account_find(scope.workspace, external_id)
    if account is None:
        raise Http404("No such account in this workspace.")
    deals = list(selectors.account_deals(account))
    products = selectors.account_products(account)
    activities = Paginator(selectors.account_activities(account), ACTIVITIES_PAGE_SIZE).get_page(
        request.GET.get("activities_page")
    )
    months = selectors.account_revenue_by_month(account)
    chart = QueryDict(mutable=True)
    chart["account"] = account.external_id

    def csv(table: str) -> str:
        params = QueryDict(mutable=True)
        params.update({"table": table, "format": "csv"})
        return workspace_url("api-account", scope, params, external_id=account.external_id)

    context = {
        **chrome(request, scope, QueryDict(), LIST),
        "account": account,
        "figures": {
            "revenue": cents(account.revenue_cents, scope),  # type: ignore[attr-defined]
            "open_pipeline": cents(account.open_pipeline_cents, scope),  # type: ignore[attr-defined]
        },
        "deals": [{"deal": d, "amount": cents(d.amount_cents, scope)} for d in deals],
        "products": [{"row": p, "amount": cents(p.amount_cents, scope)} for p in products],
        "activities": activities,
        "activities_pager": pager(request, activities, "activities_page", "#activities"),
        "revenue_months": [(m.month, cents(m.revenue_cents, scope)) for m in months],
        "chart_url": workspace_url("accounts-chart-account-revenue", scope, chart),
        "csv": {"deals": csv("deals"), "products": csv("products")},
        "list_url": workspace_url(LIST, scope),
        **perception_context(scope, account),
    }
    return render(request, "accounts/account.html", context)


FEEDBACK_SHOWN = 5


def perception_context(scope: WorkspaceScope, account: Any) -> dict[str, Any]:
    """What the account's customers say (docs/perception.md#on-the-account): its figures, the signs of
    churn risk, its contracts and its latest feedback."""
    figures = getattr(account, "figures", None)
    sentiment = figures.last_sentiment if figures is not None else ""
    voice = QueryDict(mutable=True)
    voice["account"] = account.external_id
    try:
        voice_url = workspace_url("perception-voice", scope, voice)
    except NoReverseMatch:
        voice_url = ""
    return {
        "perception": {
            "nps": figures.nps if figures is not None else None,
            "nps_responses": figures.nps_responses if figures is not None else 0,
            "last_nps_score": figures.last_nps_score if figures is not None else None,
            "last_sentiment": sentiment,
            "last_sentiment_label": presenters.SENTIMENT_LABELS.get(sentiment, ""),
        },
        "churn_reasons": [presenters.CHURN_REASONS[reason] for reason in account.churn_reasons],
        "contracts": [
            {"contract": c, "value": cents(c.monthly_value_cents, scope)} for c in selectors.account_contracts(account)
        ],
        "feedback": list(selectors.account_feedback(account)[:FEEDBACK_SHOWN]),
        "voice_url": voice_url,
    }
