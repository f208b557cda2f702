"""``{% load dashboards %}``: ``url|pinnable`` tells a chart box whether its chart can become a tile."""

from __future__ import annotations

from django import template
from django.urls import Resolver404, resolve

from dashboards.services import CHART_ENDPOINTS

register = template.Library()


@register.filter
def pinnable(chart_url: str) -> bool:
    try:
        return resolve(str(chart_url).partition("?")[0]).url_name in CHART_ENDPOINTS
    except Resolver404:
        return False
