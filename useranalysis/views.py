"""Pages of the User analysis tab (DESIGN.md §3 "User analysis"): the users table, a user's detail
page, and the saved filter sets with their builder.

Every figure comes from ``useranalysis.selectors`` (``user_rows``, ``sort_rows``, ``features_of_user``,
``user_daily_activity``) or, for a filter set, from the API's own ``run_filter_set`` after the API's
own serializers have checked the definition; these views pick the workspace (scoped by
``crm_usage.api.workspaces_for``, 404 otherwise), validate the query with ``useranalysis.forms``
(400 with the messages otherwise) and shape the results for the templates: arrows, relative days,
durations, sort and page links, CSV links that carry the same query.

The builder runs with GET (the definition is in the URL, so a result can be bookmarked, shared and
downloaded as CSV without a POST) and saves with POST; see ``templates/useranalysis/filter_set.html``
for how the CSRF token travels with the Save button only.
"""

from __future__ import annotations

import copy
import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.forms import BaseFormSet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from core.chrome import page_chrome, with_query
from core.legacy import DAY_PRESETS, GROUP_BY_LABELS
from events.filters import USER_FILTER_FIELDS
from events.models import CrmUser, Session
from events.periods import Period
from events.selectors import CatalogFeature, feature_catalog, workspace_data_state
from tenancy.models import Membership, Workspace
from tenancy.scoping import workspaces_for
from tenancy.services import audit_saved_config, field_values
from useranalysis import selectors, services
from useranalysis.api.serializers import FilterSetQuerySerializer, FilterSetSerializer
from useranalysis.api.views import row_json
from useranalysis.forms import (
    ACTIVITY_PREFIX,
    DEFAULT_PAGE_SIZE,
    FEATURES_PREFIX,
    MAX_CONDITIONS,
    METRIC_LABELS,
    OPERATOR_SYMBOLS,
    PAGE_SIZES,
    ActivityFormSet,
    ConditionForm,
    FeatureFormSet,
    FilterSetForm,
    UsersQueryForm,
)
from useranalysis.models import FilterSet
from useranalysis.services import run_filter_set

SESSION_LIMIT = 100  # sessions listed on a user's page, newest first

# (ordering key, heading, numeric: a first click sorts descending)
COLUMNS: tuple[tuple[str, Promise, bool], ...] = (
    ("name", _("User"), False),  # name, email and external ID; the ID sorts from a second link
    ("status", _("Status"), False),
    ("attendance_days", _("Attendance"), True),
    ("attendance_change_pct", pgettext_lazy("difference from the previous period", "Change"), True),
    ("last_seen", _("Last seen"), True),
    ("session_count", _("Sessions"), True),
    ("session_minutes", _("Session minutes"), True),
    ("interactions", _("Interactions"), True),
    ("features_used", _("Features used"), True),
)
COLUMN_HELP = {
    "attendance_days": _("active days"),
    "attendance_change_pct": _("vs previous"),
}
ATTRIBUTE_LABELS = {
    "language": _("Language"),
    "country": _("Country"),
    "timezone": _("Time zone"),
    "status": _("Status"),
}


# --- shared --------------------------------------------------------------------------------------------


def _workspace(request: HttpRequest, slug: str) -> Workspace:
    return get_object_or_404(workspaces_for(request.user), slug=slug)


def _url(name: str, query: QueryDict | None = None, **kwargs: Any) -> str:
    """A URL with a query; "" while the page does not exist (the link is then left out)."""
    try:
        return with_query(reverse(name, kwargs=kwargs), query)
    except NoReverseMatch:
        return ""


def _chrome(request: HttpRequest, workspace: Workspace, keep: QueryDict) -> dict[str, Any]:
    """The tab bar and switcher, carrying only ``keep`` (the period and filters) to the other tabs,
    not this tab's own parameters (search, ordering, the builder's condition rows)."""
    narrowed = copy.copy(request)
    narrowed.GET = keep  # type: ignore[assignment]
    return page_chrome(narrowed, workspace, active="users-tab")


def _subnav(workspace: Workspace, keep: QueryDict, current: str) -> list[dict[str, Any]]:
    return [
        {"label": label, "url": _url(name, keep, slug=workspace.slug), "current": name == current}
        for label, name in ((_("Users"), "users-tab"), (_("Filter sets"), "users-filter-sets"))
    ]


@dataclass(frozen=True)
class Change:
    """Attendance change, as shown: an arrow, a colour and words (never the colour alone)."""

    pct: float | None

    @property
    def direction(self) -> str:
        if self.pct is None:
            return ""
        return "flat" if self.pct == 0 else ("up" if self.pct > 0 else "down")

    @property
    def abs_pct(self) -> float | None:
        return None if self.pct is None else abs(self.pct)


