"""The rollup queries every Activity/Trends/Hub figure starts from, one per grain.

Each question reads the coarsest grain that answers it (docs/architecture.md#rollups-and-grains): ``FeatureDay`` when no user
is singled out or filtered, ``UserFeatureDayTotal`` when users matter but actions do not, and the
finest ``UserFeatureDay`` only to narrow by action or detail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet

from events.filters import crm_user_condition
from events.models import CrmUser, Feature, FeatureDay, UserFeatureDay, UserFeatureDayTotal
from events.periods import Period
from tenancy.models import Workspace

UserFilters = dict[str, list[str]]


def _narrowed[Q_T: QuerySet[Any]](
    qs: Q_T,
    *,
    workspace: Workspace,
    period: Period,
    filters: UserFilters | None,
    features: Sequence[Feature] | None,
    crm_user: CrmUser | None,
) -> Q_T:
    qs = qs.filter(workspace=workspace, day__range=(period.start, period.end))
    if features is not None:
        qs = qs.filter(feature__in=[f.pk for f in features])
    if crm_user is not None:
        qs = qs.filter(crm_user=crm_user)
    if (condition := crm_user_condition(workspace, filters)) is not None:
        qs = qs.filter(condition)
    return qs


def feature_days(
    *,
    workspace: Workspace,
    period: Period,
    filters: UserFilters | None = None,
    features: Sequence[Feature] | None = None,
    crm_user: CrmUser | None = None,
) -> QuerySet[UserFeatureDay]:
    """The finest rows (with action and detail) of the period, narrowed to features, one CRM user
    and the user filters."""
    return _narrowed(
        UserFeatureDay.objects.all(),
        workspace=workspace,
        period=period,
        filters=filters,
        features=features,
        crm_user=crm_user,
    )


def user_feature_totals(
    *,
    workspace: Workspace,
    period: Period,
    filters: UserFilters | None = None,
    features: Sequence[Feature] | None = None,
    crm_user: CrmUser | None = None,
) -> QuerySet[UserFeatureDayTotal]:
    """Per user, feature and day over every action: the same narrowing as ``feature_days``."""
    return _narrowed(
        UserFeatureDayTotal.objects.all(),
        workspace=workspace,
        period=period,
        filters=filters,
        features=features,
        crm_user=crm_user,
    )


def feature_day_totals(
    *, workspace: Workspace, period: Period, features: Sequence[Feature] | None = None
) -> QuerySet[FeatureDay]:
    """Per feature and day, over every user (no user narrowing is possible at this grain)."""
    qs = FeatureDay.objects.filter(workspace=workspace, day__range=(period.start, period.end))
    if features is not None:
        qs = qs.filter(feature__in=[f.pk for f in features])
    return qs
