"""The Django admin of the CRM records, scoped to the workspaces the staff user administers. Records
come from the CRM (batch API, ``import_records``); the admin is for looking and for fixing one by hand.
Saving here marks the aggregates dirty like a batch does, so the tabs follow."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from records.labelling import terms_follow
from records.models import (
    Account,
    Activity,
    Contract,
    Deal,
    DealLineItem,
    DealStageChange,
    Feedback,
    PerceptionSettings,
    Product,
    RetentionSpend,
    StageThreshold,
    SurveyResponse,
    Target,
)
from records.names import duplicate_key
from records.services import (
    KIND_OF_MODEL,
    DirtyMarks,
    enqueue_feedback_labelling,
    enqueue_figures_refresh,
    perception_settings_replace,
)
from records.validation import DERIVED_DATES, parse_perception_settings
from records.versions import records_changed
from tenancy.admin import WorkspaceAdminScope


class MarksDirtyOnSave(WorkspaceAdminScope):
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # As in the CRM's own API: set "deleted" instead, so the aggregates are marked and kept right.
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = type(obj).objects.filter(pk=obj.pk).first() if obj.pk else None
        tz = obj.workspace.tzinfo
        if isinstance(obj, Account):
            obj.name_key = duplicate_key(obj.name)
        for moment, day in DERIVED_DATES:
            if hasattr(obj, day):
                setattr(obj, day, getattr(obj, moment).astimezone(tz).date())
        if isinstance(obj, Deal) and (before is None or not obj.stage_history.exists()):
            obj.stage_entered_at = obj.created_at
        relabel = isinstance(obj, Feedback) and (before is None or before.text != obj.text)
        if relabel:
            obj.labelled_at = None
        super().save_model(request, obj, form, change)
        if isinstance(obj, Feedback) and not relabel:
            terms_follow([obj])
        if relabel:
            workspace_pk = obj.workspace_id
            transaction.on_commit(lambda: enqueue_feedback_labelling(workspace_pk))
        marks = DirtyMarks()
        for record in (before, obj):
            if isinstance(record, Account):
                marks.account(record.pk)
                if before is not None and before.deleted != obj.deleted:  # its feedback leaves or rejoins
                    marks.feedback_of_accounts([record.pk])
                for close_date, created_on in Deal.objects.filter(account=record).values_list(
                    "close_date", "created_on"
                ):
                    marks.close(close_date)
                    marks.created(created_on)
            elif isinstance(record, Deal):
                marks.deal(record)
            elif isinstance(record, Activity):
                marks.account(record.account_id)
                marks.activity(record.occurred_on)
                marks.deal_activity(record.deal_id)
            elif isinstance(record, SurveyResponse | Contract | Feedback):  # the account's perception figures
                marks.account(record.account_id)
                if isinstance(record, Feedback):  # the voice's day aggregates
                    marks.feedback_day(record.received_on)
        marks.save(obj.workspace)
        records_changed(obj.workspace_id, [KIND_OF_MODEL[type(obj)]])
        workspace_id = obj.workspace_id
        transaction.on_commit(lambda: enqueue_figures_refresh(workspace_id))


@admin.register(Account)
class AccountAdmin(MarksDirtyOnSave):
    list_display = [
        "name",
        "external_id",
        "industry",
        "country",
        "owner",
        "status",
        "deleted",
        "created_at",
        "workspace",
    ]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter), "status", "deleted", "industry"]
    search_fields = ["external_id", "name"]
    raw_id_fields = ["owner"]
    list_per_page = 100


@admin.register(Product)
class ProductAdmin(MarksDirtyOnSave):
    list_display = ["name", "external_id", "category", "deleted", "workspace"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter), "category", "deleted"]
    search_fields = ["external_id", "name"]


class LineItemInline(admin.TabularInline):
    model = DealLineItem
    raw_id_fields = ["product"]
    extra = 0


class StageChangeInline(admin.TabularInline):
    model = DealStageChange
    extra = 0


@admin.register(Deal)
class DealAdmin(MarksDirtyOnSave):
    list_display = [
        "name",
        "external_id",
        "account",
        "owner",
        "amount_cents",
        "stage",
        "state",
        "close_date",
        "deleted",
    ]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter), "state", "forecast_category", "deleted", "stage"]
    search_fields = ["external_id", "name", "account__name"]
    raw_id_fields = ["account", "owner"]
    inlines = [LineItemInline, StageChangeInline]
    list_per_page = 100


@admin.register(Activity)
class ActivityAdmin(MarksDirtyOnSave):
    list_display = ["external_id", "kind", "owner", "account", "deal", "occurred_at", "completed", "deleted"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter), "kind", "completed", "deleted"]
    search_fields = ["external_id", "account__name", "deal__name"]
    raw_id_fields = ["owner", "account", "deal"]
    list_per_page = 100


@admin.register(Target)
class TargetAdmin(MarksDirtyOnSave):
    list_display = ["external_id", "owner", "month", "pipeline_target_cents", "revenue_quota_cents", "deleted"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter), "month", "deleted"]
    search_fields = ["external_id", "owner__external_id"]
    raw_id_fields = ["owner"]


@admin.register(StageThreshold)
class StageThresholdAdmin(WorkspaceAdminScope):
    list_display = ["stage", "days", "workspace"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["stage"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_module_permission(request)


@admin.register(SurveyResponse)
class SurveyResponseAdmin(MarksDirtyOnSave):
    list_display = ["external_id", "account", "contact", "kind", "score", "responded_at", "deleted"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter), "kind", "deleted"]
    search_fields = ["external_id", "account__name", "contact", "comment"]
    raw_id_fields = ["account"]
    list_per_page = 100


@admin.register(Contract)
class ContractAdmin(MarksDirtyOnSave):
    list_display = ["external_id", "account", "start", "end", "monthly_value_cents", "status", "deleted"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter), "status", "deleted"]
    search_fields = ["external_id", "account__name"]
    raw_id_fields = ["account"]
    list_per_page = 100


@admin.register(RetentionSpend)
class RetentionSpendAdmin(MarksDirtyOnSave):
    list_display = ["external_id", "period", "amount_cents", "account", "deleted"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter), "period", "deleted"]
    search_fields = ["external_id", "account__name"]
    raw_id_fields = ["account"]


@admin.register(Feedback)
class FeedbackAdmin(MarksDirtyOnSave):
    list_display = ["external_id", "channel", "account", "received_at", "language", "sentiment", "deleted"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter), "channel", "sentiment", "language", "deleted"]
    search_fields = ["external_id", "account__name", "contact", "text"]
    raw_id_fields = ["account"]
    readonly_fields = ["language", "sentiment", "intents", "competitors", "keywords", "labelled_at"]
    list_per_page = 100


class PerceptionSettingsForm(forms.ModelForm):
    class Meta:
        model = PerceptionSettings
        fields = ["workspace", "intents", "competitors"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "intents" in cleaned and "competitors" in cleaned:
            vocabulary, errors = parse_perception_settings(
                {"intents": cleaned["intents"], "competitors": cleaned["competitors"]}
            )
            if vocabulary is None:
                raise forms.ValidationError([f"{field}: {' '.join(messages)}" for field, messages in errors.items()])
            cleaned.update(vocabulary)
        return cleaned


@admin.register(PerceptionSettings)
class PerceptionSettingsAdmin(WorkspaceAdminScope):
    """Intent keywords and competitors; saving relabels the workspace's feedback."""

    form = PerceptionSettingsForm
    list_display = ["workspace", "updated_at"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_module_permission(request)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        perception_settings_replace(workspace=obj.workspace, intents=obj.intents, competitors=obj.competitors)
