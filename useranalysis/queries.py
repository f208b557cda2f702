"""The queries of the User analysis tab (``core.queries`` explains the shape): the users table, one
user's page and chart, and a filter set (its definition, the period and the table of matched users).

Each is parsed once from a request by its ``Params`` and handed whole to the selectors; the page, the
chart JSON, the API endpoint and the CSV export take the same object. Periods default to 30 days
ending today, written as ``as_of`` + ``days`` (docs/api.md#periods); a saved filter set's default is
its own ``default_days``.

A filter set's definition (docs/api.md#saved-filter-sets, docs/metrics.md#filter-sets) is validated
here too, by ``ConditionsParams`` and ``FilterSetParams``: ``filter-sets/query``, a saved set's
``results``, the builder page and ``FilterSetSerializer`` (saving) share its checks and messages.
Its errors stay nested (``conditions.activity.<index>.value``), so ``QueryInvalid.detail`` keeps them
as DRF gave them for the API's 400 and for the builder, which shows each next to its row.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Self

from django import forms
from django.utils.translation import gettext as _
from rest_framework import serializers

from core.attributes import GROUP_BY_ATTRIBUTES
from core.people import (
    DEFAULT_ORDERING,
    DEFAULT_PAGE_SIZE,
    TableParams,
)
from core.queries import (
    PeriodParams,
    PeriodQuery,
    TextParam,
    UserFilters,
)
from events.filters import MAX_STATIC_USERS, STATIC_USERS_FIELD, USER_FILTER_FIELDS, user_filters_from
from events.models import CrmUser, Feature
from events.selectors import UnknownStep, feature_resolve
from tenancy.models import SavedConfig, Workspace

# The columns of a user row (docs/metrics.md#the-user-table) and the orderings of the table are
# every table of users' (core.people): the drill-downs of other tabs show the same rows.
MAX_SEARCH_LENGTH = 200

ACTIVITY_METRICS = (
    "last_seen_days",
    "session_minutes",
    "session_count",
    "attendance_days",
    "interactions",
    "features_used",
)
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
}


# --- the users table ----------------------------------------------------------------------------------


class UsersParams(TableParams, PeriodParams):
    default_days = 30
    period_style = "ending"

    search = TextParam(
        max_length=MAX_SEARCH_LENGTH, trim_whitespace=True, help_text="Part of a name, email or external id."
    )


@dataclass(frozen=True, kw_only=True)
class TableQuery(PeriodQuery):
    """A period and the state of a table of user rows; defaults are left out of links."""

    ordering: str = DEFAULT_ORDERING
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def encode(self) -> dict[str, Any]:
        return {
            **super().encode(),
            "ordering": None if self.ordering == DEFAULT_ORDERING else self.ordering,
            "page": self.page if self.page > 1 else None,
            "page_size": None if self.page_size == DEFAULT_PAGE_SIZE else self.page_size,
        }


@dataclass(frozen=True, kw_only=True)
class UsersQuery(TableQuery):
    """Every CRM user of the workspace passing the user filters and the search, with their metrics
    for the period (docs/api.md#users-table)."""

    Params: ClassVar[type[serializers.Serializer]] = UsersParams

    search: str = ""

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "search": self.search}


@dataclass(frozen=True, kw_only=True)
class UserPageQuery(UsersQuery):
    """A user's page: the period, and the users table's state, for the way back to it. The user is
    the page's path, looked up through the scope (``of``)."""

    def of(self, crm_user: CrmUser) -> UserQuery:
        return UserQuery(
            workspace=self.workspace,
            filters={},  # the user's own figures: no filter narrows them
            period=self.period,
            period_pick=self.period_pick,
            user=crm_user.external_id,
            crm_user=crm_user,
        )


class UserParams(PeriodParams):
    default_days = 30
    period_style = "ending"

    user = TextParam(
        max_length=128, required=True, allow_blank=False, trim_whitespace=False, help_text="External ID of a CRM user."
    )