def relative_days(moment: datetime | None, as_of: date, today: date) -> str:
    """How long before the end of the period ``moment`` (already in the workspace time zone) was,
    in whole calendar days, worded from today's point of view when the period ends today."""
    if moment is None:
        return ""
    days = (as_of - moment.date()).days
    if as_of == today:
        if days == 0:
            return str(_("today"))
        if days == 1:
            return str(_("yesterday"))
        return ngettext("%(n)d day ago", "%(n)d days ago", days) % {"n": days}
    if days == 0:
        return str(_("on the last day of the period"))
    return ngettext("%(n)d day before the period's end", "%(n)d days before the period's end", days) % {"n": days}


def duration_label(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return str(_("%(h)d h %(m)02d min") % {"h": hours, "m": minutes})
    if minutes:
        return str(_("%(m)d min %(s)02d s") % {"m": minutes, "s": secs})
    return str(_("%(s)d s") % {"s": secs})


@dataclass(frozen=True)
class RowView:
    row: selectors.UserRow
    change: Change
    last_seen_relative: str
    detail_url: str
    status_label: str


@dataclass(frozen=True)
class ColumnView:
    key: str
    label: Promise
    help: Promise | None
    numeric: bool
    url: str
    aria_sort: str  # "ascending", "descending" or ""
    link_sort: str = ""  # the order of this heading's own key (the heading may be sorted by its alternate)
    alternate: dict[str, str] | None = None  # a second key sorted from the same heading (external ID)


def user_table(
    *,
    rows: list[selectors.UserRow],
    query: Callable[..., QueryDict],
    state: dict[str, Any],
    path: str,
    workspace: Workspace,
    period: Period,
    detail_query: QueryDict,
    caption: str | Promise,
    table_id: str,
    complete: Callable[[list[selectors.UserRow]], None] | None = None,
) -> dict[str, Any]:
    """A sortable, paginated table of user rows. ``query(**overrides)`` is the page's query with some
    parameters changed (None removes one); ``state`` holds the validated ordering, page and page size;
    ``complete`` fills the deferred metrics of the page's rows."""
    ordering, page_size = state["ordering"], state["page_size"]
    page: Page = Paginator(rows, page_size).get_page(state["page"])
    if complete is not None:
        complete(list(page.object_list))
    today = workspace.today()

    def sort(key: str, numeric: bool) -> tuple[str, str]:
        """The heading's aria-sort and the link's URL (the other direction when sorted by ``key``)."""
        if ordering == key:
            aria, following = "ascending", f"-{key}"
        elif ordering == f"-{key}":
            aria, following = "descending", key
        else:
            aria, following = "", f"-{key}" if numeric else key
        return aria, with_query(path, query(ordering=following, page=None)) + f"#{table_id}"

    columns = []
    for key, label, numeric in COLUMNS:
        own, url = sort(key, numeric)
        alternate, aria = None, own
        if key == "name":
            id_aria, id_url = sort("external_id", False)
            alternate = {"label": str(_("External ID")), "url": id_url, "aria_sort": id_aria}
            aria = own or id_aria
        columns.append(ColumnView(key, label, COLUMN_HELP.get(key), numeric, url, aria, own, alternate))
    row_views = [
        RowView(
            row,
            Change(row.attendance_change_pct),
            relative_days(row.last_seen, period.end, today),
            with_query(
                reverse("users-detail", kwargs={"slug": workspace.slug, "external_id": row.external_id}), detail_query
            ),
            str(dict(CrmUser.Status.choices).get(row.status, row.status)),
        )
        for row in page.object_list
    ]

    def page_url(number: int) -> str:
        return with_query(path, query(page=number if number > 1 else None)) + f"#{table_id}"

    paginator = page.paginator
    return {
        "id": table_id,
        "caption": caption,
        "columns": columns,
        "rows": row_views,
        "count": paginator.count,
        "page": page,
        "start": page.start_index(),
        "end": page.end_index(),
        "pages": {
            "first": page_url(1) if page.number > 1 else "",
            "previous": page_url(page.previous_page_number()) if page.has_previous() else "",
            "next": page_url(page.next_page_number()) if page.has_next() else "",
            "last": page_url(paginator.num_pages) if page.number < paginator.num_pages else "",
        },
        "page_sizes": [
            {
                "size": size,
                "url": with_query(path, query(page=None, page_size=None if size == DEFAULT_PAGE_SIZE else size))
                + f"#{table_id}",
                "current": size == page_size,
            }
            for size in PAGE_SIZES
        ]
        if paginator.count > PAGE_SIZES[0]
        else [],
    }


def _search(users: Any, term: str) -> Any:
    # The same match as the ``users`` endpoint.
    return users.filter(Q(name__icontains=term) | Q(email__icontains=term) | Q(external_id__icontains=term))


# --- the users table --------------------------------------------------------------------------------


@require_safe
@login_required
def users_tab(request: HttpRequest, slug: str) -> HttpResponse:
    """One row per CRM user for the period: attendance and its change, last seen, sessions, session
    minutes, interactions, features used; sortable, searchable, filtered, paginated, CSV of all rows."""
    workspace = _workspace(request, slug)
    form = UsersQueryForm(request.GET, workspace=workspace)
    template = "useranalysis/users.html"
    if not form.is_valid():
        invalid: dict[str, Any] = {
            **_chrome(request, workspace, QueryDict()),
            "form": form,
            "day_presets": DAY_PRESETS,
            "subnav": _subnav(workspace, QueryDict(), "users-tab"),
        }
        return render(request, template, invalid, status=400)

    q = form.cleaned_data
    keep = form.period_query()
    period = Period.ending(q["as_of"], q["days"], workspace.tzinfo)
    state = workspace_data_state(workspace=workspace)
    everyone = CrmUser.objects.filter(workspace=workspace)
    users = _search(everyone, q["search"]) if q["search"] else everyone
    # The table shows one page: last seen and features used are filled for its rows only, unless
    # it is sorted by them.
    defer = selectors.can_defer(q["ordering"])
    rows = selectors.sort_rows(
        selectors.user_rows(workspace=workspace, period=period, filters=q["filters"], users=users, defer=defer),
        q["ordering"],
    )
    context: dict[str, Any] = {
        **_chrome(request, workspace, keep),
        "form": form,
        "day_presets": DAY_PRESETS,
        "presets": [
            {
                "days": days,
                "url": with_query(request.path, form.query(days=days, page=None)),
                "active": days == q["days"],
            }
            for days in DAY_PRESETS
        ],
        "subnav": _subnav(workspace, keep, "users-tab"),
        "period": period,
        "has_users": everyone.exists(),
        "has_events": state.has_events,
        "rollups_pending": state.rollups_pending,
        "narrowed": bool(q["search"] or q["filters"]),
        "reset_url": with_query(request.path, form.query(search=None, page=None, **dict.fromkeys(USER_FILTER_FIELDS))),
        "users_batch_url": request.build_absolute_uri(reverse("api-users-batch")),
        "events_batch_url": request.build_absolute_uri(reverse("api-events-batch")),
        "table": user_table(
            rows=rows,
            query=form.query,
            state=q,
            path=request.path,
            workspace=workspace,
            period=period,
            detail_query=form.query(),
            caption=_("CRM users and their activity in the period; sort by a column heading."),
            table_id="users-table",
            complete=(
                (lambda page: selectors.user_rows_complete(workspace=workspace, period=period, rows=page))
                if defer
                else None
            ),
        ),
        "csv_url": _url("api-users", form.query(page=None, page_size=None, format="csv"), slug=slug),
    }
    return render(request, template, context)


# --- a user's page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureUse:
    feature: str
    interactions: int
    share_pct: float  # of the user's interactions in the period (for the bar)
    trends_url: str


def trends_url(slug: str, feature: str, period: Period) -> str:
    """The Trends tab for one feature over the period; "" while that tab does not exist."""
    query = QueryDict(mutable=True)
    query["feature"] = feature
    query["start"], query["end"] = period.start.isoformat(), period.end.isoformat()
    return _url("trends-tab", query, slug=slug)


@require_safe
@login_required
def user_detail(request: HttpRequest, slug: str, external_id: str) -> HttpResponse:
    """One CRM user: attributes, the period's metrics, daily activity (chart and table), sessions,
    features used and not used. The table's query rides along so "back" returns to the same view."""
    workspace = _workspace(request, slug)
    crm_user = CrmUser.objects.filter(workspace=workspace, external_id=external_id).first()
    if crm_user is None:
        raise Http404("No such CRM user in this workspace.")
    form = UsersQueryForm(request.GET, workspace=workspace)
    template = "useranalysis/user_detail.html"
    context: dict[str, Any] = {"form": form, "crm_user": crm_user}
    if not form.is_valid():
        context.update(_chrome(request, workspace, QueryDict()))
        context["back_url"] = reverse("users-tab", kwargs={"slug": slug})
        return render(request, template, context, status=400)

    q = form.cleaned_data
    keep = form.period_query()
    period = Period.ending(q["as_of"], q["days"], workspace.tzinfo)
    # The user's own figures: no filter or search narrows them.
    row = selectors.user_rows(workspace=workspace, period=period, users=CrmUser.objects.filter(pk=crm_user.pk))[0]
    used, unused = selectors.features_of_user(workspace=workspace, crm_user=crm_user, period=period)
    daily = selectors.user_daily_activity(workspace=workspace, crm_user=crm_user, period=period)
    sessions = list(
        Session.objects.filter(workspace=workspace, crm_user=crm_user, day__range=(period.start, period.end)).order_by(
            "-started_at", "-pk"
        )[:SESSION_LIMIT]
    )
    top = max(used.values(), default=0)
    chart_query = QueryDict(mutable=True)
    chart_query.update({"user": crm_user.external_id, "as_of": q["as_of"].isoformat(), "days": str(q["days"])})
    context.update(
        {
            **_chrome(request, workspace, keep),
            "period": period,
            "previous": period.previous(),
            "row": row,
            "change": Change(row.attendance_change_pct),
            "last_seen_relative": relative_days(row.last_seen, period.end, workspace.today()),
            "features_used": [
                FeatureUse(key, n, round(n / top * 100, 1) if top else 0.0, trends_url(slug, key, period))
                for key, n in used.items()
            ],
            "features_unused": [{"feature": key, "trends_url": trends_url(slug, key, period)} for key in unused],
            "catalog_size": len(used) + len(unused),
            "daily": daily,
            "active_days": sum(1 for _day, n in daily if n),
            "sessions": [
                {"session": s, "duration": duration_label(s.duration_seconds), "seconds": s.duration_seconds}
                for s in sessions
            ],
            "sessions_shown": len(sessions),
            "session_limit": SESSION_LIMIT,
            "chart_url": _url("users-chart-daily-activity", chart_query, slug=slug),
            "back_url": with_query(reverse("users-tab", kwargs={"slug": slug}), form.query()),
            "activity_url": _url("activity-tab", _activity_query(crm_user, q), slug=slug),
            "presets": [
                {"days": days, "url": with_query(request.path, form.query(days=days)), "active": days == q["days"]}
                for days in DAY_PRESETS
            ],
            "hidden_query": [
                (key, value) for key, values in form.query(as_of=None, days=None).lists() for value in values
            ],
        }
    )
    return render(request, template, context)


def _activity_query(crm_user: CrmUser, q: dict[str, Any]) -> QueryDict:
    query = QueryDict(mutable=True)
    query.update({"user": crm_user.external_id, "as_of": q["as_of"].isoformat(), "days": str(q["days"])})
    return query


# --- filter sets ------------------------------------------------------------------------------------


@dataclass
class Builder:
    """A filter-set definition from the builder's fields, checked by the API's serializer.

    ``rows`` are the condition rows sent (blank and removed rows left out), in the order of the
    definition's lists, so the serializer's errors (by list index) land on the right row.
    """

    form: FilterSetForm
    activity: BaseFormSet
    features: BaseFormSet
    catalog: list[CatalogFeature]
    rows: dict[str, list[ConditionForm]] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)  # as sent (for saving)
    definition: dict[str, Any] | None = None  # validated: {"conditions", "group_by"}
    period: Period | None = None

    @property
    def valid(self) -> bool:
        return self.definition is not None

    @property
    def errors(self) -> dict[str, Any]:
        """Every message, for the CSV view's 400 and the summary above the builder."""
        found: dict[str, Any] = {}
        if self.form.errors:
            found.update({k: list(v) for k, v in self.form.errors.items()})
        for part, formset in ((ACTIVITY_PREFIX, self.activity), (FEATURES_PREFIX, self.features)):
            rows = {i: dict(f.errors) for i, f in enumerate(self.rows.get(part, [])) if f.errors}
            if rows:
                found[part] = {i: {k: list(v) for k, v in e.items()} for i, e in rows.items()}
            if formset.is_bound and formset.non_form_errors():
                found[f"{part}_rows"] = list(formset.non_form_errors())
        return found

    def error_lines(self) -> list[tuple[str, str]]:
        """Every message with what it is about, for the summary above the builder."""
        lines = [("", str(e)) for e in self.form.non_field_errors()]
        lines += [(str(f.label), str(e)) for f in self.form for e in f.errors]
        parts = (
            (self.activity, ACTIVITY_PREFIX, _("Activity conditions"), _("Activity condition %(n)d")),
            (self.features, FEATURES_PREFIX, _("Feature usage"), _("Feature condition %(n)d")),
        )
        for formset, part, title, row_label in parts:
            if formset.is_bound:
                lines += [(str(title), str(e)) for e in formset.non_form_errors()]
            for row in self.rows.get(part, []):
                label = str(row_label) % {"n": formset.forms.index(row) + 1}
                lines += [(label, str(e)) for e in row.non_field_errors()]
                lines += [(f"{label}, {str(f.label).lower()}", str(e)) for f in row for e in f.errors]
        return lines

    def attach(self, errors: dict[str, Any]) -> None:
        """Put the API serializer's errors next to the fields and rows they are about."""
        for key, value in errors.items():
            if key == "conditions" and isinstance(value, dict):
                for part, part_errors in value.items():
                    self._attach_part(part, part_errors)
            elif key in self.form.fields and key not in USER_FILTER_FIELDS:
                self.form.add_error(key, _messages(value))
            else:
                self.form.add_error(None, _messages(value))

    def _attach_part(self, part: str, errors: Any) -> None:
        rows = self.rows.get(part)
        by_index = dict(enumerate(errors)) if isinstance(errors, list) else errors
        if rows is not None and isinstance(by_index, dict) and all(isinstance(k, int) for k in by_index):
            for index, row_errors in by_index.items():
                if not row_errors or index >= len(rows):
                    continue
                form = rows[index]
                if isinstance(row_errors, dict):
                    for name, messages_ in row_errors.items():
                        form.add_error(name if name in form.fields else None, _messages(messages_))
                else:
                    form.add_error(None, _messages(row_errors))
            return
        if part == "users" and isinstance(errors, dict):
            for name, messages_ in errors.items():
                self.form.add_error(name if name in USER_FILTER_FIELDS else None, _messages(messages_))
            return
        label = {"users": _("User attributes")}.get(part, part)
        self.form.add_error(None, [f"{label}: {m}" for m in _messages(errors)])


