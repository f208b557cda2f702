"""Pages of the events area: issuing an ingest key from the empty state of a workspace."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from crm_usage.api import workspaces_for
from crm_usage.chrome import page_chrome
from events.audit import audit_record
from events.models import AuditEntry, IngestKey, Membership


@login_required
@require_POST
def ingest_key_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Workspace admins only: issue a key and show it once, with a ready-to-run example."""
    workspace = get_object_or_404(workspaces_for(request.user), slug=slug)
    if Membership.role_of(request.user, workspace) != Membership.Role.ADMIN:
        return render(request, "403.html", status=403)
    key, raw = IngestKey.issue(workspace, label=f"created in the app by {request.user.get_username()}")
    audit_record(workspace=workspace, actor=request.user, action=AuditEntry.Action.KEY_ISSUED, target=key)
    context = {
        **page_chrome(request, workspace),
        "raw_key": raw,
        "batch_url": request.build_absolute_uri(reverse("api-events-batch")),
    }
    return render(request, "events/ingest_key_created.html", context)
