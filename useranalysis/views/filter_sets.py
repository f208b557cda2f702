"""The saved filter sets of the User analysis tab: the list, the builder (new or saved), its CSV, and
deleting one (docs/metrics.md#filter-sets).

Who may see, save, change or delete a filter set is the scope's to say (``tenancy.scoping``); the
builder reads its fields into a ``BuilderQuery`` (``useranalysis.builder``), the query that the
page's result, its sort and page links and its CSV take alike.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from core.attributes import attribute_label
from core.csv import csv_download, wants_excel
from core.pages import period_presets, workspace_url
from core.people import USER_COLUMNS, row_json
from core.queries import PRESET_PARAMS, QueryInvalid
from events.filters import STATIC_USERS_FIELD, USER_FILTER_FIELDS
from tenancy.scoping import WorkspaceScope, workspace_page
from useranalysis import presenters, selectors, services
from useranalysis.builder import (
    STATIC_OF,
    Builder,
    BuilderQuery,
    builder_from,
    definition_query,
    is_builder_query,
    with_added_row,
)
from useranalysis.models import FilterSet
from useranalysis.queries import Definition, SaveParams
from useranalysis.views.common import chrome, kept_period, only, period_query, subnav

LIST = "users-filter-sets"
TEMPLATE = "useranalysis/filter_set.html"


@require_safe
@workspace_page
def filter_sets(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """The filter sets the user may see: their own and the workspace-visible ones."""
    keep = kept_period(request, scope)
    as_of_only = only(keep, ("as_of",))  # a saved set has its own number of days
    items = [
        filter_set_item(scope, filter_set, as_of_only) for filter_set in scope.saved(FilterSet).order_by("name", "pk")
    ]
    context = {
        **chrome(request, scope, keep),
        "subnav": subnav(scope, keep, LIST),
        "items": items,
        "can_create": scope.can_create_saved,
        "new_url": workspace_url("users-filter-set-new", scope, keep),
    }
    return render(request, "useranalysis/filter_sets.html", context)


def filter_set_item(scope: WorkspaceScope, filter_set: FilterSet, query: QueryDict) -> dict[str, Any]:
    return {
        "filter_set": filter_set,
        "url": workspace_url("users-filter-set", scope, query, pk=filter_set.pk),
        "mine": filter_set.owner_id == scope.user.pk,
        "can_edit": scope.can_edit_saved(filter_set),
        "delete_url": workspace_url("users-filter-set-delete", scope, pk=filter_set.pk),
        "summary": presenters.describe_conditions(filter_set.stored_conditions, well_formed=filter_set.well_formed),
        "group_by": attribute_label(filter_set.group_by),
    }


def static_users(filter_set: FilterSet | None) -> list[str]:
    """The fixed list of users a saved filter set keeps (the people at a funnel step), if any."""
    if filter_set is None or not filter_set.well_formed:
        return []
    return [str(v) for v in (filter_set.stored_conditions.get("users") or {}).get(STATIC_USERS_FIELD) or []]


def with_static_users(data: QueryDict, scope: WorkspaceScope, filter_set: FilterSet | None) -> QueryDict:
    """The builder's fields with the fixed list of users they stand for: the saved set's own, or
    that of the set named by ``static_of`` (a copy of one, or "save as a new filter set"). The ids
    never travel in a URL or a form: thousands of them would not fit."""
    source = filter_set
    named = str(data.get(STATIC_OF) or "")
    if not static_users(filter_set) and named.isdigit() and len(named) < 12:
        source = scope.get_saved(FilterSet, int(named))  # one the person may see, else 404
    ids = static_users(source)
    data = data.copy()
    data.pop(STATIC_USERS_FIELD, None)
    data.pop(STATIC_OF, None)
    if ids and source is not None:
        data.setlist(STATIC_USERS_FIELD, ids)
        data[STATIC_OF] = str(source.pk)
    return data


@require_http_methods(["POST"])
@workspace_page
def filter_set_from_users(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """Save a fixed list of users (one external id per line of ``external_ids``: the people at a
    funnel step) as a new filter set, then open it."""
    if not scope.can_create_saved:
        raise PermissionDenied("Only workspace admins and analysts save filter sets.")
    ids = list(
        dict.fromkeys(line.strip() for line in request.POST.get("external_ids", "").splitlines() if line.strip())
    )
    params = SaveParams(data=request.POST)
    values = {"conditions": {"users": {STATIC_USERS_FIELD: ids}}, "group_by": "", "as_of": request.POST.get("as_of")}
    problems: list[str] = []
    if not params.is_valid():
        problems = [f"{key}: {m}" for key, messages in QueryInvalid(params.errors).errors.items() for m in messages]
    elif not ids:
        problems = [_("There are no users to save.")]
    else:
        try:
            query = BuilderQuery.parse({**values, "days": request.POST.get("days") or None}, workspace=scope.workspace)
        except QueryInvalid as exc:
            problems = [m for messages in exc.errors.values() for m in messages]
        else:
            saved = services.filter_set_save(
                workspace=scope.workspace,
                actor=request.user,
                filter_set=None,
                values={
                    **params.validated_data,
                    "conditions": query.definition.conditions,
                    "group_by": "",
                    "default_days": query.period.days,
                },
            )
            messages.success(
                request, _("Filter set “%(name)s” created with %(n)s users.") % {"name": saved.name, "n": len(ids)}
            )
            return redirect(workspace_url("users-filter-set", scope, pk=saved.pk))
    for problem in problems:
        messages.error(request, problem)
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect(workspace_url(LIST, scope))


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_page
def filter_set_new(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """The builder for a new filter set: Run (GET) shows the result, Save (POST) creates it."""
    if request.method == "POST":
        if not scope.can_create_saved:
            raise PermissionDenied("Only workspace admins and analysts save filter sets.")
        return save(request, scope, None)
    data, adding = with_added_row(with_static_users(request.GET, scope, None))
    ran = is_builder_query(data) and not adding
    if not is_builder_query(data):  # a fresh builder: one blank row of each kind, the query's period (and filters)
        fresh = definition_query(Definition({}), blank_rows=True)
        data = only(request.GET, (*PRESET_PARAMS, *USER_FILTER_FIELDS), into=fresh)
    return builder_page(request, scope, builder_from(data, scope.workspace), None, ran=ran)


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_page
def filter_set_page(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    """A saved filter set: its result for the period; the builder for its owner and admins (who may
    change and save it), a read-only account of it for the other members."""
    filter_set = scope.get_saved(FilterSet, pk)
    can_edit = scope.can_edit_saved(filter_set)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only the owner or a workspace admin may change this filter set.")
        return save(request, scope, filter_set)
    data, adding = with_added_row(request.GET)
    if not filter_set.well_formed:  # saved before definitions were checked: say so, run nothing
        messages.error(
            request, _("This filter set's saved definition is not valid; its owner or an admin can save a new one.")
        )
        adding = True
    data = with_static_users(saved_builder_data(filter_set, data, can_edit=can_edit), scope, filter_set)
    builder = builder_from(data, scope.workspace, default_days=filter_set.default_days)
    return builder_page(request, scope, builder, filter_set, ran=not adding)


def saved_builder_data(filter_set: FilterSet, data: QueryDict, *, can_edit: bool) -> QueryDict:
    """The builder's fields: as sent by an editor who ran it; else the saved definition over the
    asked period, with blank rows to fill in for an editor."""
    if can_edit and is_builder_query(data):
        if "name" not in data:  # a sort, page or period link: the name and visibility are the saved ones
            data = data.copy()
            data["name"], data["visibility"] = filter_set.name, filter_set.visibility
        return data
    saved = Definition(filter_set.stored_conditions, filter_set.group_by)
    query = definition_query(saved, blank_rows=can_edit, name=filter_set.name, visibility=filter_set.visibility)
    return only(data, (*PRESET_PARAMS, "ordering", "page", "page_size"), into=query)


def save(request: HttpRequest, scope: WorkspaceScope, filter_set: FilterSet | None) -> HttpResponse:
    """Create or update: the definition as the builder reads it, the name and visibility by
    ``SaveParams`` (the rules of the API's model fields), the period's length as its default."""
    default_days = filter_set.default_days if filter_set is not None else None
    builder = builder_from(
        with_static_users(request.POST, scope, filter_set), scope.workspace, default_days=default_days
    )
    if builder.query is not None:
        params = SaveParams(data=request.POST)
        if params.is_valid():
            query = builder.query
            values = {
                **params.validated_data,
                "conditions": query.definition.conditions,
                "group_by": query.group_by,
                "default_days": query.period.days,
            }
            saved = services.filter_set_save(
                workspace=scope.workspace, actor=request.user, filter_set=filter_set, values=values
            )
            done = _("Filter set “%(name)s” created.") if filter_set is None else _("Filter set “%(name)s” saved.")
            messages.success(request, done % {"name": saved.name})
            back = QueryDict(mutable=True)
            back["as_of"] = query.period.end.isoformat()  # with the saved days: the same period
            return redirect(workspace_url("users-filter-set", scope, back, pk=saved.pk))
        builder.form.add_messages(QueryInvalid(params.errors).errors)
    return builder_page(request, scope, builder, filter_set, ran=True, status=400)


def builder_page(
    request: HttpRequest,
    scope: WorkspaceScope,
    builder: Builder,
    filter_set: FilterSet | None,
    *,
    ran: bool,
    status: int = 200,
) -> HttpResponse:
    query = builder.query
    keep = period_query(query) if query is not None else QueryDict()
    context = {**chrome(request, scope, keep), **builder_context(request, scope, builder, filter_set, keep)}
    if query is None:
        return render(request, TEMPLATE, context, status=400)
    context["summary"] = presenters.describe_conditions(query.definition.conditions)
    context["static_count"] = len((query.definition.conditions.get("users") or {}).get(STATIC_USERS_FIELD) or [])
    context["group_by_label"] = attribute_label(query.group_by)
    context["group_by"] = query.group_by
    copy = definition_query(query.definition, blank_rows=True, **query.period_pick.params())
    if query.static_of:
        copy[STATIC_OF] = str(query.static_of)
    context["copy_url"] = workspace_url("users-filter-set-new", scope, copy)
    if ran:
        saved = filter_set if services.is_saved(filter_set, query.definition) else None
        if saved is not None:
            result, context["cached"] = services.filter_set_saved_result(query)
        else:  # the table shows one page: its rows' deferred metrics are filled by ``user_table``
            result = selectors.filter_set_result(query, complete=not selectors.can_defer(query.ordering))
        context.update(result_context(request, scope, query, saved, result))
    return render(request, TEMPLATE, context, status=status)


def builder_context(
    request: HttpRequest, scope: WorkspaceScope, builder: Builder, filter_set: FilterSet | None, keep: QueryDict
) -> dict[str, Any]:
    """The builder's fields, what the person may do with them, and where its links go."""
    can_create = scope.can_create_saved
    can_edit = scope.can_edit_saved(filter_set) if filter_set is not None else can_create
    delete_url = workspace_url("users-filter-set-delete", scope, pk=filter_set.pk) if filter_set else ""
    return {
        "subnav": subnav(scope, keep, LIST),
        "builder": builder,
        "form": builder.form,
        "query": builder.query,
        "period_presets": period_presets(request, builder.query, builder.form.data, scope.workspace.today()),
        "filter_set": filter_set,
        "can_edit": can_edit,
        "can_create": can_create,
        "read_only": filter_set is not None and not can_edit,
        "catalog_actions": {f.key: sorted(f.actions) for f in builder.catalog},
        "has_catalog": bool(builder.catalog),
        "list_url": workspace_url(LIST, scope, keep),
        "new_url": workspace_url("users-filter-set-new", scope, keep),
        "save_as_new_url": workspace_url("users-filter-set-new", scope),
        "delete_url": delete_url,
        "max_conditions": builder.activity.max_num,
        "error_lines": builder.error_lines(),
    }


def result_context(
    request: HttpRequest,
    scope: WorkspaceScope,
    query: BuilderQuery,
    saved: FilterSet | None,
    result: selectors.FilterSetResult,
) -> dict[str, Any]:
    """The result: headline, groups, the matched users' table, and the CSV links (a saved set as
    saved: the API's ``results``; else this page's own, with the same query)."""
    if saved is not None:
        api_query = period_query(query)
        api_query["format"] = "csv"
        users_csv = workspace_url("filter-set-results", scope, api_query, pk=saved.pk)
    else:
        users_csv = workspace_url("users-filter-set-csv", scope, query.params(page=None, page_size=None), table="users")
    groups_csv = query.params(page=None, page_size=None, ordering=None)
    table = presenters.user_table(
        selectors.sort_rows(result.users, query.ordering),
        presenters.TableLinks(request.path, query, "matched-users"),
        detail=period_query(query),
        caption=_("Matched users and their activity in the period; sort by a column heading."),
        complete=None if result.complete else (lambda shown: selectors.user_rows_complete(query, shown)),
    )
    return {
        "result": result,
        "period": query.period,
        "groups": [presenters.group_json(g) for g in result.groups],
        "table": table,
        "csv": {
            "users": users_csv,
            "groups": workspace_url("users-filter-set-csv", scope, groups_csv, table="groups"),
            "from_api": saved is not None,
        },
    }


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_page
def filter_set_delete(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    """Confirmation (GET), then deletion (POST) by the owner or a workspace admin."""
    filter_set = scope.get_saved(FilterSet, pk)
    if not scope.can_edit_saved(filter_set):
        raise PermissionDenied("Only the owner or a workspace admin may delete this filter set.")
    keep = kept_period(request, scope)
    if request.method == "POST":
        name = filter_set.name
        services.filter_set_delete(actor=request.user, filter_set=filter_set)
        messages.success(request, _("Filter set “%(name)s” deleted.") % {"name": name})
        return redirect(workspace_url(LIST, scope, keep))
    context = {
        **chrome(request, scope, keep),
        "subnav": subnav(scope, keep, LIST),
        "filter_set": filter_set,
        "summary": presenters.describe_conditions(filter_set.stored_conditions, well_formed=filter_set.well_formed),
        "cancel_url": workspace_url("users-filter-set", scope, keep, pk=filter_set.pk),
    }
    return render(request, "useranalysis/filter_set_delete.html", context)


@require_safe
@workspace_page
def filter_set_csv(request: HttpRequest, scope: WorkspaceScope, table: str) -> HttpResponse:
    """CSV of a builder result (the same GET query as the page, so nothing needs saving first):
    ``users`` (the columns of the ``users`` endpoint) or ``groups``."""
    builder = builder_from(with_static_users(request.GET, scope, None), scope.workspace)
    if builder.query is None:
        return JsonResponse(builder.errors, status=400)
    query = builder.query
    result = selectors.filter_set_result(query)
    filename = f"{scope.workspace.slug}-filter-set-{table}.csv"
    if table == "groups":
        return csv_download(
            [presenters.group_json(g) for g in result.groups],
            presenters.GROUP_COLUMNS,
            filename,
            excel=wants_excel(request.GET),
        )
    rows = [row_json(r) for r in selectors.sort_rows(result.users, query.ordering)]
    return csv_download(rows, USER_COLUMNS, filename, excel=wants_excel(request.GET))
