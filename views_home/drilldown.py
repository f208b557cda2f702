"""The figures of the Home, Trends and Hub tabs that open the users behind them on the drill-down page
(docs/drilldown.md): registered with ``core.people`` when the app is ready. The users come from
``views_home.selectors.people``, as for the API's ``people=``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from core.people import Source, register_source
from events.periods import Interval
from tenancy.scoping import WorkspaceScope
from views_home import presenters
from views_home.queries import FrequencyQuery, HomeQuery, PopularityQuery, TrendsQuery, WeeksQuery
from views_home.selectors import people


def _parser(query_class: Any) -> Any:
    def parse(scope: WorkspaceScope, viewer: Any, data: QueryDict) -> Any:
        return query_class.parse(data, workspace=scope.workspace, viewer=viewer)

    return parse


def _day(text: str, interval: Interval = Interval.DAY) -> str:
    try:
        return presenters.bucket_label(date.fromisoformat(text), interval)
    except ValueError:
        return text


def summary_title(query: HomeQuery) -> str:
    return _("Active users") if query.people == "active_users" else _("Inactive users")


def calendar_title(query: WeeksQuery) -> str:
    return _("Users active on %(day)s") % {"day": _day(query.people)}


def popularity_title(query: PopularityQuery) -> str:
    return _("Users of %(feature)s") % {"feature": query.people}


def frequency_title(query: FrequencyQuery) -> str:
    bounds = list(query.bounds)
    low = int(query.people) if query.people.isdigit() else 0
    following = next((b for b in bounds if b > low), None)
    span = f"{low}+" if following is None else (str(low) if following - 1 == low else f"{low}–{following - 1}")
    return _("Users with %(span)s events on %(feature)s") % {"span": span, "feature": query.feature.key}


def trends_title(query: TrendsQuery) -> str:
    title = _("Users of %(feature)s, %(bucket)s") % {
        "feature": query.feature.key,
        "bucket": _day(query.people, query.interval),
    }
    if query.group_by and query.people_group is not None:
        title += f" · {presenters.group_label(query.people_group, '', query.group_by)}"
    return title


def register() -> None:
    for source in (
        Source("home/summary", _parser(HomeQuery), people.summary_people, summary_title),
        Source("home/attendance-calendar", _parser(WeeksQuery), people.calendar_people, calendar_title),
        Source("hub/popularity", _parser(PopularityQuery), people.popularity_people, popularity_title),
        Source("hub/frequency", _parser(FrequencyQuery), people.frequency_people, frequency_title),
        Source("trends", _parser(TrendsQuery), people.trend_people, trends_title),
    ):
        register_source(source)
