"""What every tab page shows around its content: the tab bar and the workspace switcher.

A tab is enabled as soon as its URL name exists; the query string (period, filters) is carried from
tab to tab and across workspaces, so a view can be bookmarked and shared.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tenancy.models import Membership, Workspace
from tenancy.scoping import workspaces_for

# (label, URL name taking the workspace slug)
TABS: tuple[tuple[Promise, str], ...] = (
    (_("Home"), "home-tab"),
    (_("Activity"), "activity-tab"),
    (_("Trends"), "trends-tab"),
    (_("Funnels"), "funnels-tab"),
    (_("Hub"), "hub-tab"),
    (_("User analysis"), "users-tab"),
    (_("Behaviour"), "behaviour-tab"),
    (_("Accounts"), "accounts-tab"),
    (_("Sales"), "sales-tab"),
    (_("Perception"), "perception-tab"),
    (_("Dashboards"), "dashboards-tab"),
    (_("Alerts"), "alerts-list"),
)


def with_query(url: str, query: QueryDict | None) -> str:
    return f"{url}?{query.urlencode()}" if query else url


def _tab_url(name: str, slug: str) -> str:
    try:
        return reverse(name, kwargs={"slug": slug})
    except NoReverseMatch:  # not built yet: shown as "soon"
        return ""


def page_chrome(request: HttpRequest, workspace: Workspace | None, active: str = "home-tab") -> dict[str, Any]:
    """Context for ``partials/app_header.html`` and ``partials/tab_bar.html``.

    ``active`` is the URL name of the current tab; the switcher keeps the user on it.
    """
    keep = request.GET.copy()
    workspaces = []
    for other in workspaces_for(request.user).order_by("name", "slug"):
        url = _tab_url(active, other.slug) or _tab_url("home-tab", other.slug)
        workspaces.append(
            {
                "workspace": other,
                "url": with_query(url, keep),
                "current": workspace is not None and other.pk == workspace.pk,
            }
        )
    tabs = []
    for label, name in TABS:
        url = _tab_url(name, workspace.slug) if workspace else ""
        tabs.append({"label": label, "url": with_query(url, keep) if url else "", "active": name == active})
    is_admin = workspace is not None and Membership.role_of(request.user, workspace) == Membership.Role.ADMIN
    return {"workspace": workspace, "workspaces": workspaces, "tabs": tabs, "is_workspace_admin": is_admin}
