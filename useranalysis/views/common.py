"""What the User analysis pages share: the tab bar and the sub-navigation, which carry only the period
(and the user filters) to the other pages, never this tab's own parameters."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext_lazy as _

from core.chrome import page_chrome
from core.pages import workspace_url
from core.queries import PRESET_PARAMS, PeriodQuery, parse_or_errors
from events.filters import USER_FILTER_FIELDS
from tenancy.scoping import WorkspaceScope
from useranalysis.queries import UsersQuery

TAB = "users-tab"
PERIOD_AND_FILTERS = (*PRESET_PARAMS, *USER_FILTER_FIELDS)


def only(data: QueryDict, names: Iterable[str], into: QueryDict | None = None) -> QueryDict:
    """The parameters of ``data`` named ``names``, blanks left out (set in ``into``, when given)."""
    kept = QueryDict(mutable=True) if into is None else into
    for name in names:
        if values := [value for value in data.getlist(name) if value != ""]:
            kept.setlist(name, values)
    return kept


def tab_request(request: HttpRequest, keep: QueryDict) -> HttpRequest:
    """The request as the tab bar and the workspace switcher see it: carrying only ``keep`` to the
    other tabs, not this tab's own parameters (search, ordering, the builder's condition rows)."""
    narrowed = copy.copy(request)
    narrowed.GET = keep  # type: ignore[assignment]
    return narrowed


def chrome(request: HttpRequest, scope: WorkspaceScope, keep: QueryDict) -> dict[str, Any]:
    return page_chrome(tab_request(request, keep), scope.workspace, active=TAB)


def subnav(scope: WorkspaceScope, keep: QueryDict, current: str) -> list[dict[str, Any]]:
    """The tab's two views, the users table and the filter sets."""
    return [
        {"label": label, "url": workspace_url(name, scope, keep), "current": name == current}
        for label, name in ((_("Users"), TAB), (_("Filter sets"), "users-filter-sets"))
    ]


def period_query(query: PeriodQuery) -> QueryDict:
    """The query's period, asked for as it was (for links to pages with a period of their own)."""
    params = QueryDict(mutable=True)
    params.update(query.period_pick.params())
    return params


def kept_period(request: HttpRequest, scope: WorkspaceScope) -> QueryDict:
    """The period the request names, when it is valid: what the filter-set pages' links carry."""
    asked = only(request.GET, PRESET_PARAMS)
    if not asked:
        return asked
    query, _errors = parse_or_errors(UsersQuery, asked, scope.workspace)
    return period_query(query) if query is not None else QueryDict()
