"""How the User analysis pages show the selectors' figures: the sortable, paginated table of user
rows (headings, sort links, rows, pager), attendance changes, relative days, conditions in words.
Shapes only; no figure is computed here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import QueryDict
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from core.attributes import attribute_label
from core.chrome import with_query
from core.people import DEFAULT_PAGE_SIZE
from events.filters import STATIC_USERS_FIELD
from events.models import CrmUser, Event
from useranalysis import selectors
from useranalysis.queries import TableQuery

PAGE_SIZES = (25, 50, 100, 200)

# (ordering key, heading, numeric: a first click sorts descending)
COLUMNS: tuple[tuple[str, Promise, bool], ...] = (
    ("name", _("User"), False),  # name, email and external ID; the ID sorts from a second link
    ("status", _("Status"), False),
    ("attendance_days", _("Attendance"), True),
    ("attendance_change_pct", pgettext_lazy("difference from the previous period", "Change"), True),
    ("last_seen", _("Last seen"), True),
    ("session_count", _("Sessions"), True),
    ("session_minutes", _("Session time"), True),
    ("interactions", _("Interactions"), True),
    ("features_used", _("Features used"), True),
)
COLUMN_HELP = {
    "attendance_days": _("active days"),
    "attendance_change_pct": _("vs previous"),
}
METRIC_LABELS = {
    "last_seen_days": _("Days since last seen"),
    "session_minutes": _("Session minutes"),
    "session_count": _("Sessions"),
    "attendance_days": _("Attendance (active days)"),
    "interactions": _("Interactions"),
    "features_used": _("Features used"),
}
OPERATOR_SYMBOLS = {">": ">", ">=": "≥", "<": "<", "<=": "≤", "=": "="}
OPERATOR_LABELS = {
    ">": _("more than"),
    ">=": _("at least"),
    "<": _("less than"),
    "<=": _("at most"),
    "=": _("exactly"),
}


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


@dataclass(frozen=True)
class FeatureUse:
    """A feature the user used: the bar is its share of their most used feature's interactions."""

    feature: str
    interactions: int
    share_pct: float
    trends_url: str


# --- the table of user rows ---------------------------------------------------------------------------


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


@dataclass(frozen=True)
class TableLinks:
    """Where a table's links go: the page, with the table's query changed (None removes a parameter),
    back to the table's anchor."""

    path: str
    query: TableQuery
    anchor: str

    def url(self, **overrides: Any) -> str:
        return with_query(self.path, self.query.params(**overrides)) + f"#{self.anchor}"


def sort_link(links: TableLinks, key: str, numeric: bool) -> tuple[str, str]:
    """A heading's aria-sort and its link (the other direction when sorted by ``key``)."""
    ordering = links.query.ordering
    if ordering == key:
        aria, following = "ascending", f"-{key}"
    elif ordering == f"-{key}":
        aria, following = "descending", key
    else:
        aria, following = "", f"-{key}" if numeric else key
    return aria, links.url(ordering=following, page=None)


def columns(links: TableLinks) -> list[ColumnView]:
    result = []
    for key, label, numeric in COLUMNS:
        own, url = sort_link(links, key, numeric)
        alternate, aria = None, own
        if key == "name":
            id_aria, id_url = sort_link(links, "external_id", False)
            alternate = {"label": str(_("External ID")), "url": id_url, "aria_sort": id_aria}
            aria = own or id_aria
        result.append(ColumnView(key, label, COLUMN_HELP.get(key), numeric, url, aria, own, alternate))
    return result


def row_views(rows: list[selectors.UserRow], query: TableQuery, detail: QueryDict) -> list[RowView]:
    """The rows as shown; each name opens the user's page with ``detail`` (the way back)."""
    today, slug = query.workspace.today(), query.workspace.slug
    statuses = dict(CrmUser.Status.choices)
    return [
        RowView(
            row,
            Change(row.attendance_change_pct),
            relative_days(row.last_seen, query.period.end, today),
            with_query(reverse("users-detail", kwargs={"slug": slug, "external_id": row.external_id}), detail),
            str(statuses.get(row.status, row.status)),
        )
        for row in rows
    ]


def pager(page: Page, links: TableLinks) -> dict[str, Any]:
    def page_url(number: int) -> str:
        return links.url(page=number if number > 1 else None)

    last = page.paginator.num_pages
    return {
        "first": page_url(1) if page.number > 1 else "",
        "previous": page_url(page.previous_page_number()) if page.has_previous() else "",
        "next": page_url(page.next_page_number()) if page.has_next() else "",
        "last": page_url(last) if page.number < last else "",
    }


