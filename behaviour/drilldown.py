"""Retention cells, lifecycle bars and stickiness bars open the users behind them on the drill-down
page (docs/drilldown.md): registered with ``core.people`` when the app is ready. The users come from
``behaviour.selectors.people``, as for the API's ``people=``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import QueryDict
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from behaviour.queries import LifecycleQuery, RetentionQuery, StickinessQuery
from behaviour.selectors import people
from core.people import Source, register_source
from tenancy.scoping import WorkspaceScope


def _parser(query_class: Any) -> Any:
    def parse(scope: WorkspaceScope, viewer: Any, data: QueryDict) -> Any:
        return query_class.parse(data, workspace=scope.workspace, viewer=viewer)

    return parse


def _pair(text: str) -> tuple[str, str]:
    """``<date>:<rest>`` with the date written for people (as typed when it is not one)."""
    day, _colon, rest = text.partition(":")
    try:
        return date_format(date.fromisoformat(day), _("M j, Y")), rest
    except ValueError:
        return day, rest


def retention_title(query: RetentionQuery) -> str:
    cohort, offset = _pair(query.people)
    if offset == "0":
        return _("Cohort of %(cohort)s") % {"cohort": cohort}
    return _("Cohort of %(cohort)s, back after %(offset)s intervals") % {"cohort": cohort, "offset": offset}


def lifecycle_title(query: LifecycleQuery) -> str:
    bucket, state = _pair(query.people)
    titles = {
        "new": _("New in the interval of %(bucket)s"),
        "returning": _("Returning in the interval of %(bucket)s"),
        "resurrecting": _("Resurrecting in the interval of %(bucket)s"),
        "dormant": _("Went dormant in the interval of %(bucket)s"),
    }
    return titles.get(state, "%(bucket)s") % {"bucket": bucket}


def stickiness_title(query: StickinessQuery) -> str:
    n = int(query.people) if query.people.isdigit() else 0
    return ngettext("Active on exactly %(n)d day", "Active on exactly %(n)d days", n) % {"n": n}


def register() -> None:
    for source in (
        Source("behaviour/retention", _parser(RetentionQuery), people.cell_people, retention_title),
        Source("behaviour/lifecycle", _parser(LifecycleQuery), people.bar_people, lifecycle_title),
        Source("behaviour/stickiness", _parser(StickinessQuery), people.stickiness_bar_people, stickiness_title),
    ):
        register_source(source)
