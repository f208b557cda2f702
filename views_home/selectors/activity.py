"""Activity tab: per-feature interactions over a period, as totals and a daily timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet, Sum

from views_home.selectors.common import feature_day_totals, user_feature_totals

if TYPE_CHECKING:  # the selectors take the queries; parsing a query may call a selector
    from views_home.queries import ActivityQuery


@dataclass(frozen=True)
class DayValue:
    date: date
    interactions: int


@dataclass(frozen=True)
class FeatureActivity:
    feature: str
    interactions: int
    series: list[DayValue]


def activity_features(query: ActivityQuery) -> list[FeatureActivity]:
    """Each feature with interactions in the period (or each feature asked for, even at zero):
    its total and its daily series with every day present; most interactions first."""
    workspace, period, filters = query.workspace, query.period, query.filters
    features, crm_user = query.features, query.crm_user
    if filters or crm_user is not None:
        source: QuerySet[Any] = user_feature_totals(
            workspace=workspace, period=period, filters=filters, features=features, crm_user=crm_user
        )
    else:
        source = feature_day_totals(workspace=workspace, period=period, features=features)
    rows = source.values("feature__key", "day").annotate(n=Sum("events")).order_by()
    per_feature: dict[str, dict[date, int]] = {f.key: {} for f in features or ()}
    for row in rows:
        per_feature.setdefault(row["feature__key"], {})[row["day"]] = row["n"]
    days = list(period.dates())
    result = [
        FeatureActivity(key, sum(counts.values()), [DayValue(d, counts.get(d, 0)) for d in days])
        for key, counts in per_feature.items()
    ]
    return sorted(result, key=lambda f: (-f.interactions, f.feature))
