"""How numbers read on every page: one formatter per kind of number, one output.

- ``duration(seconds)``: "45 s", "5 min 00 s", "1 h 05 min", "2 d 03 h"; "—" for none.
- ``percent(value)``: "12.5%" with one decimal; "—" when undefined (nothing to divide by).
- ``hours_minutes(minutes)``: a total of time: "35 min", "48 h 59 min"; "—" for none.
- ``milliseconds(ms)``: an operation's duration: "850 ms", "2.4 s", then as ``duration``; "—" for none.

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


def hours_minutes(minutes: float | None) -> str:
    """A total of time in whole minutes, as hours and minutes: "35 min", "48 h 59 min" (a user's session
    time over a period; "2,939.9" minutes read as a count, not as two days of work)."""
    if minutes is None:
        return DASH
    hours, rest = divmod(int(round(float(minutes))), 60)
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": rest}
    return _("%(m)d min") % {"m": rest}


def percent(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}%"


def milliseconds(value: int | None) -> str:
    if value is None:
        return DASH
    if value < 1000:
        return _("%(ms)d ms") % {"ms": value}
    if value < 60_000:
        return _("%(s).1f s") % {"s": value / 1000}
    return duration(value / 1000)
