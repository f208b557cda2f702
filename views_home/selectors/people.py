"""The users behind a figure of the Home and Hub tabs and of Trends (``people=``, docs/drilldown.md),
each found from the definition of the figure itself, so that their number is the figure. Each
function checks first that the selector names a figure of the answer (``NotAFigure`` otherwise:
a 400 naming ``people``)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from core.people import NotAFigure
from events.filters import crm_user_condition
from events.models import UserDay
from events.selectors import active_days_by_user, feature_events_by_user, feature_use_in_period
from views_home.selectors.home import calendar_period, inactive_users
from views_home.selectors.hub import feature_frequency, feature_popularity
from views_home.selectors.trends import Measure, trend_point_users, trend_series

if TYPE_CHECKING:
    from views_home.queries import FrequencyQuery, HomeQuery, PopularityQuery, TrendsQuery, WeeksQuery

SUMMARY_PEOPLE = ("active_users", "inactive_users")


def summary_people(query: HomeQuery) -> list[int]:
    """``active_users``: the users with an active day in the period; ``inactive_users``: the others
    who could have been (``inactive_users``), as the summary counts them."""
    if query.people not in SUMMARY_PEOPLE:
        raise NotAFigure(query.people, ", ".join(SUMMARY_PEOPLE))
    workspace, period = query.workspace, query.period
    narrow = crm_user_condition(workspace, query.filters)
    (active,) = active_days_by_user(workspace=workspace, periods=[period], narrow=narrow)
    if query.people == "active_users":
        return list(active)
    return inactive_users(workspace, period, query.filters, active)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def calendar_people(query: WeeksQuery) -> list[int]:
    """The users active on one day of the attendance calendar (a day it shows)."""
    period = calendar_period(query)
    day = _day(query.people)
    if day is None or not period.start <= day <= period.end:
        raise NotAFigure(query.people, f"{period.start.isoformat()} … {period.end.isoformat()}")
    rows = UserDay.objects.filter(workspace=query.workspace, day=day)
    if (condition := crm_user_condition(query.workspace, query.filters)) is not None:
        rows = rows.filter(condition)
    return list(rows.values_list("crm_user_id", flat=True).distinct().order_by())


def popularity_people(query: PopularityQuery) -> list[int]:
    """The users of one feature of the popularity answer: those with a day of use of it in the period."""
    shown = {p.feature: p for p in feature_popularity(query)}
    if query.people not in shown:
        raise NotAFigure(query.people)
    pairs = feature_use_in_period(workspace=query.workspace, period=query.period).filter(feature__key=query.people)
    if (condition := crm_user_condition(query.workspace, query.filters)) is not None:
        pairs = pairs.filter(condition)
    return list(pairs.values_list("crm_user_id", flat=True).distinct().order_by())


def frequency_people(query: FrequencyQuery) -> list[int]:
    """The users of one frequency bucket (named by its ``min``): their events on the feature in the
    period are within the bucket's bounds."""
    buckets = {str(b.min): b for b in feature_frequency(query)}
    bucket = buckets.get(query.people)
    if bucket is None:
        raise NotAFigure(query.people, ", ".join(buckets))
    narrow = crm_user_condition(query.workspace, query.filters)
    per_user = feature_events_by_user(
        workspace=query.workspace, period=query.period, feature=query.feature, narrow=narrow
    )
    top = bucket.max
    return [user_id for user_id, n in per_user.items() if n >= bucket.min and (top is None or n <= top)]


def trend_people(query: TrendsQuery) -> list[int]:
    """The users of one point of ``measure=users``: the bucket named by its date label, and with
    ``group_by`` the series of ``people_group``."""
    if query.measure is not Measure.USERS:
        raise NotAFigure(query.people, "measure=users")
    bucket = _day(query.people)
    if bucket is None or bucket not in query.period.buckets(query.interval):
        raise NotAFigure(query.people)
    group: str | None = None
    if query.group_by:
        groups = {s.group for s in trend_series(query)}
        group = query.people_group
        if group is None or group not in groups:
            raise NotAFigure(f"{query.people} / {group}" if group is not None else query.people, "people_group")
    return trend_point_users(query, bucket, group)


__all__ = [
    "calendar_people",
    "frequency_people",
    "popularity_people",
    "summary_people",
    "trend_people",
]
