"""``{% load dashboards %}``: ``url|pinnable`` tells a chart box whether its chart can become a tile,
``user|writes_in:workspace`` whether a click on its dates may add an annotation."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import Resolver404, resolve

from dashboards.services import CHART_ENDPOINTS
from tenancy.models import Workspace, saved_config_can_create

register = template.Library()


@register.filter
def pinnable(chart_url: str) -> bool:
    try:
        return resolve(str(chart_url).partition("?")[0]).url_name in CHART_ENDPOINTS
    except Resolver404:
        return False


@register.filter
def writes_in(user: Any, workspace: Workspace) -> bool:
    """Whether ``user`` may write annotations (and boards) in ``workspace``: admins and analysts."""
    return saved_config_can_create(user, workspace)
