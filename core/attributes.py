"""The CRM user attributes a tab filters, groups or breaks down by, and their labels: one list for
Trends' group-by, funnel breakdowns and filter-set groups, one set of labels for every page."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# A trend's group-by, a funnel's breakdown, a filter set's groups: one of these attributes.
GROUP_BY_ATTRIBUTES: tuple[str, ...] = ("language", "country", "timezone", "status", "role")

ATTRIBUTE_LABELS: dict[str, Promise] = {
    "language": _("Language"),
    "country": _("Country"),
    "timezone": _("Time zone"),
    "status": _("Status"),
    "role": _("Role"),
}


def attribute_label(name: str) -> str:
    """The label of an attribute, or its name when it has none."""
    return str(ATTRIBUTE_LABELS.get(name, name))
