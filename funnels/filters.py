"""Filters of the Funnels area.

* The user-attribute filters of a funnel are the shared ones (``events.filters``): same fields, same
  validation, same query everywhere.
* A breakdown is by one of the user attributes a trend can be grouped by
  (``core.attributes.GROUP_BY_ATTRIBUTES``).
* ``FunnelListFilterSet`` narrows the list of funnels (API ``funnels/?scope=mine`` and the page).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from funnels.models import Funnel


class FunnelListFilterSet(django_filters.FilterSet):
    scope = django_filters.ChoiceFilter(
        label=_("Scope"),
        choices=[("mine", _("Mine")), ("shared", _("Shared with me"))],
        method="filter_scope",
        help_text=_("mine: funnels you own; shared: funnels of other members shared with the workspace."),
    )

    class Meta:
        model = Funnel
        fields = ["scope"]

    def filter_scope(self, queryset: QuerySet[Funnel], name: str, value: Any) -> QuerySet[Funnel]:
        user = getattr(self.request, "user", None)
        if user is None:
            return queryset
        if value == "mine":
            return queryset.filter(owner=user)
        if value == "shared":
            return queryset.exclude(owner=user)
        return queryset
