"""Pages that belong to no tab: the signed-in user's personal API tokens, and an ingest key issued
from a workspace's empty state (shown once)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.chrome import page_chrome
from tenancy.scoping import WorkspaceScope, workspace_page, workspaces_for
from tenancy.services import MAX_TOKEN_DAYS, api_token_create, api_token_revoke, api_tokens_of, ingest_key_issue


class TokenCreateForm(forms.Form):
    days = forms.IntegerField(
        label=gettext_lazy("Expires after (days)"), min_value=1, max_value=MAX_TOKEN_DAYS, initial=90
    )


@never_cache  # shows a new token once: no cache may keep it
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST if request.POST.get("action") == "create" else None)
    context: dict[str, Any] = {
        "form": form,
        "new_token": None,
        "example_workspace": workspaces_for(request.user).order_by("name").first(),
        "api_base": request.build_absolute_uri("/api/v1/"),
    }
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            if api_token_revoke(user=request.user, token_key=request.POST.get("token_key", "")):
                messages.success(request, _("The token was revoked; requests using it now get 401."))
            return redirect("api-tokens")
        if form.is_valid():
            instance, secret = api_token_create(user=request.user, days=form.cleaned_data["days"])
            # Rendered, not redirected: the secret exists only in this response.
            context.update({"new_token": secret, "new_token_expiry": instance.expiry, "form": TokenCreateForm()})
    context["tokens"] = api_tokens_of(user=request.user)
    return render(request, "account/api_tokens.html", context, status=400 if form.errors else 200)


@never_cache  # shows a new ingest key once: no cache may keep it
@require_POST
@workspace_page
def ingest_key_create(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """Workspace admins only: issue a key and show it once, with a ready-to-run example."""
    if not scope.is_admin:
        return render(request, "403.html", status=403)
    workspace = scope.workspace
    _key, raw = ingest_key_issue(
        workspace=workspace, actor=request.user, label=f"created in the app by {request.user.get_username()}"
    )
    context = {
        **page_chrome(request, workspace),
        "raw_key": raw,
        "batch_url": request.build_absolute_uri(reverse("api-events-batch")),
    }
    return render(request, "events/ingest_key_created.html", context)
