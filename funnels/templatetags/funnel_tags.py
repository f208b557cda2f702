"""Template filters of the Funnels tab."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """A step-to-step time for people: "45 s", "12 min", "3.5 h", "2.1 d"; "—" when there is none."""
    if seconds is None:
        return "—"
    value = float(seconds)
    if value < 60:
        return _("%(n)s s") % {"n": f"{value:.0f}"}
    if value < 3600:
        return _("%(n)s min") % {"n": f"{value / 60:.0f}"}
    if value < 86400:
        return _("%(n)s h") % {"n": f"{value / 3600:.1f}"}
    return _("%(n)s d") % {"n": f"{value / 86400:.1f}"}


@register.filter
def percent(value: float | None) -> str:
    """A percentage with one decimal, "—" when it is undefined (nobody to divide by)."""
    return "—" if value is None else f"{value:.1f}%"


@register.filter
def step_at(steps: list, index: int) -> object:
    """The step of a breakdown group at the same position as a column of the table."""
    try:
        return steps[int(index)]
    except (IndexError, ValueError, TypeError):
        return None
