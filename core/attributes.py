"""The CRM user attributes a tab filters, groups or breaks down by, and their labels: one list for
Trends' group-by, funnel breakdowns and filter-set groups, one set of labels for every page."""

from __future__ import annotations

from collections.abc import Mapping

from babel import Locale, UnknownLocaleError
from django.utils.functional import Promise
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext_lazy as _

from events.models import CrmUser
from tenancy.models import Workspace
from tenancy.scoping import in_workspace

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


def _territories() -> Mapping[str, str]:
    """Country names by ISO 3166 code in the active language (CLDR's, shipped inside Babel)."""
    try:
        return Locale.parse(to_locale(get_language() or "en")).territories
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en").territories


def country_name(code: str) -> str:
    """ "China (CN)" for "CN" (in Chinese "中国 (CN)"): the name a reader knows, and the code the CRM sends
    and the filters take. A code CLDR does not know reads as sent."""
    name = _territories().get(code.upper()) if len(code) == 2 else None
    return f"{name} ({code})" if name else code


def attribute_value_label(name: str, value: str) -> str:
    """How a value of a user attribute reads on a page (a filter's option, a series of Trends): a
    country by its name, any other attribute as it is stored."""
    return country_name(value) if name == "country" and value else value


def attribute_values(workspace: Workspace, name: str) -> list[str]:
    """The values the workspace's CRM users have for an attribute, sorted, "" (not set) left out."""
    return list(
        in_workspace(CrmUser, workspace).exclude(**{name: ""}).order_by(name).values_list(name, flat=True).distinct()
    )
