"""Forms of the dashboards pages: a new board, a board's period and filters, a share link's expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboards.models import Dashboard
from dashboards.services import MAX_SHARE_DAYS
from events.filters import USER_FILTER_FIELDS, user_filters_from
from events.periods import MAX_RANGE_DAYS


class DashboardForm(forms.ModelForm):
    class Meta:
        model = Dashboard
        fields = ["name", "description", "visibility"]
        labels = {"name": _("Name"), "visibility": _("Visibility")}
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class BoardSettingsForm(forms.Form):
    """The board's period (both dates, or neither: each tile's own) and user filters (comma-separated)."""

    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    language = forms.CharField(label=_("Language"), required=False, max_length=500)
    country = forms.CharField(label=_("Country"), required=False, max_length=500)
    timezone = forms.CharField(label=_("Time zone"), required=False, max_length=500)
    status = forms.CharField(label=_("Status"), required=False, max_length=500)

    @classmethod
    def initial_of(cls, dashboard: Dashboard) -> dict[str, Any]:
        filters = dashboard.filters or {}
        return {
            "start": dashboard.period_start,
            "end": dashboard.period_end,
            **{name: ", ".join(filters.get(name, [])) for name in USER_FILTER_FIELDS},
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if bool(start) != bool(end):
            self.add_error("end" if start else "start", _("Give both dates, or neither (each tile's own period)."))
        elif start and end and (end < start or (end - start).days + 1 > MAX_RANGE_DAYS):
            self.add_error("end", _("Choose an end after the start, at most two years later."))
        raw = {name: [v.strip() for v in (data.get(name) or "").split(",") if v.strip()] for name in USER_FILTER_FIELDS}
        try:
            data["filters"] = user_filters_from(raw)
        except forms.ValidationError as exc:
            for field, messages in getattr(exc, "message_dict", {"status": exc.messages}).items():
                self.add_error(field if field in self.fields else None, messages)
        return data


class ShareLinkForm(forms.Form):
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires in"),
        coerce=int,
        choices=[
            (1, _("1 day")),
            (7, _("7 days")),
            (30, _("30 days")),
            (90, _("90 days")),
            (MAX_SHARE_DAYS, _("1 year")),
        ],
        initial=7,
    )

    def expires_at(self) -> Any:
        return timezone.now() + timedelta(days=self.cleaned_data["expires_in_days"])