def page_sizes(links: TableLinks, count: int) -> list[dict[str, Any]]:
    if count <= PAGE_SIZES[0]:
        return []
    return [
        {
            "size": size,
            "url": links.url(page=None, page_size=None if size == DEFAULT_PAGE_SIZE else size),
            "current": size == links.query.page_size,
        }
        for size in PAGE_SIZES
    ]


def user_table(
    rows: list[selectors.UserRow],
    links: TableLinks,
    *,
    detail: QueryDict,
    caption: str | Promise,
    complete: Callable[[list[selectors.UserRow]], None] | None = None,
) -> dict[str, Any]:
    """A sortable, paginated table of user rows (``useranalysis/_user_table.html``): the page of
    ``rows`` the query asks for; ``complete`` fills the deferred metrics of that page's rows."""
    query = links.query
    page: Page = Paginator(rows, query.page_size).get_page(query.page)
    shown = list(page.object_list)
    if complete is not None:
        complete(shown)
    return {
        "id": links.anchor,
        "caption": caption,
        "columns": columns(links),
        "rows": row_views(shown, query, detail),
        "count": page.paginator.count,
        "page": page,
        "start": page.start_index(),
        "end": page.end_index(),
        "pages": pager(page, links),
        "page_sizes": page_sizes(links, page.paginator.count),
    }


# --- rows as data: the API's JSON and every CSV of user rows -------------------------------------------

GROUP_COLUMNS = ["group", "matched", "total", "matched_pct"]


def group_json(group: selectors.GroupResult) -> dict[str, Any]:
    return {"group": group.group, "matched": group.matched, "total": group.total, "matched_pct": group.matched_pct}


# --- words ----------------------------------------------------------------------------------------------


def number_text(value: Any) -> str:
    """A condition's number as typed: 2.0 as 2."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def describe_conditions(conditions: Any, *, well_formed: bool = True) -> list[str]:
    """The conditions in words, for the list and the read-only view (``well_formed``: see
    ``FilterSet.well_formed``; a definition that is not is said so instead)."""
    if not well_formed:
        return [str(_("This definition is not valid; its owner or an admin can correct it."))]
    lines = []
    for c in conditions.get("activity") or []:
        metric = METRIC_LABELS.get(c.get("metric"), c.get("metric"))
        lines.append(f"{metric} {OPERATOR_SYMBOLS.get(c.get('op'), c.get('op'))} {number_text(c.get('value'))}")
    for c in conditions.get("features") or []:
        lines.append(describe_feature_condition(c))
    for name, values in (conditions.get("users") or {}).items():
        if name == STATIC_USERS_FIELD and isinstance(values, list):
            shown = ", ".join(map(str, values[:5])) + (" …" if len(values) > 5 else "")
            lines.append(
                ngettext("A fixed list of %(n)d user: %(ids)s", "A fixed list of %(n)d users: %(ids)s", len(values))
                % {"n": len(values), "ids": shown}
            )
            continue
        lines.append(f"{attribute_label(name)}: {', '.join(map(str, values)) if isinstance(values, list) else values}")
    return lines


def describe_feature_condition(c: dict[str, Any]) -> str:
    target = str(c.get("feature", "")) + (f" → {c['action']}" if c.get("action") else "")
    if not c.get("used", True):
        return str(_("Did not use %(target)s") % {"target": target})
    count = c.get("min_count")
    n = count if isinstance(count, int) else 1
    if n > 1:
        return str(_("Used %(target)s at least %(n)d times") % {"target": target, "n": n})
    return str(_("Used %(target)s") % {"target": target})


EVENT_COLUMNS = [
    "uuid", "timestamp", "feature", "action", "detail", "record_id", "outcome", "error_code", "duration_ms",
    "device", "properties",
]  # fmt: skip


def event_json(event: Event, tz: tzinfo) -> dict[str, Any]:
    """One raw event of a user's timeline; its time in the workspace's zone, with the offset."""
    return {
        "uuid": event.uuid,
        "timestamp": event.occurred_at.astimezone(tz).isoformat(),
        "feature": event.feature.key,
        "action": event.action,
        "detail": event.detail,
        "record_id": event.record_id,
        "outcome": event.outcome,
        "error_code": event.error_code,
        "duration_ms": event.duration_ms,
        "device": event.device,
        "properties": event.properties,
    }
