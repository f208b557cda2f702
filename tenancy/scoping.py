"""Tenant scoping in one place: which workspaces a person may read, and where every lookup below a
workspace starts.

- ``workspaces_for(user)``: the workspaces a Django user is a member of (superusers: all).
- ``scope_for(user, slug)``: one of them by slug, as a ``WorkspaceScope``; anything else is a 404,
  so a workspace the user may not read looks exactly like one that does not exist.
- ``in_workspace(model, workspace)``: the rows of any model that belong to the workspace. Every
  lookup of a record by id, email or external id (a CRM user, a feature, a saved funnel…) starts
  from it, so no lookup can reach into another workspace.

Pages use ``@workspace_page`` (the view receives the scope), the REST API ``WorkspaceScopedMixin``,
the admin ``tenancy.admin.WorkspaceAdminScope``; all three resolve the workspace here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, wraps
from typing import Any, Concatenate

from django.contrib.auth.decorators import login_required
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from tenancy.models import Membership, SavedConfig, Workspace, saved_config_can_create, saved_config_can_edit


def workspaces_for(user: Any) -> QuerySet[Workspace]:
    """The workspaces a Django user may read: their memberships; superusers see all."""
    if not user.is_authenticated or not user.is_active:
        return Workspace.objects.none()
    if user.is_superuser:
        return Workspace.objects.all()
    return Workspace.objects.filter(memberships__user=user)


def administered_workspaces(user: Any) -> QuerySet[Workspace]:
    """Workspaces whose configuration the user manages: where they are an admin (superusers: all)."""
    if not user.is_authenticated or not user.is_active:
        return Workspace.objects.none()
    if user.is_superuser:
        return Workspace.objects.all()
    return Workspace.objects.filter(memberships__user=user, memberships__role=Membership.Role.ADMIN)


def role_of(user: Any, workspace: Workspace) -> str | None:
    """The user's role in the workspace (superusers act as admins), or None for a non-member."""
    return Membership.role_of(user, workspace)


def in_workspace[M: Model](model: type[M], workspace: Workspace) -> QuerySet[M]:
    """The rows of ``model`` that belong to ``workspace``: where every lookup below a workspace starts."""
    return model._default_manager.filter(workspace=workspace)


@dataclass(frozen=True)
class WorkspaceScope:
    """A workspace as one person sees it: what they may look up, create and change in it."""

    workspace: Workspace
    user: Any

    @cached_property
    def role(self) -> str | None:
        return role_of(self.user, self.workspace)

    @property
    def is_admin(self) -> bool:
        return self.role == Membership.Role.ADMIN

    def rows[M: Model](self, model: type[M]) -> QuerySet[M]:
        return in_workspace(model, self.workspace)

    def get[M: Model](self, model: type[M], **lookup: Any) -> M:
        """One row of the workspace, or a 404 (also when it exists in another workspace)."""
        found = self.rows(model).filter(**lookup).first()
        if found is None:
            raise Http404(f"No such {model._meta.verbose_name} in this workspace.")
        return found

    def saved[S: SavedConfig](self, model: type[S]) -> QuerySet[S]:
        """The saved configurations of this workspace the person may see: their own and the shared ones."""
        return self.rows(model).visible_to(self.user).select_related("owner")  # type: ignore[attr-defined]

    def get_saved[S: SavedConfig](self, model: type[S], pk: int) -> S:
        found = self.saved(model).filter(pk=pk).first()
        if found is None:
            raise Http404(f"No such {model._meta.verbose_name} in this workspace.")
        return found

    @property
    def can_create_saved(self) -> bool:
        return saved_config_can_create(self.user, self.workspace)

    def can_edit_saved(self, config: SavedConfig) -> bool:
        return saved_config_can_edit(config.owner_id, self.workspace, self.user)


def scope_for(user: Any, slug: str) -> WorkspaceScope:
    """The workspace ``slug`` as ``user`` may read it; a 404 if they are not a member."""
    workspace = workspaces_for(user).filter(slug=slug).first()
    if workspace is None:
        raise Http404("No such workspace, or you are not a member.")
    return WorkspaceScope(workspace=workspace, user=user)


def workspace_page[**P](
    view: Callable[Concatenate[HttpRequest, WorkspaceScope, P], HttpResponse],
) -> Callable[..., HttpResponse]:
    """A page of one workspace: logged in, a member (404 otherwise); the view gets the scope
    in place of the URL's ``slug``."""

    @login_required
    @wraps(view)
    def page(request: HttpRequest, slug: str, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        return view(request, scope_for(request.user, slug), *args, **kwargs)

    return page


class WorkspaceScopedMixin:
    """For DRF views under ``/api/v1/workspaces/<slug>/``: ``self.scope`` and ``self.workspace``
    resolved here after authentication and permissions, so anonymous requests get 401 before any 404."""

    scope: WorkspaceScope
    workspace: Workspace

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self.scope = scope_for(request.user, kwargs["slug"])
        self.workspace = self.scope.workspace
