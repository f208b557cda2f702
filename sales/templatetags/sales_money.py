"""``{% load sales_money %}{% money cents %}``: an amount (whole cents) of the page's workspace in its
currency, as the reader's language writes it (``records.figures.money``; "—" when missing)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import translation

from records.figures import money as money_text

register = template.Library()


@register.simple_tag(takes_context=True)
def money(context: Any, cents: int | None) -> str:
    return money_text(cents, context["workspace"], translation.get_language() or "en")
