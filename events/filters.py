"""The user-attribute filters (language, country, timezone, status) shared by every tab.

One FilterSet serves the page forms, the API and the selectors alike (docs/architecture.md). Each filter
accepts repeated parameters and comma-separated lists: ``country=CN&country=IN`` or ``country=CN,IN``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from events.models import CrmUser
from events.validation import UNSTORABLE, storable
from tenancy.models import Workspace


class MultiValueField(forms.Field):
    """A list of strings from repeated and/or comma-separated query parameters."""

    widget = forms.SelectMultiple

    def to_python(self, value: Any) -> list[str]:
        if value in (None, "", []):
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return [part.strip() for item in values for part in str(item).split(",") if part.strip()]


class MultiValueFilter(django_filters.Filter):
    field_class = MultiValueField

    def filter(self, qs: QuerySet, value: list[str]) -> QuerySet:
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class ListWidget(forms.SelectMultiple):
    """Reads every value of a repeated parameter (QueryDict.getlist) for the MultiValueField."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if hasattr(data, "getlist"):
            return data.getlist(name)
        return data.get(name)


class ExactListField(MultiValueField):
    """A list of values taken whole (an external id may contain a comma)."""

    def to_python(self, value: Any) -> list[str]:
        if value in (None, "", []):
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return [str(item).strip() for item in values if str(item).strip()]


class ExactListFilter(MultiValueFilter):
    field_class = ExactListField


class CrmUserFilterSet(django_filters.FilterSet):
    # A fixed list of users (a static filter set: the people at a funnel step, saved). Not one of the
    # filters every tab shows (``USER_FILTER_FIELDS``); only filter-set conditions take it.
    external_id = ExactListFilter(label=_("External id"), widget=ListWidget)
    language = MultiValueFilter(label=_("Language"), widget=ListWidget)
    country = MultiValueFilter(label=_("Country"), widget=ListWidget)
    timezone = MultiValueFilter(label=_("Time zone"), widget=ListWidget)
    status = MultiValueFilter(label=_("Status"), widget=ListWidget)

    class Meta:
        model = CrmUser
        fields = ["external_id", "language", "country", "timezone", "status"]


USER_FILTER_FIELDS = ("language", "country", "timezone", "status")
# The condition of a static filter set: these users, by external id (at most MAX_STATIC_USERS).
STATIC_USERS_FIELD = "external_id"
MAX_STATIC_USERS = 10_000


def user_filter_badges(form: forms.Form) -> list[dict[str, Any]]:
    """A form's user-filter fields with how many values each has ticked (for the dropdown badges)."""
    result = []
    for name in USER_FILTER_FIELDS:
        bound = form[name]
        result.append({"field": bound, "selected": len(bound.field.widget.format_value(bound.value()))})
    return result


def user_filters_from(data: Any) -> dict[str, list[str]]:
    """Validated user filters from a QueryDict or dict: {attribute: [values]}, empty ones dropped.

    Raises ``django.core.exceptions.ValidationError``-style errors through the FilterSet form; an
    unknown status is reported on the ``status`` field.
    """
    filterset = CrmUserFilterSet(data=data, queryset=CrmUser.objects.none())
    form = filterset.form
    if not form.is_valid():
        raise forms.ValidationError(form.errors)
    cleaned = {k: v for k, v in form.cleaned_data.items() if v}
    for key, values in cleaned.items():
        if any(not storable(v) for v in values):
            raise forms.ValidationError({key: [UNSTORABLE]})
    bad = [s for s in cleaned.get("status", []) if s not in CrmUser.Status.values]
    if bad:
        message = _("Unknown status: %(bad)s. Use one of: %(choices)s.") % {
            "bad": ", ".join(bad),
            "choices": ", ".join(CrmUser.Status.values),
        }
        raise forms.ValidationError({"status": [message]})
    return cleaned


def crm_user_condition(workspace: Workspace, filters: dict[str, list[str]] | None) -> Q | None:
    """A condition on ``crm_user`` keeping the workspace's users that pass the filters (a subquery),
    for rollup querysets; None without filters."""
    if not filters:
        return None
    return Q(crm_user__in=filter_crm_users(CrmUser.objects.filter(workspace=workspace), filters).values("id"))


def filter_crm_users(queryset: QuerySet[CrmUser], filters: dict[str, list[str]]) -> QuerySet[CrmUser]:
    """Apply validated user filters to a CrmUser queryset, through the same FilterSet."""
    if not filters:
        return queryset
    return CrmUserFilterSet(data=filters, queryset=queryset).qs
