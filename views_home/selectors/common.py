"""The rollup query every Activity/Trends/Hub figure starts from."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet

from events.filters import filter_crm_users
from events.models import CrmUser, Feature, UserFeatureDay, Workspace
from events.periods import Period

UserFilters = dict[str, list[str]]


def feature_days(
    *,
    workspace: Workspace,
    period: Period,
    filters: UserFilters | None = None,
    features: Sequence[Feature] | None = None,
    crm_user: CrmUser | None = None,
) -> QuerySet[UserFeatureDay]:
    """UserFeatureDay rows of the period, narrowed to features, one CRM user and the user filters."""
    qs = UserFeatureDay.objects.filter(workspace=workspace, day__range=(period.start, period.end))
    if features is not None:
        qs = qs.filter(feature__in=[f.pk for f in features])
    if crm_user is not None:
        qs = qs.filter(crm_user=crm_user)
    if filters:
        users = filter_crm_users(CrmUser.objects.filter(workspace=workspace), filters)
        qs = qs.filter(crm_user__in=users.values("id"))
    return qs
