"""The Alerts page of a workspace (docs/alerts.md): the list with state and muted, the form to create
or edit one, mute/unmute, and one alert's definition and history.

Every page is one workspace's (``@workspace_page``) and finds an alert through its scope, with the
rules of every saved configuration: another member's private alert is a 404; admins and analysts
create alerts; the owner or an admin changes, mutes or deletes one (403)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from alerts import services
from alerts.forms import AlertForm, definition_data, form_errors
from alerts.models import Alert
from alerts.queries import AlertDefinition
from core.chrome import page_chrome
from core.pages import workspace_url
from tenancy.scoping import WorkspaceScope, workspace_page
from tenancy.services import field_values

LIST = "alerts-list"
HISTORY_ROWS = 100


def _chrome(request: HttpRequest, scope: WorkspaceScope) -> dict:
    return page_chrome(request, scope.workspace, active=LIST)


@require_safe
@workspace_page
def alerts_list(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    alerts = list(scope.saved(Alert).select_related("owner").order_by("name", "id"))
    context = {
        **_chrome(request, scope),
        "alerts": alerts,
        "can_create": scope.can_create_saved,
        "new_url": workspace_url("alerts-new", scope),
        "api_url": workspace_url("api-alert-list", scope),
    }
    return render(request, "alerts/list.html", context)


def _edit(request: HttpRequest, scope: WorkspaceScope, alert: Alert | None) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = definition_data(request.POST, editing=alert is not None)
        definition = AlertDefinition(instance=alert, data=data, context={"workspace": scope.workspace})
        if definition.is_valid():
            values = dict(definition.validated_data)
            before = field_values(alert) if alert is not None else None
            if alert is None:
                alert = Alert(workspace=scope.workspace, owner=cast(Any, request.user))  # logged in: workspace_page
            for name, value in values.items():
                setattr(alert, name, value)
            alert.language = translation.get_language() or ""
            alert.save()
            services.alert_audit(actor=request.user, alert=alert, before=before)
            messages.success(request, _("Alert “%(name)s” saved.") % {"name": alert.name})
            return redirect("alerts-detail", slug=scope.workspace.slug, pk=alert.pk)
        errors = form_errors(definition.errors)
        form = AlertForm(request.POST, workspace=scope.workspace, errors=errors)
    else:
        form = AlertForm(AlertForm.data_of(alert), workspace=scope.workspace)
    context = {
        **_chrome(request, scope),
        "alert": alert,
        "form": form,
        "other_errors": [m for key, msgs in errors.items() if key not in form.fields for m in msgs],
        "list_url": workspace_url(LIST, scope),
    }
    return render(request, "alerts/form.html", context, status=400 if errors else 200)


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_page
def alert_new(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    if not scope.can_create_saved:
        raise PermissionDenied(_("Viewers cannot create alerts; ask a workspace admin for the analyst role."))
    return _edit(request, scope, None)


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_page
def alert_edit(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    alert = scope.get_saved(Alert, pk)
    if not scope.can_edit_saved(alert):
        raise PermissionDenied(_("Only the owner of this alert or a workspace admin can change it."))
    return _edit(request, scope, alert)


@require_safe
@workspace_page
def alert_detail(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    alert = scope.get_saved(Alert, pk)
    context = {
        **_chrome(request, scope),
        "alert": alert,
        "history": list(services.alert_history(alert)[:HISTORY_ROWS]),
        "params_text": "; ".join(
            f"{key} = {', '.join(value) if isinstance(value, list) else value}" for key, value in alert.params.items()
        ),
        "can_edit": scope.can_edit_saved(alert),
        "owner_left": services.owner_left(alert),
        "list_url": workspace_url(LIST, scope),
        "api_url": workspace_url("api-alert-history", scope, pk=alert.pk),
    }
    return render(request, "alerts/detail.html", context)


@require_POST
@workspace_page
def alert_mute(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    """Mute or unmute (the posted ``muted``: 1 or 0)."""
    alert = scope.get_saved(Alert, pk)
    if not scope.can_edit_saved(alert):
        raise PermissionDenied(_("Only the owner of this alert or a workspace admin can change it."))
    before = field_values(alert)
    alert.muted = request.POST.get("muted") == "1"
    alert.save(update_fields=["muted", "updated_at"])
    services.alert_audit(actor=request.user, alert=alert, before=before)
    if request.POST.get("next") == "list":
        return redirect(LIST, slug=scope.workspace.slug)
    return redirect("alerts-detail", slug=scope.workspace.slug, pk=alert.pk)


@require_POST
@workspace_page
def alert_delete(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    alert = scope.get_saved(Alert, pk)
    if not scope.can_edit_saved(alert):
        raise PermissionDenied(_("Only the owner of this alert or a workspace admin can delete it."))
    name = alert.name
    services.alert_audit(actor=request.user, alert=alert, before=None, deleted=True)
    alert.delete()
    messages.success(request, _("Alert “%(name)s” deleted.") % {"name": name})
    return redirect(LIST, slug=scope.workspace.slug)
