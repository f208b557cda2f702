"""How numbers read on every page: one formatter per kind of number, one output.

- ``duration(seconds)``: "45 s", "5 min 00 s", "1 h 05 min", "2 d 03 h"; "—" for none.
- ``percent(value)``: "12.5%" with one decimal; "—" when undefined (nothing to divide by).

The templates use them as filters (``{% load formatting %}``); chart JSON carries the same text
where a chart shows one, so the browser never formats a duration itself.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

DASH = "—"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    total = int(round(float(seconds)))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)02d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min %(s)02d s") % {"m": minutes, "s": secs}
    return _("%(s)d s") % {"s": secs}


def percent(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}%"
