"""Hub tab: how many users use each feature (popularity) and how often (frequency buckets)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, Sum

from events.filters import crm_user_condition
from events.models import Feature
from events.periods import Period
from events.selectors import feature_day_reach, feature_events_by_user, feature_month_totals, feature_use_counts
from tenancy.models import Workspace
from views_home.selectors.common import UserFilters, user_feature_totals

if TYPE_CHECKING:  # the selectors take the queries; parsing a query may call a selector
    from views_home.queries import FrequencyQuery, PopularityQuery


@dataclass(frozen=True)
class FeaturePopularity:
    feature: str
    users: int
    interactions: int


@dataclass(frozen=True)
class FrequencyBucket:
    min: int
    max: int | None  # None for the open last bucket
    users: int


def feature_popularity(query: PopularityQuery) -> list[FeaturePopularity]:
    """Distinct users and interactions per feature; most users first (then interactions, key).
    Features asked for by name are listed even when nobody used them."""
    workspace, period, features, filters = query.workspace, query.period, query.features, query.filters
    # No read grows with the number of events. Unfiltered, a calendar month is its FeatureMonth rows
    # (features × 1) and any other period its FeatureDay rows (features × days, the users from
    # their bitmaps); filtered, distinct users come from the month bitmasks of the filtered users'
    # pairs (users × features × months) and interactions from their daily totals.
    condition = crm_user_condition(workspace, filters)
    if condition is None:
        month = period.calendar_month
        totals = (
            feature_month_totals(workspace=workspace, month=month, features=features)
            if month is not None
            else feature_day_reach(workspace=workspace, period=period, features=features)
        )
        found = {key: FeaturePopularity(key, users, events) for key, users, events in totals}
    else:
        found = _filtered_popularity(workspace, period, features, filters, condition)
    for feature in features or ():
        found.setdefault(feature.key, FeaturePopularity(feature.key, 0, 0))
    return sorted(found.values(), key=lambda p: (-p.users, -p.interactions, p.feature))


def _filtered_popularity(
    workspace: Workspace,
    period: Period,
    features: Sequence[Feature] | None,
    filters: UserFilters | None,
    condition: Q,
) -> dict[str, FeaturePopularity]:
    narrow = condition
    if features is not None:
        narrow &= Q(feature__in=[f.pk for f in features])
    totals = user_feature_totals(workspace=workspace, period=period, filters=filters, features=features)
    users = feature_use_counts(workspace=workspace, period=period, per="feature_id", narrow=narrow)
    interactions = totals.values("feature_id", "feature__key").annotate(n=Sum("events")).order_by()
    return {
        r["feature__key"]: FeaturePopularity(r["feature__key"], users.get(r["feature_id"], 0), r["n"])
        for r in interactions
    }


def feature_frequency(query: FrequencyQuery) -> list[FrequencyBucket]:
    """Users bucketed by their number of events on the feature in the period.

    ``bounds`` are ascending lower bounds: (1, 11, 101) gives 1–10, 11–100 and 101+. Users below
    the first bound are in no bucket.
    """
    workspace, period, feature, bounds = query.workspace, query.period, query.feature, query.bounds
    narrow = crm_user_condition(workspace, query.filters)
    per_user = feature_events_by_user(workspace=workspace, period=period, feature=feature, narrow=narrow).values()
    counts = [0] * len(bounds)
    for n in per_user:
        for index in range(len(bounds) - 1, -1, -1):
            if n >= bounds[index]:
                counts[index] += 1
                break
    return [
        FrequencyBucket(low, bounds[i + 1] - 1 if i + 1 < len(bounds) else None, counts[i])
        for i, low in enumerate(bounds)
    ]
