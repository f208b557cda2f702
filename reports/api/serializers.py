"""The ``report-schedules/`` fields (API.md): each field's type and range here, the rules across
fields in ``reports.schedules.schedule_values`` (shared with the page's form)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from reports.models import MAX_RECIPIENTS, ReportSchedule
from reports.schedules import ScheduleInvalid, schedule_values


class ReportScheduleSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    kind = serializers.ChoiceField(choices=ReportSchedule.Kind.choices, default=ReportSchedule.Kind.ANALYSIS)
    dashboard = serializers.IntegerField(
        source="dashboard_id", allow_null=True, required=False, help_text="A board's id; kind=dashboard only."
    )
    frequency = serializers.ChoiceField(choices=ReportSchedule.Frequency.choices)
    weekday = serializers.IntegerField(min_value=1, max_value=7, allow_null=True, required=False, help_text="1 = Monday … 7 = Sunday; weekly only.")  # fmt: skip
    day = serializers.IntegerField(min_value=1, max_value=31, allow_null=True, required=False, help_text="1–31; monthly only. A day the month does not have: its last day.")  # fmt: skip
    hour = serializers.IntegerField(min_value=0, max_value=23, help_text="0–23, the workspace's local time.")
    recipients = serializers.ListField(
        child=serializers.CharField(max_length=254),
        max_length=MAX_RECIPIENTS * 5,
        help_text=f"Email addresses (at most {MAX_RECIPIENTS} once duplicates are dropped).",
    )
    language = serializers.ChoiceField(choices=ReportSchedule.Language.choices, default=ReportSchedule.Language.EN)

    class Meta:
        model = ReportSchedule
        fields = [
            "id", "name", "kind", "dashboard", "frequency", "weekday", "day", "hour", "recipients", "language",
            "visibility", "owner", "last_slot", "last_sent_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["last_slot", "last_sent_at", "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The rules across fields, on the values the schedule will have (a PATCH keeps the others)."""
        instance: ReportSchedule | None = self.instance
        merged: dict[str, Any] = {}
        if instance is not None:
            merged = {name: getattr(instance, name) for name in ("kind", "frequency", "weekday", "day", "hour", "recipients", "language")}  # fmt: skip
            merged["dashboard"] = instance.dashboard_id
        if "dashboard_id" in attrs:
            attrs["dashboard"] = attrs.pop("dashboard_id")
        merged.update(attrs)
        owner = instance.owner if instance is not None else self.context["request"].user
        try:
            values = schedule_values(merged, workspace=self.context["workspace"], owner=owner)
        except ScheduleInvalid as exc:
            raise serializers.ValidationError(exc.errors) from None
        return {**attrs, **{k: values[k] for k in ("kind", "dashboard", "weekday", "day", "recipients")}}