@dataclass(frozen=True, kw_only=True)
class UserQuery(PeriodQuery):
    """One CRM user over the period: the figures of their page and its daily chart. ``crm_user`` is
    looked up by ``user`` (the external id) through the scope, so another workspace's is a 404."""

    Params: ClassVar[type[serializers.Serializer]] = UserParams

    user: str
    crm_user: CrmUser | None = None

    def encode(self) -> dict[str, Any]:
        return {"user": self.user, **super().encode()}

    def with_user(self, crm_user: CrmUser) -> Self:
        return replace(self, crm_user=crm_user)


class UserEventsParams(PeriodParams):
    default_days = 30
    period_style = "range"

    feature = TextParam(max_length=100, help_text="Only this feature's events (a feature key).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if not attrs["feature"]:
            attrs["feature"] = None
            return attrs
        try:
            attrs["feature"] = feature_resolve(workspace=self.workspace, key=attrs["feature"])
        except UnknownStep as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        return attrs


@dataclass(frozen=True, kw_only=True)
class UserEventsQuery(PeriodQuery):
    """One CRM user's raw events over the period, newest first (the user page's timeline); the user
    comes from the path, looked up through the scope (``of``)."""

    Params: ClassVar[type[serializers.Serializer]] = UserEventsParams

    feature: Feature | None = None
    crm_user: CrmUser | None = None

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "feature": self.feature.key if self.feature else None}

    def of(self, crm_user: CrmUser) -> Self:
        return replace(self, crm_user=crm_user)


# --- a filter set's definition -------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityCondition:
    metric: str
    op: str
    value: float


@dataclass(frozen=True)
class FeatureCondition:
    feature: Feature
    used: bool = True
    action: str = ""
    min_count: int = 1


@dataclass(frozen=True)
class Conditions:
    """A definition's conditions as the selectors read them (features resolved)."""

    activity: list[ActivityCondition] = field(default_factory=list)
    features: list[FeatureCondition] = field(default_factory=list)
    users: UserFilters = field(default_factory=dict)


class ActivityConditionParams(serializers.Serializer):
    metric = serializers.ChoiceField(choices=ACTIVITY_METRICS)
    op = serializers.ChoiceField(choices=list(OPERATORS))
    value = serializers.FloatField(min_value=0)


