"""Template filters for the shared formatters (``core.formatting``): ``{% load formatting %}``."""

from __future__ import annotations

from django import template
from django.utils import timezone

from core import formatting
from core.attributes import attribute_value_label, country_name
from tenancy.models import Workspace

register = template.Library()
register.filter("duration", formatting.duration)
register.filter("percent", formatting.percent)
register.filter("milliseconds", formatting.milliseconds)
register.filter("hours_minutes", formatting.hours_minutes)
register.filter("country_name", country_name)
register.filter("attribute_value", lambda value, name: attribute_value_label(name, value))


@register.filter
def example_now(workspace: Workspace) -> str:
    """This minute in the workspace's time zone, ISO 8601 with its offset: the timestamp of the example
    event an empty state shows. A fixed date put the first event outside the default period (the 30 days
    to today), and a new workspace showed zeros after a successful send."""
    return timezone.now().astimezone(workspace.tzinfo).replace(second=0, microsecond=0).isoformat()
