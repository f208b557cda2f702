"""Hub tab: how many users use each feature (popularity) and how often (frequency buckets)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q, Sum

from events.filters import crm_user_condition
from events.models import Feature
from events.periods import Period
from events.selectors import feature_day_reach, feature_events_by_user, feature_month_totals, feature_use_counts
from tenancy.models import Workspace
from views_home.selectors.common import UserFilters, user_feature_totals

DEFAULT_FREQUENCY_BOUNDS = (1, 11, 101)


MAX_FREQUENCY_BUCKETS = 20


def parse_frequency_bounds(text: str) -> tuple[int, ...]:
    """'1,11,101' → (1, 11, 101); ascending whole numbers ≥ 1, at most 20 (raises ValueError)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError("Give at least one lower bound, e.g. 1,11,101.")
    try:
        bounds = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError("Lower bounds must be whole numbers separated by commas, e.g. 1,11,101.") from None
    if bounds[0] < 1:
        raise ValueError("Lower bounds start at 1 or more.")
    if any(b <= a for a, b in zip(bounds, bounds[1:], strict=False)):
        raise ValueError("Lower bounds must increase, e.g. 1,11,101.")
    if len(bounds) > MAX_FREQUENCY_BUCKETS:
        raise ValueError(f"At most {MAX_FREQUENCY_BUCKETS} buckets.")
    return bounds


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


def feature_popularity(
    *,
    workspace: Workspace,
    period: Period,
    features: Sequence[Feature] | None = None,
    filters: UserFilters | None = None,
) -> list[FeaturePopularity]:
    """Distinct users and interactions per feature; most users first (then interactions, key).
    Features asked for by name are listed even when nobody used them."""
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


def feature_frequency(
    *,
    workspace: Workspace,
    period: Period,
    feature: Feature,
    bounds: Sequence[int] = DEFAULT_FREQUENCY_BOUNDS,
    filters: UserFilters | None = None,
) -> list[FrequencyBucket]:
    """Users bucketed by their number of events on the feature in the period.

    ``bounds`` are ascending lower bounds: (1, 11, 101) gives 1–10, 11–100 and 101+. Users below
    the first bound are in no bucket.
    """
    narrow = crm_user_condition(workspace, filters)
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
