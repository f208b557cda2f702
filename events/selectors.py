"""Reads shared by several tabs, from the rollups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Max, Q, QuerySet, Value, When

from events.models import CrmUser, DirtyDay, Event, Feature, FeatureAction, UserDay, UserFeatureMonth, Workspace
from events.periods import Period, month_end, month_mask, months_between


@dataclass(frozen=True)
class DataState:
    has_events: bool
    rollups_pending: bool


def workspace_data_state(*, workspace: Workspace) -> DataState:
    """Whether there is anything to show, and whether rollups are still catching up.

    Existence checks on indexed columns, not figures: they cost the same at any data volume.
    """
    return DataState(
        has_events=Event.objects.filter(workspace=workspace).exists(),
        rollups_pending=DirtyDay.objects.filter(workspace=workspace).exists(),
    )


def last_seen_by_user(
    *, workspace: Workspace, as_of: date, user_ids: Iterable[int] | None = None
) -> dict[int, datetime]:
    """Each user's latest event time at or before the end of ``as_of`` (local day), from UserDay."""
    qs = UserDay.objects.filter(workspace=workspace, day__lte=as_of)
    if user_ids is not None:
        qs = qs.filter(crm_user_id__in=list(user_ids))
    return dict(qs.values("crm_user_id").annotate(last=Max("last_event_at")).values_list("crm_user_id", "last"))


@dataclass(frozen=True)
class CatalogFeature:
    key: str
    name: str
    type: str
    auto_created: bool
    # action → the details seen with it ("" is the event without detail)
    actions: dict[str, list[str]]


def feature_catalog(*, workspace: Workspace) -> list[CatalogFeature]:
    """Every feature of the workspace with the actions and details seen for it (for the pickers)."""
    seen: dict[int, dict[str, list[str]]] = {}
    for feature_id, action, detail in FeatureAction.objects.filter(workspace=workspace).values_list(
        "feature_id", "action", "detail"
    ):
        seen.setdefault(feature_id, {}).setdefault(action, []).append(detail)
    return [
        CatalogFeature(f.key, f.name or f.key, f.type, f.auto_created, seen.get(f.id, {}))
        for f in Feature.objects.filter(workspace=workspace).order_by("key")
    ]


class UnknownStep(ValueError):
    """A feature, action or detail the workspace has never seen; ``field`` names which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def feature_resolve(*, workspace: Workspace, key: str, action: str = "", detail: str = "") -> Feature:
    """The feature with this key, checking that the action (and detail) were seen with it.

    Raises ``UnknownStep`` naming the field at fault, for a 400 that says what is wrong.
    """
    feature = Feature.objects.filter(workspace=workspace, key=key).first()
    if feature is None:
        raise UnknownStep("feature", f"Unknown feature: {key!r}.")
    if action:
        combos = FeatureAction.objects.filter(feature=feature, action=action)
        if not combos.exists():
            raise UnknownStep("action", f"No {action!r} action was seen for {key}.")
        if detail and not combos.filter(detail=detail).exists():
            raise UnknownStep("detail", f"No {action!r} action with detail {detail!r} was seen for {key}.")
    elif detail:
        raise UnknownStep("detail", "A detail needs an action.")
    return feature


def crm_user_find(*, workspace: Workspace, query: str) -> CrmUser | None:
    """The CRM user whose external id is ``query``, else the one whose email it is (case-insensitive).

    Raises ``UnknownStep('user', …)`` when an email is shared by several users, so the caller can ask
    for the external id instead.
    """
    users = CrmUser.objects.filter(workspace=workspace)
    found = users.filter(external_id=query).first()
    if found is not None:
        return found
    by_email = list(users.filter(email__iexact=query)[:2])
    if len(by_email) > 1:
        raise UnknownStep("user", f"Several users have the email {query!r}; use the external id.")
    return by_email[0] if by_email else None


def feature_use_in_period(*, workspace: Workspace, period: Period) -> QuerySet[UserFeatureMonth]:
    """The (user, feature) pairs with a day of use inside the period, from the month bitmasks.

    A pair can appear once per month the period touches, so count it with ``distinct``. The rows
    read are users × features × months, whatever the number of events: this is how "distinct users
    of a feature" or "features a user used" in any period stay cheap.
    """
    months = months_between(period.start, period.end)
    qs = UserFeatureMonth.objects.filter(workspace=workspace, month__in=months)
    partial = [
        (month, mask)
        for month in months
        if (mask := month_mask(month, period.start, period.end)) != month_mask(month, month, month_end(month))
    ]
    if not partial:  # whole months: every stored row has a day in the period
        return qs
    hit = Case(
        *[When(month=month, then=F("days").bitand(mask)) for month, mask in partial],
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.alias(hit=hit).exclude(hit=0)


def feature_use_counts(*, workspace: Workspace, period: Period, per: str, narrow: Q | None = None) -> dict[int, int]:
    """How many distinct (user, feature) pairs with a day of use in the period there are per
    ``per``: "feature_id" gives users per feature, "crm_user_id" features per user. ``narrow``
    filters the pairs (e.g. to the users of a filter).

    Within one month every pair is one row; over several, pairs are de-duplicated first and counted
    after (a hash aggregate; ``COUNT(DISTINCT …)`` per group sorts every group instead).
    """
    pairs = feature_use_in_period(workspace=workspace, period=period)
    if narrow is not None:
        pairs = pairs.filter(narrow)
    if len(months_between(period.start, period.end)) == 1:
        return dict(pairs.values(per).annotate(n=Count("*")).order_by().values_list(per, "n"))
    sql, params = pairs.values_list("feature_id", "crm_user_id").distinct().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {per}, COUNT(*) FROM ({sql}) AS pairs GROUP BY {per}", params)
        return dict(cursor.fetchall())
