"""The members page of a workspace (``/w/<slug>/members/``), for its admins: every member with their
role, who is added, changed or removed, and the workspace's ingest keys (issue, revoke).

Every write goes through ``tenancy.services`` (audited, the last admin kept); every lookup of a
member or key starts from the workspace in the URL (``WorkspaceScope.get``), so an id of another
workspace is a 404. Non-admin members get 403, non-members 404, as on every workspace page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_http_methods, require_POST

from core.chrome import page_chrome
from tenancy.models import IngestKey, Membership
from tenancy.scoping import WorkspaceScope, workspace_page
from tenancy.services import (
    MembershipRefused,
    ingest_key_revoke,
    membership_add,
    membership_change_role,
    membership_remove,
)

ROLE_HELP = gettext_lazy(
    "Admins manage members, keys and every saved view; analysts create funnels and filter sets; viewers read."
)


class MemberAddForm(forms.Form):
    who = forms.CharField(
        label=gettext_lazy("Username or email"),
        max_length=254,
        help_text=gettext_lazy("Someone who already has an account on this site."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Membership.Role.choices, initial="viewer")

    def clean_who(self) -> Any:
        """The active user with this username (exactly), else with this email (any case): one only."""
        text = self.cleaned_data["who"].strip()
        users = get_user_model().objects.filter(is_active=True)
        found = list(users.filter(username=text)[:1]) or list(users.filter(email__iexact=text)[:2])
        if not found or not text:
            raise forms.ValidationError(_("No user has the username or email “%(who)s”.") % {"who": text})
        if len(found) > 1:
            raise forms.ValidationError(_("Several users have this email: give the username instead."))
        return found[0]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Membership.Role.choices)


@dataclass(frozen=True)
class KeyRow:
    key: IngestKey
    status: str
    active: bool


def key_rows(scope: WorkspaceScope) -> list[KeyRow]:
    """The workspace's ingest keys, newest first, each with what it does now."""
    now = timezone.now()
    rows = []
    for key in scope.rows(IngestKey).order_by("-created_at", "-pk"):
        revoked_at, expires_at = key.revoked_at, key.expires_at
        if revoked_at is not None:
            status, active = _("Revoked on %(date)s") % {"date": _when(revoked_at)}, False
        elif expires_at is not None and expires_at <= now:
            status, active = _("Expired on %(date)s (rotated)") % {"date": _when(expires_at)}, False
        elif expires_at is not None:
            status, active = _("Rotated: works until %(date)s") % {"date": _when(expires_at)}, True
        else:
            status, active = pgettext("ingest key", "Active"), True
        rows.append(KeyRow(key, status, active))
    return rows


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _page(
    request: HttpRequest, scope: WorkspaceScope, add_form: MemberAddForm | None = None, status: int = 200
) -> HttpResponse:
    members = scope.rows(Membership).select_related("user").order_by("user__username")
    context: dict[str, Any] = {
        **page_chrome(request, scope.workspace, active=""),
        "members": members,
        "roles": Membership.Role.choices,
        "role_help": ROLE_HELP,
        "add_form": add_form or MemberAddForm(),
        "keys": key_rows(scope),
    }
    return render(request, "members/members.html", context, status=status)


def _refused(request: HttpRequest, scope: WorkspaceScope, message: str) -> HttpResponse:
    messages.error(request, message)
    return _page(request, scope, status=400)


def _after_change(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """Back to the page; to Home if the admin has just given up their own admin role."""
    still_admin = WorkspaceScope(workspace=scope.workspace, user=request.user).is_admin
    return redirect("members" if still_admin else "home-tab", slug=scope.workspace.slug)


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "403.html", status=403)


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_page
def members_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """The page; a POST adds an existing user (400 with the form's message when refused)."""
    if not scope.is_admin:
        return _forbidden(request)
    if request.method != "POST":
        return _page(request, scope)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        user, role = form.cleaned_data["who"], form.cleaned_data["role"]
        try:
            membership_add(workspace=scope.workspace, actor=request.user, user=user, role=role)
        except MembershipRefused as exc:
            form.add_error("who", str(exc))
        else:
            messages.success(
                request,
                _("%(user)s is now a member (%(role)s).")
                % {"user": user.get_username(), "role": Membership.Role(role).label},
            )
            return redirect("members", slug=scope.workspace.slug)
    return _page(request, scope, add_form=form, status=400)


@require_POST
@workspace_page
def member_role(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    if not scope.is_admin:
        return _forbidden(request)
    membership = scope.get(Membership, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _refused(request, scope, _("Choose a role: admin, analyst or viewer."))
    role = form.cleaned_data["role"]
    try:
        changed = membership_change_role(membership=membership, actor=request.user, role=role)
    except MembershipRefused as exc:
        return _refused(request, scope, str(exc))
    if changed:
        messages.success(
            request,
            _("%(user)s is now %(role)s.")
            % {"user": membership.user.get_username(), "role": Membership.Role(role).label},
        )
    return _after_change(request, scope)


@require_POST
@workspace_page
def member_remove(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    if not scope.is_admin:
        return _forbidden(request)
    membership = scope.get(Membership, pk=pk)
    try:
        membership_remove(membership=membership, actor=request.user)
    except MembershipRefused as exc:
        return _refused(request, scope, str(exc))
    messages.success(
        request, _("%(user)s is no longer a member of this workspace.") % {"user": membership.user.get_username()}
    )
    return _after_change(request, scope)


@require_POST
@workspace_page
def ingest_key_revoke_view(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    if not scope.is_admin:
        return _forbidden(request)
    key = scope.get(IngestKey, pk=pk)
    if ingest_key_revoke(key=key, actor=request.user):
        messages.success(request, _("The key %(key)s was revoked: batches sent with it now get 401.") % {"key": key})
    return redirect("members", slug=scope.workspace.slug)