def _messages(value: Any) -> list[str]:
    """A DRF error value (a list, a dict, a string) as a flat list of messages."""
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _messages(v)]
    return [str(value)]


def builder_from(data: QueryDict, workspace: Workspace) -> Builder:
    """Read the builder's fields from ``data`` and check the definition as ``filter-sets/query`` does."""
    catalog = feature_catalog(workspace=workspace)
    builder = Builder(
        form=FilterSetForm(data, workspace=workspace),
        activity=ActivityFormSet(data, prefix=ACTIVITY_PREFIX),
        features=FeatureFormSet(data, prefix=FEATURES_PREFIX, form_kwargs={"catalog": catalog}),
        catalog=catalog,
    )
    checks = [builder.form.is_valid(), builder.activity.is_valid(), builder.features.is_valid()]
    if not all(checks):
        return builder
    for part, formset in ((ACTIVITY_PREFIX, builder.activity), (FEATURES_PREFIX, builder.features)):
        builder.rows[part] = [f for f in formset.forms if not f.cleaned_data.get("DELETE") and not f.is_blank()]
        if builder.rows[part]:
            builder.conditions[part] = [f.as_condition() for f in builder.rows[part]]
    q = builder.form.cleaned_data
    if q["filters"]:
        builder.conditions["users"] = q["filters"]
    serializer = FilterSetQuerySerializer(
        data={"conditions": builder.conditions, "group_by": q["group_by"]}, context={"workspace": workspace}
    )
    if not serializer.is_valid():
        builder.attach(serializer.errors)
        return builder
    builder.definition = dict(serializer.validated_data)
    builder.period = Period.ending(q["as_of"], q["days"], workspace.tzinfo)
    return builder


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def definition_query(
    conditions: dict[str, Any],
    *,
    group_by: str = "",
    name: str = "",
    visibility: str = "",
    blank_rows: bool = False,
    **extra: str,
) -> QueryDict:
    """A definition (conditions as stored by the API) as the builder's GET parameters."""
    query = QueryDict(mutable=True)
    for key, value in (("name", name), ("visibility", visibility), ("group_by", group_by), *extra.items()):
        if value:
            query[key] = str(value)
    activity = list(conditions.get("activity") or [])
    features = list(conditions.get("features") or [])
    if blank_rows:
        activity = activity or [{"metric": "", "op": ">", "value": ""}]
        features = features or [{"feature": "", "action": "", "used": True, "min_count": 1}]
    for prefix, rows in ((ACTIVITY_PREFIX, activity), (FEATURES_PREFIX, features)):
        query[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
        query[f"{prefix}-INITIAL_FORMS"] = "0"
        for index, row in enumerate(rows):
            for key, value in row.items():
                if isinstance(value, bool):
                    value = "true" if value else "false"
                query[f"{prefix}-{index}-{key}"] = _number(value)
    for name_, values in (conditions.get("users") or {}).items():
        query.setlist(name_, [str(v) for v in values])
    return query


def with_added_row(data: QueryDict) -> tuple[QueryDict, bool]:
    """Without JavaScript, "Add a condition" submits the builder with ``add=<part>``: one more row."""
    part = data.get("add")
    if part not in (ACTIVITY_PREFIX, FEATURES_PREFIX):
        return data, False
    data = data.copy()
    data.pop("add")
    key = f"{part}-TOTAL_FORMS"
    total = data.get(key, "0")
    if total.isdigit() and int(total) < MAX_CONDITIONS:
        data[key] = str(int(total) + 1)
    return data, True


def is_builder_query(data: QueryDict) -> bool:
    return f"{ACTIVITY_PREFIX}-TOTAL_FORMS" in data or f"{FEATURES_PREFIX}-TOTAL_FORMS" in data


def describe_conditions(conditions: dict[str, Any]) -> list[str]:
    """The conditions in words, for the list and the read-only view."""
    lines = []
    for c in conditions.get("activity") or []:
        metric = METRIC_LABELS.get(c.get("metric"), c.get("metric"))
        lines.append(f"{metric} {OPERATOR_SYMBOLS.get(c.get('op'), c.get('op'))} {_number(c.get('value'))}")
    for c in conditions.get("features") or []:
        target = c.get("feature", "") + (f" → {c['action']}" if c.get("action") else "")
        if c.get("used", True):
            n = int(c.get("min_count") or 1)
            if n > 1:
                lines.append(str(_("Used %(target)s at least %(n)d times") % {"target": target, "n": n}))
            else:
                lines.append(str(_("Used %(target)s") % {"target": target}))
        else:
            lines.append(str(_("Did not use %(target)s") % {"target": target}))
    for name, values in (conditions.get("users") or {}).items():
        lines.append(f"{ATTRIBUTE_LABELS.get(name, name)}: {', '.join(values)}")
    return lines


def _filter_sets(request: HttpRequest, workspace: Workspace) -> Any:
    return FilterSet.objects.filter(workspace=workspace).visible_to(request.user).select_related("owner")


def _keep_period(request: HttpRequest, workspace: Workspace, *, days: bool = True) -> QueryDict:
    """as_of (and days) of the incoming query, when valid: what links to other pages carry."""
    form = UsersQueryForm(request.GET, workspace=workspace)
    if not form.is_valid():
        return QueryDict()
    query = QueryDict(mutable=True)
    if request.GET.get("as_of"):
        query["as_of"] = form.cleaned_data["as_of"].isoformat()
    if days and request.GET.get("days"):
        query["days"] = str(form.cleaned_data["days"])
    return query


@require_safe
@login_required
def filter_sets(request: HttpRequest, slug: str) -> HttpResponse:
    """The filter sets the user may see: their own and the workspace-visible ones."""
    workspace = _workspace(request, slug)
    keep = _keep_period(request, workspace)
    as_of_only = _keep_period(request, workspace, days=False)  # a saved set has its own number of days
    items = []
    for filter_set in _filter_sets(request, workspace).order_by("name", "pk"):
        items.append(
            {
                "filter_set": filter_set,
                "url": _url("users-filter-set", as_of_only, slug=slug, pk=filter_set.pk),
                "mine": filter_set.owner_id == request.user.pk,
                "can_edit": filter_set.can_edit(request.user),
                "delete_url": _url("users-filter-set-delete", slug=slug, pk=filter_set.pk),
                "summary": describe_conditions(filter_set.conditions or {}),
                "group_by": GROUP_BY_LABELS.get(filter_set.group_by, filter_set.group_by),
            }
        )
    context = {
        **_chrome(request, workspace, keep),
        "subnav": _subnav(workspace, keep, "users-filter-sets"),
        "items": items,
        "can_create": FilterSet.can_create(request.user, workspace),
        "new_url": _url("users-filter-set-new", keep, slug=slug),
        "role": Membership.role_of(request.user, workspace),
    }
    return render(request, "useranalysis/filter_sets.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def filter_set_new(request: HttpRequest, slug: str) -> HttpResponse:
    """The builder for a new filter set: Run (GET) shows the result, Save (POST) creates it."""
    workspace = _workspace(request, slug)
    if request.method == "POST":
        if not FilterSet.can_create(request.user, workspace):
            raise PermissionDenied("Only workspace admins and analysts save filter sets.")
        return _save(request, workspace, None)
    data, adding = with_added_row(request.GET)
    ran = is_builder_query(data) and not adding
    if not is_builder_query(data):  # a fresh builder: one blank row of each kind, the query's period (and filters)
        data = definition_query({}, blank_rows=True)
        for key in ("as_of", "days", *USER_FILTER_FIELDS):
            if key in request.GET:
                data.setlist(key, request.GET.getlist(key))
    builder = builder_from(data, workspace)
    return _builder_page(request, workspace, builder, None, ran=ran)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def filter_set_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A saved filter set: its result for the period; the builder for its owner and admins (who may
    change and save it), a read-only account of it for the other members."""
    workspace = _workspace(request, slug)
    filter_set = get_object_or_404(_filter_sets(request, workspace), pk=pk)
    can_edit = filter_set.can_edit(request.user)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only the owner or a workspace admin may change this filter set.")
        return _save(request, workspace, filter_set)
    data, adding = with_added_row(request.GET)
    if not (can_edit and is_builder_query(data)):
        data = definition_query(
            filter_set.conditions or {},
            group_by=filter_set.group_by,
            name=filter_set.name,
            visibility=filter_set.visibility,
            blank_rows=can_edit,
            days=request.GET.get("days") or str(filter_set.default_days),
        )
        for key in ("as_of", "ordering", "page", "page_size"):
            if request.GET.get(key):
                data[key] = request.GET[key]
    builder = builder_from(data, workspace)
    return _builder_page(request, workspace, builder, filter_set, ran=not adding)


def _save(request: HttpRequest, workspace: Workspace, filter_set: FilterSet | None) -> HttpResponse:
    """Create or update through the API's ``FilterSetSerializer`` (same checks, same messages)."""
    builder = builder_from(request.POST, workspace)
    if builder.valid:
        q = builder.form.cleaned_data
        serializer = FilterSetSerializer(
            filter_set,
            data={
                "name": q["name"],
                "visibility": q["visibility"],
                "group_by": q["group_by"],
                "default_days": q["days"],
                "conditions": builder.conditions,
            },
            context={"workspace": workspace, "request": request},
        )
        if serializer.is_valid():
            before = field_values(filter_set) if filter_set is not None else None
            if filter_set is None:
                saved = serializer.save(workspace=workspace, owner=request.user)
                messages.success(request, _("Filter set “%(name)s” created.") % {"name": saved.name})
            else:
                saved = serializer.save()
                messages.success(request, _("Filter set “%(name)s” saved.") % {"name": saved.name})
            audit_saved_config(actor=request.user, instance=saved, before=before)
            query = QueryDict(mutable=True)
            query["as_of"] = q["as_of"].isoformat()
            return redirect(
                with_query(reverse("users-filter-set", kwargs={"slug": workspace.slug, "pk": saved.pk}), query)
            )
        builder.attach(serializer.errors)
    return _builder_page(request, workspace, builder, filter_set, ran=True, status=400)


def _builder_page(
    request: HttpRequest,
    workspace: Workspace,
    builder: Builder,
    filter_set: FilterSet | None,
    *,
    ran: bool,
    status: int = 200,
) -> HttpResponse:
    slug = workspace.slug
    form = builder.form
    keep = QueryDict(mutable=True)
    if form.is_valid() or "as_of" in form.cleaned_data:
        for key in ("as_of", "days"):
            if key in form.cleaned_data:
                keep[key] = str(form.cleaned_data[key])
    can_edit = filter_set.can_edit(request.user) if filter_set else FilterSet.can_create(request.user, workspace)
    can_create = FilterSet.can_create(request.user, workspace)
    context: dict[str, Any] = {
        **_chrome(request, workspace, keep),
        "subnav": _subnav(workspace, keep, "users-filter-sets"),
        "builder": builder,
        "form": form,
        "filter_set": filter_set,
        "can_edit": can_edit,
        "can_create": can_create,
        "read_only": filter_set is not None and not can_edit,
        "catalog_actions": {f.key: sorted(f.actions) for f in builder.catalog},
        "has_catalog": bool(builder.catalog),
        "list_url": _url("users-filter-sets", keep, slug=slug),
        "new_url": _url("users-filter-set-new", keep, slug=slug),
        "save_as_new_url": _url("users-filter-set-new", slug=slug),
        "delete_url": _url("users-filter-set-delete", slug=slug, pk=filter_set.pk) if filter_set else "",
        "role": Membership.role_of(request.user, workspace),
        "max_conditions": builder.activity.max_num,
        "error_lines": builder.error_lines(),
    }
    if not builder.valid:
        return render(request, "useranalysis/filter_set.html", context, status=400)
    assert builder.definition is not None and builder.period is not None
    definition, period = builder.definition, builder.period
    q = form.cleaned_data
    context["summary"] = describe_conditions(definition.get("conditions") or {})
    context["group_by_label"] = GROUP_BY_LABELS.get(q["group_by"], q["group_by"])
    copy_query = definition_query(
        builder.conditions,
        group_by=q["group_by"],
        blank_rows=True,
        as_of=q["as_of"].isoformat(),
        days=str(q["days"]),
    )
    context["copy_url"] = _url("users-filter-set-new", copy_query, slug=slug)
    if ran:
        if _is_saved_definition(filter_set, definition, workspace):
            result, context["cached"] = services.filter_set_saved_result(
                workspace=workspace, definition=definition, period=period
            )
        else:
            # The table shows one page: its rows' deferred metrics are filled by ``user_table``.
            result = run_filter_set(workspace, definition, period, complete=not selectors.can_defer(q["ordering"]))
        context.update(_result_context(request, workspace, builder, filter_set, result, period))
    return render(request, "useranalysis/filter_set.html", context, status=status)


def _result_context(
    request: HttpRequest,
    workspace: Workspace,
    builder: Builder,
    filter_set: FilterSet | None,
    result: selectors.FilterSetResult,
    period: Period,
) -> dict[str, Any]:
    slug = workspace.slug
    form = builder.form
    q = form.cleaned_data
    assert builder.definition is not None
    # The result's own query: the definition without blank rows, the period, the table's state.
    canonical = definition_query(
        builder.conditions,
        group_by=q["group_by"],
        as_of=q["as_of"].isoformat(),
        days=str(q["days"]),
    )
    table_state = {k: v for k, v in form.table_values().items() if v}

    def query(**overrides: Any) -> QueryDict:
        merged = canonical.copy()
        for key, value in {**table_state, **overrides}.items():
            if value is None or value == "":
                merged.pop(key, None)
            else:
                merged[key] = str(value)
        return merged

    saved_unchanged = _is_saved_definition(filter_set, builder.definition, workspace)
    if saved_unchanged:
        assert filter_set is not None
        api_query = QueryDict(mutable=True)
        api_query.update({"as_of": q["as_of"].isoformat(), "days": str(q["days"]), "format": "csv"})
        users_csv = _url("filter-set-results", api_query, slug=slug, pk=filter_set.pk)
    else:
        users_csv = _url("users-filter-set-csv", query(page=None, page_size=None), slug=slug, table="users")
    detail_query = QueryDict(mutable=True)
    detail_query.update({"as_of": q["as_of"].isoformat(), "days": str(q["days"])})
    sorted_rows = selectors.sort_rows(result.users, q["ordering"])
    return {
        "result": result,
        "period": period,
        "group_by_label": GROUP_BY_LABELS.get(q["group_by"], q["group_by"]),
        "groups": [
            {"group": g.group, "matched": g.matched, "total": g.total, "matched_pct": g.matched_pct}
            for g in result.groups
        ],
        "table": user_table(
            rows=sorted_rows,
            query=query,
            state=q,
            path=request.path,
            workspace=workspace,
            period=period,
            detail_query=detail_query,
            caption=_("Matched users and their activity in the period; sort by a column heading."),
            table_id="matched-users",
            complete=(
                None
                if result.complete
                else (lambda page: selectors.user_rows_complete(workspace=workspace, period=period, rows=page))
            ),
        ),
        "csv": {
            "users": users_csv,
            "groups": _url(
                "users-filter-set-csv", query(page=None, page_size=None, ordering=None), slug=slug, table="groups"
            ),
            "from_api": saved_unchanged,
        },
    }


def _is_saved_definition(filter_set: FilterSet | None, definition: dict[str, Any], workspace: Workspace) -> bool:
    """Whether the page shows the saved filter set as saved (not changed in the builder)."""
    saved = services.saved_definition(filter_set) if filter_set is not None else None
    return saved is not None and services.definition_canonical(definition) == services.definition_canonical(saved)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def filter_set_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Confirmation (GET), then deletion (POST) by the owner or a workspace admin."""
    workspace = _workspace(request, slug)
    filter_set = get_object_or_404(_filter_sets(request, workspace), pk=pk)
    if not filter_set.can_edit(request.user):
        raise PermissionDenied("Only the owner or a workspace admin may delete this filter set.")
    keep = _keep_period(request, workspace)
    if request.method == "POST":
        name = filter_set.name
        audit_saved_config(actor=request.user, instance=filter_set, before=None, deleted=True)
        filter_set.delete()
        messages.success(request, _("Filter set “%(name)s” deleted.") % {"name": name})
        return redirect(_url("users-filter-sets", keep, slug=slug))
    context = {
        **_chrome(request, workspace, keep),
        "subnav": _subnav(workspace, keep, "users-filter-sets"),
        "filter_set": filter_set,
        "summary": describe_conditions(filter_set.conditions or {}),
        "cancel_url": _url("users-filter-set", keep, slug=slug, pk=filter_set.pk),
    }
    return render(request, "useranalysis/filter_set_delete.html", context)


@require_safe
@login_required
def filter_set_csv(request: HttpRequest, slug: str, table: str) -> HttpResponse:
    """CSV of a builder result (the same GET query as the page, so nothing needs saving first):
    ``users`` (the columns of the ``users`` endpoint) or ``groups``."""
    workspace = _workspace(request, slug)
    builder = builder_from(request.GET, workspace)
    if not builder.valid:
        return JsonResponse(builder.errors, status=400)
    assert builder.definition is not None and builder.period is not None
    result = run_filter_set(workspace, builder.definition, builder.period)
    if table == "groups":
        rows: list[dict[str, Any]] = [
            {"group": g.group, "matched": g.matched, "total": g.total, "matched_pct": g.matched_pct}
            for g in result.groups
        ]
        fields = ["group", "matched", "total", "matched_pct"]
    else:
        rows = [row_json(r) for r in selectors.sort_rows(result.users, builder.form.cleaned_data["ordering"])]
        fields = [*selectors.USER_ATTRIBUTES, *selectors.USER_METRICS]  # the ``users`` endpoint's columns
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-filter-set-{table}.csv"'
    writer = csv.DictWriter(response, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return response