class FeatureConditionParams(serializers.Serializer):
    feature = serializers.CharField()
    action = serializers.CharField(required=False, allow_blank=True, default="")
    used = serializers.BooleanField(required=False, default=True)
    min_count = serializers.IntegerField(required=False, default=1, min_value=1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            feature_resolve(workspace=self.context["workspace"], key=attrs["feature"], action=attrs["action"])
        except UnknownStep as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        return attrs


# At most this many activity conditions and this many feature conditions in a definition: a filter
# set is recomputed after every rollup refresh, so its cost must stay bounded (docs/api.md#limits).
MAX_CONDITIONS = 20


class ConditionsParams(serializers.Serializer):
    """docs/api.md#saved-filter-sets: every part optional, unknown keys refused."""

    activity = ActivityConditionParams(many=True, required=False, max_length=MAX_CONDITIONS)  # type: ignore[call-arg]
    features = FeatureConditionParams(many=True, required=False, max_length=MAX_CONDITIONS)  # type: ignore[call-arg]
    users = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown condition type.")] for key in sorted(unknown)})
        return super().to_internal_value(data)

    def validate_users(self, value: dict[str, list[str]]) -> dict[str, list[str]]:
        known = (*USER_FILTER_FIELDS, STATIC_USERS_FIELD)
        unknown = set(value) - set(known)
        if unknown:
            raise serializers.ValidationError(
                _("Unknown attribute(s): %(unknown)s. Use: %(known)s.")
                % {"unknown": ", ".join(sorted(unknown)), "known": ", ".join(known)}
            )
        if len(value.get(STATIC_USERS_FIELD) or []) > MAX_STATIC_USERS:
            raise serializers.ValidationError(
                {STATIC_USERS_FIELD: [_("At most %(n)s users in a fixed list.") % {"n": f"{MAX_STATIC_USERS:,}"}]}
            )
        try:
            return user_filters_from(value)
        except forms.ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


def group_by_param(**kwargs: Any) -> serializers.ChoiceField:
    """A definition's group-by attribute ("" for none)."""
    return serializers.ChoiceField(choices=list(GROUP_BY_ATTRIBUTES), required=False, allow_blank=True, **kwargs)


@dataclass(frozen=True)
class Definition:
    """What a saved filter set stores: the conditions, validated (the API's JSON, defaults filled in),
    and the attribute the result is grouped by ("" for none)."""

    conditions: dict[str, Any]
    group_by: str = ""

    def canonical(self) -> str:
        """One string per definition, whatever the order of its keys (the cache key of a result)."""
        return json.dumps({"conditions": self.conditions, "group_by": self.group_by}, sort_keys=True, default=str)

    def resolve(self, workspace: Workspace) -> Conditions:
        """The conditions as the selectors read them: each feature looked up once."""
        features = []
        for c in self.conditions.get("features", []):
            feature = feature_resolve(workspace=workspace, key=c["feature"], action=c["action"])
            features.append(FeatureCondition(feature, c["used"], c["action"], c["min_count"]))
        return Conditions(
            activity=[ActivityCondition(c["metric"], c["op"], c["value"]) for c in self.conditions.get("activity", [])],
            features=features,
            users=self.conditions.get("users", {}),
        )


class SaveParams(serializers.Serializer):
    """What saving a filter set from its page adds to the definition: the rules of the model fields
    ``FilterSetSerializer`` saves them with."""

    name = serializers.CharField(max_length=200)
    visibility = serializers.ChoiceField(choices=SavedConfig.Visibility.choices, default=SavedConfig.Visibility.PRIVATE)


# --- a filter set's result -------------------------------------------------------------------------------


class FilterSetTableParams(TableParams, PeriodParams):
    """The query string of ``filter-sets/query`` and ``filter-sets/<id>/results``: the period and the
    table of matched users. Its user filters are checked but have no effect (docs/api.md#user-filters)."""

    default_days = 30
    period_style = "ending"


class FilterSetParams(FilterSetTableParams):
    """A definition over a period. ``default_days`` may come from a saved filter set (context)."""

    # The builder page sends the user-attribute conditions as the user filters of every tab.
    filters_are_conditions: ClassVar[bool] = False

    conditions = ConditionsParams(required=False)
    group_by = group_by_param(default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        conditions = dict(attrs.pop("conditions", None) or {})
        if self.filters_are_conditions and attrs["filters"]:
            static = (conditions.get("users") or {}).get(STATIC_USERS_FIELD)
            conditions["users"] = {**({STATIC_USERS_FIELD: static} if static else {}), **attrs["filters"]}
        definition = Definition(conditions, attrs.pop("group_by") or "")
        attrs["definition"], attrs["conditions"] = definition, definition.resolve(self.workspace)
        # Links write them as the user filters; not a fixed list of users, which is read from the
        # saved filter set instead (thousands of ids do not fit in a URL).
        users = conditions.get("users", {})
        attrs["filters"] = {key: values for key, values in users.items() if key != STATIC_USERS_FIELD}
        return attrs


@dataclass(frozen=True, kw_only=True)
class FilterSetQuery(TableQuery):
    """A filter set's definition over the period, with the order and the page of its matched users
    (docs/api.md#filter-set-query). ``filters`` are the definition's user-attribute conditions."""

    Params: ClassVar[type[serializers.Serializer]] = FilterSetParams

    definition: Definition
    conditions: Conditions

    @property
    def group_by(self) -> str:
        return self.definition.group_by
