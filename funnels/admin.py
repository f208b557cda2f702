"""Saved funnels in the Django admin: list, filter by workspace, visibility and owner, recompute."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from funnels.definition import step_labels
from funnels.models import Funnel, FunnelResult
from funnels.services import funnel_results_refresh
from tenancy.admin import SavedConfigAdmin


class FunnelResultInline(admin.StackedInline):
    model = FunnelResult
    extra = 0
    can_delete = True
    fields = ("range_start", "range_end", "computed_at", "duration_ms", "stale", "payload")
    readonly_fields = ("range_start", "range_end", "computed_at", "duration_ms", "stale", "payload")

    def has_add_permission(self, request: HttpRequest, obj: Funnel | None = None) -> bool:
        return False  # results are computed, not typed in


@admin.register(Funnel)
class FunnelAdmin(SavedConfigAdmin):
    list_display = ["name", "workspace", "owner", "visibility", "unit", "window_days", "step_summary", "updated_at"]
    list_filter = [
        ("workspace", admin.RelatedOnlyFieldListFilter),
        "visibility",
        "unit",
        ("owner", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "owner__username", "workspace__slug"]
    list_select_related = ["workspace", "owner"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [FunnelResultInline]
    actions = ["recompute"]
    fieldsets = [
        (None, {"fields": ["workspace", "name", "owner", "visibility"]}),
        (_("Definition"), {"fields": ["steps", "unit", "window_days", "order", "filters", "breakdown"]}),
        (_("Default range"), {"fields": ["range_start", "range_end", "range_days"]}),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("steps"))
    def step_summary(self, obj: Funnel) -> str:
        try:
            return " → ".join(step_labels(obj.steps))
        except (TypeError, KeyError, AttributeError):
            return "?"

    @admin.action(description=_("Recompute the cached results now"))
    def recompute(self, request: HttpRequest, queryset: QuerySet[Funnel]) -> None:
        count = 0
        for funnel in queryset.select_related("workspace"):
            funnel_results_refresh(funnel=funnel)
            count += 1
        self.message_user(
            request,
            ngettext("Recomputed %(n)d funnel.", "Recomputed %(n)d funnels.", count) % {"n": count},
            messages.SUCCESS,
        )
