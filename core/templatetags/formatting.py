"""Template filters for the shared formatters (``core.formatting``): ``{% load formatting %}``."""

from __future__ import annotations

from django import template

from core import formatting

register = template.Library()
register.filter("duration", formatting.duration)
register.filter("percent", formatting.percent)
register.filter("milliseconds", formatting.milliseconds)
