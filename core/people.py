"""The users behind a figure (DESIGN.md section 8, docs/drilldown.md): one row of metrics per CRM user
(docs/metrics.md#the-user-table), for the users table of User analysis, a filter set's matched users
and every drill-down (``people=``) of a chart or table of users.

The tabs may not import each other, so what builds the rows of a given set of users lives here, under
all of them: a tab computes *which* users are behind one of its figures (from the same definitions as
the figure) and hands their ids to ``people_rows``; ``core.api.people`` lays them out as the users
endpoint does (paginated, sorted, CSV).

Every figure comes from the rollups, read at the coarsest grain that answers it: the UserMonth bits
for attendance, month totals plus the fewest UserDay rows for sessions and interactions, the
UserFeatureMonth bits for features used. One grouped query per metric, so the cost follows the number
of users and months, not the number of events.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.queries import ChoiceParam, PeriodQuery, TextParam, WholeNumberParam
from events.models import CrmUser
from events.periods import change_pct
from events.selectors import active_days_by_user, feature_use_counts, last_seen_at, user_period_totals
from tenancy.scoping import WorkspaceScope, in_workspace

# --- the columns and orderings of a table of users -------------------------------------------------------

USER_ATTRIBUTES = ("external_id", "email", "name", "language", "country", "timezone", "status")
USER_METRICS = (
    "attendance_days",
    "attendance_change_pct",
    "last_seen",
    "session_count",
    "session_minutes",
    "interactions",
    "features_used",
)
USER_COLUMNS = [*USER_ATTRIBUTES, *USER_METRICS]
ORDERINGS = [f for name in USER_ATTRIBUTES + USER_METRICS for f in (name, f"-{name}")]
DEFAULT_ORDERING = "external_id"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class TableParams(serializers.Serializer):
    """The order and the page of a table of user rows (``users`` endpoint parameters)."""

    ordering = ChoiceParam(
        ORDERINGS, default=DEFAULT_ORDERING, help_text="A column, with - for descending; default external_id."
    )
    page = WholeNumberParam(min_value=1, default=1)
    page_size = WholeNumberParam(min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)


# --- the rows --------------------------------------------------------------------------------------------


@dataclass
class UserRow:
    id: int
    external_id: str
    email: str
    name: str
    language: str
    country: str
    timezone: str
    status: str
    role: str
    attendance_days: int = 0
    attendance_change_pct: float | None = None
    last_seen: datetime | None = None
    session_count: int = 0
    session_minutes: float = 0.0
    interactions: int = 0
    features_used: int = 0
    previous_attendance_days: int = 0
    session_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        # Every field is a plain value: a shallow copy (``asdict`` deep-copies, a third of the time
        # of a 2,000-row answer).
        return {
            k: v
            for k, v in vars(self).items()
            if k not in ("id", "role", "previous_attendance_days", "session_seconds")
        }


ROW_COLUMNS = ("id", "external_id", "email", "name", "language", "country", "timezone", "status", "role")

# The metrics that cost the most per user, which a paginated table fills only for the rows it shows
# (``rows_of(defer=True)`` then ``user_rows_complete`` on the page) unless it sorts by them.
DEFERRABLE_METRICS = ("last_seen", "features_used")


def can_defer(ordering: str) -> bool:
    return ordering.lstrip("-") not in DEFERRABLE_METRICS


def rows_of(query: PeriodQuery, users: QuerySet[CrmUser], *, subset: bool, defer: bool = False) -> list[UserRow]:
    """The rows of ``users`` (a ``subset`` of the workspace's, or all of them) for the query's period.

    Attendance (this period and the previous) comes from the UserMonth bits, interactions and
    sessions from ``user_period_totals``, last seen from one index probe per user: nothing here
    reads more rows when users are active on more days."""
    workspace, period = query.workspace, query.period
    rows = {u["id"]: UserRow(**u) for u in users.values(*ROW_COLUMNS)}
    if not rows:
        return []
    # Narrow the rollup queries to the subset only when it is much smaller than the workspace: else
    # reading every user's rows and keeping the subset's is cheaper than the join. (Each figure below
    # is looked up by the subset's ids.)
    narrowed = None
    if subset and len(rows) * 2 < in_workspace(CrmUser, workspace).count():
        narrowed = Q(crm_user__in=users.values("id"))
    attendance, previous = active_days_by_user(
        workspace=workspace, periods=[period, period.previous()], narrow=narrowed
    )
    totals = user_period_totals(workspace=workspace, period=period, narrow=narrowed, active=attendance)
    for user_id, row in rows.items():
        figures = totals.get(user_id)
        if figures:
            row.attendance_days = figures.active_days
            row.interactions = figures.events
            row.session_count = figures.sessions
            row.session_seconds = figures.session_seconds
            row.session_minutes = round(row.session_seconds / 60, 1)
        row.previous_attendance_days = previous.get(user_id, 0)
        row.attendance_change_pct = change_pct(row.attendance_days, row.previous_attendance_days)
    if not defer:
        user_rows_complete(query, list(rows.values()), narrow=narrowed)
    return sorted(rows.values(), key=lambda r: r.external_id)


def user_rows_complete(query: PeriodQuery, rows: list[UserRow], *, narrow: Q | None = None) -> None:
    """Fill in the deferred metrics (last seen, features used) of these rows, e.g. one page."""
    if not rows:
        return
    workspace, period = query.workspace, query.period
    if narrow is None and len(rows) <= 500:  # a page: read its users' rows only
        narrow = Q(crm_user__in=[r.id for r in rows])
    seen = last_seen_at(workspace=workspace, as_of=period.end, user_ids=[r.id for r in rows])
    features = feature_use_counts(workspace=workspace, period=period, per="crm_user_id", narrow=narrow)
    tz = workspace.tzinfo
    for row in rows:
        row.last_seen = seen[row.id].astimezone(tz) if row.id in seen else None
        row.features_used = features.get(row.id, 0)


def sort_rows(rows: list[UserRow], ordering: str) -> list[UserRow]:
    """Sort by one column (``-`` for descending); users without a value (never seen, no previous
    attendance) come last either way; ties by external id."""
    descending = ordering.startswith("-")
    key = ordering.lstrip("-")
    present = [r for r in rows if getattr(r, key) is not None]
    missing = [r for r in rows if getattr(r, key) is None]
    present.sort(key=lambda r: r.external_id)
    present.sort(key=lambda r: getattr(r, key), reverse=descending)
    return present + missing


def iso_timestamp(moment: datetime | None) -> str | None:
    """ISO 8601 in the workspace's offset, or in UTC when that offset is not whole minutes
    (local mean time before 1900), which RFC 3339 cannot express."""
    if moment is None:
        return None
    offset = moment.utcoffset()
    if offset is not None and offset.total_seconds() % 60:
        moment = moment.astimezone(UTC)
    return moment.isoformat()


def row_json(row: UserRow) -> dict[str, Any]:
    data = row.as_dict()
    data["last_seen"] = iso_timestamp(row.last_seen)
    return data


# --- drill-down: the users behind a figure ---------------------------------------------------------------

MAX_SELECTOR_LENGTH = 200


class PeopleParam(TextParam):
    """``people=<selector>``: which figure of the answer to open (its users). What a selector may
    name is the endpoint's (docs/drilldown.md); whether it names a figure shown is known only once
    the figure is computed (``NotAFigure``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_SELECTOR_LENGTH)
        kwargs.setdefault("trim_whitespace", True)
        kwargs.setdefault("help_text", "Answer the users behind this figure of the answer (docs/drilldown.md).")
        super().__init__(**kwargs)


class PeopleParams(serializers.Serializer):
    """Mixed into the ``Params`` of an insight whose figures can be drilled into."""

    people = PeopleParam()


class NotAFigure(ValueError):
    """``people`` names no figure shown in the answer: a 400 naming ``people``."""

    field = "people"

    def __init__(self, selector: str, hint: Any = None) -> None:
        message = _("%(selector)s names no figure of this answer.") % {"selector": repr(selector)}
        super().__init__(f"{message} {hint}" if hint else message)


@dataclass(frozen=True)
class People:
    """The users behind one figure: their ids (in the query's workspace) and what the figure is."""

    ids: Collection[int]
    selector: str


def people_rows(query: PeriodQuery, user_ids: Collection[int], *, defer: bool = False) -> list[UserRow]:
    """The rows of these users of the query's workspace, metrics over the query's period (by external
    id). Ids of another workspace are never read: the users are looked up through it."""
    ids = list(user_ids)
    if not ids:
        return []
    users = in_workspace(CrmUser, query.workspace).filter(id__in=ids) if len(ids) <= 5000 else None
    if users is None:  # many ids: the workspace's users, kept by id (an IN list of thousands is slow)
        wanted = set(ids)
        users = in_workspace(CrmUser, query.workspace)
        rows = rows_of(query, users, subset=False, defer=defer)
        return [r for r in rows if r.id in wanted]
    return rows_of(query, users, subset=True, defer=defer)


@dataclass(frozen=True, kw_only=True)
class Drilled:
    """Mixed into an insight's query whose ``Params`` take ``PeopleParams``: the selector of the
    figure to drill into, "" for the insight's own answer. Not a parameter of its links: a link to
    a drill-down adds it (``query.params(people=…)``)."""

    people: str = ""


# --- the drill-down page's sources -------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """An endpoint whose figures open the users behind them on the drill-down page (``source=<name>``,
    the endpoint's path under the workspace). The tab that owns the figure registers it
    (``register_source``, from its ``AppConfig.ready``): the page lives under no tab's code.

    ``parse(scope, viewer, data)``: the figure's query from the page's parameters (``QueryInvalid``,
    or a 404 for a saved configuration the viewer may not see); ``people(query)``: the users' ids
    (``NotAFigure``); ``title(query)``: what the figure is, in words."""

    name: str
    parse: Callable[[WorkspaceScope, Any, QueryDict], PeriodQuery]
    people: Callable[[Any], Collection[int]]
    title: Callable[[Any], str]


SOURCES: dict[str, Source] = {}


def register_source(source: Source) -> None:
    SOURCES[source.name] = source


# Parameters of a tab's page that are not the figure's query: left out of a link to its users.
PAGE_ONLY_PARAMS = ("format", "view", "compare", "lines", "people", "people_group", "page", "page_size", "ordering")


def drilldown_url(slug: str, source: str, params: QueryDict, **selector: str) -> str:
    """The drill-down page of one figure of ``source`` (its endpoint), for the figure's query
    ``params``; without a selector (``people=…``), the base a chart adds each point's to."""
    query = params.copy()
    for name in PAGE_ONLY_PARAMS:
        query.pop(name, None)
    query["source"] = source
    for name, value in selector.items():
        query[name] = value
    return f"{reverse('people', kwargs={'slug': slug})}?{query.urlencode()}"
