"""The signed-in user's own page: personal API tokens."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from crm_usage.api import workspaces_for
from crm_usage.tokens import MAX_TOKEN_DAYS, api_token_create, api_token_revoke, api_tokens_of


class TokenCreateForm(forms.Form):
    days = forms.IntegerField(
        label=gettext_lazy("Expires after (days)"), min_value=1, max_value=MAX_TOKEN_DAYS, initial=90
    )


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
