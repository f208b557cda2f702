"""The scheduled report's form on the page: each field's type here, the rules across fields in
``reports.schedules.schedule_values`` (the API's serializer calls the same function)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dashboards.models import Dashboard
from reports.models import ReportSchedule
from reports.schedules import ScheduleInvalid, schedule_values
from tenancy.models import SavedConfig
from tenancy.scoping import in_workspace

WEEKDAYS = [
    (1, _("Monday")), (2, _("Tuesday")), (3, _("Wednesday")), (4, _("Thursday")),
    (5, _("Friday")), (6, _("Saturday")), (7, _("Sunday")),
]  # fmt: skip


class ScheduleForm(forms.Form):
    name = forms.CharField(label=_("Name (the email's subject)"), max_length=200)
    kind = forms.ChoiceField(
        label=pgettext_lazy("scheduled report", "Report"),
        choices=ReportSchedule.Kind.choices,
        initial=ReportSchedule.Kind.ANALYSIS,
    )
    dashboard = forms.TypedChoiceField(
        label=_("Dashboard (for a dashboard report)"), choices=[], coerce=int, empty_value=None, required=False
    )
    frequency = forms.ChoiceField(label=_("Frequency"), choices=ReportSchedule.Frequency.choices)
    weekday = forms.TypedChoiceField(
        label=_("Weekday (weekly)"), choices=[("", "—"), *WEEKDAYS], coerce=int, empty_value=None, required=False
    )
    day = forms.IntegerField(
        label=_("Day of the month (monthly)"), min_value=1, max_value=31, required=False,
        help_text=_("1–31; in a shorter month, its last day (31 is 30 April)."),
    )  # fmt: skip
    hour = forms.TypedChoiceField(
        label=pgettext_lazy("scheduled report", "Hour"), choices=[(h, f"{h:02d}:00") for h in range(24)], coerce=int, initial=8,
        help_text=_("In the workspace's time zone."),
    )  # fmt: skip
    recipients = forms.CharField(
        label=pgettext_lazy("scheduled report", "Recipients"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Email addresses, one per line or separated by commas."),
    )  # fmt: skip
    language = forms.ChoiceField(label=_("Language"), choices=ReportSchedule.Language.choices)
    visibility = forms.ChoiceField(
        label=_("Visibility"), choices=SavedConfig.Visibility.choices, initial=SavedConfig.Visibility.PRIVATE
    )

    def __init__(self, *args: Any, workspace: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace, self.owner = workspace, owner
        boards = in_workspace(Dashboard, workspace).visible_to(owner).order_by("name", "pk")  # type: ignore[attr-defined]
        self.fields["dashboard"].choices = [("", "—"), *[(b.pk, b.name) for b in boards]]  # type: ignore[attr-defined]
        self.values: dict[str, Any] = {}

    @classmethod
    def initial_of(cls, schedule: ReportSchedule) -> dict[str, Any]:
        fields = ("name", "kind", "dashboard_id", "frequency", "weekday", "day", "hour", "language", "visibility")
        initial = {name.removesuffix("_id"): getattr(schedule, name) for name in fields}
        return {**initial, "recipients": "\n".join(schedule.recipients)}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self.values = schedule_values(data, workspace=self.workspace, owner=self.owner)
        except ScheduleInvalid as exc:
            for name, messages in exc.errors.items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        return data
