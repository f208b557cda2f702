"""The queries of the Home, Activity, Trends and Hub insights (``core.queries`` explains the shape).

Each is parsed once from a request by its ``Params`` and handed whole to its selector; the page, the
chart JSON, the API endpoint and the CSV export of an insight take the same object.

Defaults per tab (docs/api.md#periods): Home and the Hub 30 days ending today, Activity 60 days,
Trends 30 days; Home and Activity write their period as ``as_of`` + ``days``, Trends and the Hub as
``start`` + ``end``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from django.utils.translation import gettext as _
from rest_framework import serializers

from core.attributes import GROUP_BY_ATTRIBUTES
from core.people import Drilled, PeopleParam, PeopleParams
from core.queries import (
    ChoiceParam,
    ListParam,
    PeriodParams,
    PeriodQuery,
    TextParam,
    UserFilters,
    WholeNumberParam,
    resolve_crm_user,
    resolve_features,
)
from events.models import CrmUser, Feature
from events.periods import Interval, Period
from events.selectors import UnknownStep, feature_catalog, feature_resolve
from tenancy.models import Workspace
from views_home.selectors import activity_features
from views_home.selectors.trends import Measure

DEFAULT_FREQUENCY_BOUNDS = (1, 11, 101)
MAX_FREQUENCY_BUCKETS = 20
MAX_WEEKS = 104


def parse_frequency_bounds(text: str) -> tuple[int, ...]:
    """'1,11,101' → (1, 11, 101): ascending whole numbers ≥ 1, at most 20 (raises ValueError)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError(_("Give at least one lower bound, e.g. 1,11,101."))
    try:
        bounds = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(_("Lower bounds must be whole numbers separated by commas, e.g. 1,11,101.")) from None
    if bounds[0] < 1:
        raise ValueError(_("Lower bounds start at 1 or more."))
    if any(b <= a for a, b in zip(bounds, bounds[1:], strict=False)):
        raise ValueError(_("Lower bounds must increase, e.g. 1,11,101."))
    if len(bounds) > MAX_FREQUENCY_BUCKETS:
        raise ValueError(_("At most %(n)d buckets.") % {"n": MAX_FREQUENCY_BUCKETS})
    return bounds


# --- "Compare with" -------------------------------------------------------------------------------------
# The time charts of the Home, Activity and Trends pages can draw the previous period of as many days
# beside the period (``views_home.charts.previous_period_dataset``). It is a page's parameter: the
# API's queries have no ``compare`` (API.md pins their answers).


def compare_param() -> ChoiceParam:
    return ChoiceParam(
        ["previous"],
        allow_blank=True,
        default="",
        help_text="The page's chart: previous also draws the previous period of as many days, bucket by bucket.",
    )


class CompareParams(serializers.Serializer):
    """A page query's ``compare`` (mixed in before the Params of the API's query)."""

    compare = compare_param()


@dataclass(frozen=True, kw_only=True)
class ComparedQuery(PeriodQuery):
    """A page query's ``compare`` (mixed in before the API's query): "previous" or ""."""

    compare: str = ""

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "compare": self.compare or None}


# --- Home ----------------------------------------------------------------------------------------------


class HomeParams(PeriodParams):
    default_days = 30
    period_style = "ending"


class HomeSummaryParams(PeopleParams, HomeParams):
    """The summary, and its drill-down: ``people=active_users|inactive_users``."""


@dataclass(frozen=True, kw_only=True)
class HomeQuery(Drilled, PeriodQuery):
    """The Home summary: the period and the user filters."""

    Params: ClassVar[type[serializers.Serializer]] = HomeSummaryParams


class WeeksParams(PeopleParams, HomeParams):
    weeks = WholeNumberParam(
        min_value=1,
        max_value=MAX_WEEKS,
        help_text="The weeks ending with the week of as_of (default 5). Without it, a period asked for with "
        "start and end, or a preset (period), is followed instead: its weeks, counted inside it.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        # as_of + days keep the contract's five weeks (days was never a parameter of these two);
        # a period named by start + end or a preset is followed.
        asked_a_period = any(self.initial_data.get(name) for name in ("start", "end", "period"))
        if attrs.get("weeks") is None and not asked_a_period:
            attrs["weeks"] = 5  # the API's default: five weeks ending on as_of
        return attrs


@dataclass(frozen=True, kw_only=True)
class WeeksQuery(Drilled, PeriodQuery):
    """Home's interactions per week and attendance calendar: ``weeks`` weeks ending with the week of
    the period's last day, or (``weeks`` None) exactly the period."""

    Params: ClassVar[type[serializers.Serializer]] = WeeksParams

    weeks: int | None = None

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "weeks": self.weeks}


class HomePageParams(CompareParams, HomeParams):
    pass


@dataclass(frozen=True, kw_only=True)
class HomePageQuery(ComparedQuery, HomeQuery):
    """The Home page: the summary's query with the weekly chart's "Compare with"."""

    Params: ClassVar[type[serializers.Serializer]] = HomePageParams


class WeeksChartParams(CompareParams, WeeksParams):
    pass


@dataclass(frozen=True, kw_only=True)
class WeeksChartQuery(ComparedQuery, WeeksQuery):
    """The Home page's weekly chart: its weeks, and the previous period's when compared."""

    Params: ClassVar[type[serializers.Serializer]] = WeeksChartParams


class TopUsersParams(HomeParams):  # no drill-down: its figures are users already
    by = ChoiceParam(["interactions", "attendance"], default="interactions")
    limit = WholeNumberParam(min_value=1, max_value=100, default=10)


@dataclass(frozen=True, kw_only=True)
class TopUsersQuery(PeriodQuery):
    Params: ClassVar[type[serializers.Serializer]] = TopUsersParams

    by: Literal["interactions", "attendance"] = "interactions"
    limit: int = 10

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "by": self.by, "limit": self.limit}


# --- Activity ---------------------------------------------------------------------------------------------


class ActivityParams(PeriodParams):
    default_days = 60
    period_style = "ending"

    user = TextParam(max_length=254, trim_whitespace=True, help_text="External id or email of one CRM user.")
    feature = ListParam(help_text="Feature key(s); repeatable or comma-separated.")
    lines = ListParam(help_text="Features drawn on the page's chart (default: the top five).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        errors: dict[str, list[str]] = {}
        for name, target in (("feature", "features"), ("lines", "line_features")):
            try:
                attrs[target] = resolve_features(self.workspace, attrs[name], name) if attrs[name] else None
            except serializers.ValidationError as exc:
                errors.update(exc.detail)  # type: ignore[arg-type]
        attrs["crm_user"] = None
        if attrs.get("user"):
            try:
                attrs["crm_user"] = resolve_crm_user(self.workspace, attrs["user"])
            except serializers.ValidationError as exc:
                errors.update(exc.detail)  # type: ignore[arg-type]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


@dataclass(frozen=True, kw_only=True)
class ActivityQuery(PeriodQuery):
    """Per-feature interactions over the period, for the workspace or one CRM user."""

    Params: ClassVar[type[serializers.Serializer]] = ActivityParams

    features: list[Feature] | None = None
    crm_user: CrmUser | None = None
    line_features: list[Feature] | None = None  # the page's chart only

    def encode(self) -> dict[str, Any]:
        return {
            **super().encode(),
            "user": self.crm_user.external_id if self.crm_user else None,
            "feature": [f.key for f in self.features or ()],
            "lines": [f.key for f in self.line_features or ()],
        }


class ActivityPageParams(CompareParams, ActivityParams):
    pass


@dataclass(frozen=True, kw_only=True)
class ActivityPageQuery(ComparedQuery, ActivityQuery):
    """The Activity page and its chart: the API's query with "Compare with"."""

    Params: ClassVar[type[serializers.Serializer]] = ActivityPageParams


# --- Trends -------------------------------------------------------------------------------------------


class TrendsParams(PeopleParams, PeriodParams):
    """One feature (+ action + detail): on the page the most used of the range by default; the API
    requires it (``feature_required``)."""

    default_days = 30
    period_style = "range"
    feature_required: ClassVar[bool] = False

    feature = TextParam(max_length=100, help_text="Feature key.")
    action = TextParam(max_length=64)
    detail = TextParam(max_length=128)
    interval = ChoiceParam([i.value for i in Interval], default=Interval.DAY.value)
    measure = ChoiceParam([m.value for m in Measure], default=Measure.EVENTS.value)
    group_by = ChoiceParam(list(GROUP_BY_ATTRIBUTES), allow_blank=True, default="")
    view = ChoiceParam(["chart", "table"], default="chart", help_text="The page's view (chart or table).")
    people_group = PeopleParam(
        default=None, allow_null=True, help_text="With people and group_by: the group of the point (its value)."
    )
    compare = compare_param()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        key = attrs["feature"]
        if not key:
            if self.feature_required:
                raise serializers.ValidationError({"feature": [serializers.Field.default_error_messages["required"]]})
            key = most_used_feature(self.workspace, attrs["period"], attrs["filters"])
            if not key:
                raise serializers.ValidationError({"feature": [_("This workspace has no feature yet.")]})
        try:
            attrs["feature"] = feature_resolve(
                workspace=self.workspace, key=key, action=attrs["action"], detail=attrs["detail"]
            )
        except UnknownStep as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        attrs["interval"], attrs["measure"] = Interval(attrs["interval"]), Measure(attrs["measure"])
        return attrs


def most_used_feature(workspace: Workspace, period: Period, filters: UserFilters) -> str:
    """The key of the feature with the most interactions in the period (same filters), else the
    catalog's first; "" when the workspace has none."""
    used = activity_features(ActivityQuery.over(workspace, period, filters))
    if used:
        return used[0].feature
    catalog = feature_catalog(workspace=workspace)
    return catalog[0].key if catalog else ""


@dataclass(frozen=True, kw_only=True)
class TrendsQuery(Drilled, PeriodQuery):
    Params: ClassVar[type[serializers.Serializer]] = TrendsParams

    people_group: str | None = None  # with people and group_by: the series' attribute value
    feature: Feature
    action: str = ""
    detail: str = ""
    interval: Interval = Interval.DAY
    measure: Measure = Measure.EVENTS
    group_by: str = ""
    view: str = "chart"
    compare: str = ""  # "previous": the chart also draws the previous period (not with group_by)

    def encode(self) -> dict[str, Any]:
        return {
            "feature": self.feature.key,
            "action": self.action,
            "detail": self.detail,
            **super().encode(),
            "interval": self.interval,
            "measure": self.measure,
            "group_by": self.group_by,
            "view": self.view if self.view != "chart" else None,
            "compare": self.compare or None,
        }


class TrendsApiParams(TrendsParams):
    compare = None  # type: ignore[assignment]  # DRF drops the field: the page's chart only (API.md pins the answer)
    feature_required = True
    feature = TextParam(max_length=100, required=True, allow_blank=False, help_text="Feature key (required).")


@dataclass(frozen=True, kw_only=True)
class TrendsApiQuery(TrendsQuery):
    Params: ClassVar[type[serializers.Serializer]] = TrendsApiParams


# --- Hub ----------------------------------------------------------------------------------------------------


class HubParams(PeriodParams):
    default_days = 30
    period_style = "range"


class PopularityParams(PeopleParams, HubParams):
    features = ListParam(help_text="Feature keys; repeatable or comma-separated (default: every feature used).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        keys = attrs["features"]
        attrs["features"] = resolve_features(self.workspace, keys, "features") if keys else None
        return attrs


@dataclass(frozen=True, kw_only=True)
class PopularityQuery(Drilled, PeriodQuery):
    Params: ClassVar[type[serializers.Serializer]] = PopularityParams

    features: list[Feature] | None = None

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "features": [f.key for f in self.features or ()]}


class BucketsParam(TextParam):
    def to_internal_value(self, data: Any) -> Any:
        text = super().to_internal_value(data).strip()
        try:
            return parse_frequency_bounds(text) if text else DEFAULT_FREQUENCY_BOUNDS
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


class FrequencyParams(PeopleParams, HubParams):
    feature_required: ClassVar[bool] = True

    feature = TextParam(max_length=100, help_text="Feature key.")
    buckets = BucketsParam(
        max_length=200,
        default=DEFAULT_FREQUENCY_BOUNDS,
        help_text="Ascending lower bounds, comma-separated (default 1,11,101).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["bounds"] = attrs.pop("buckets")
        if attrs["feature"]:
            attrs["feature"] = resolve_features(self.workspace, [attrs["feature"]], "feature")[0]
        elif self.feature_required:
            raise serializers.ValidationError({"feature": [serializers.Field.default_error_messages["required"]]})
        else:
            attrs["feature"] = None
        return attrs


@dataclass(frozen=True, kw_only=True)
class FrequencyQuery(Drilled, PeriodQuery):
    Params: ClassVar[type[serializers.Serializer]] = FrequencyParams

    feature: Feature
    bounds: tuple[int, ...] = DEFAULT_FREQUENCY_BOUNDS

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "feature": self.feature.key, "buckets": ",".join(map(str, self.bounds))}


class HubPageParams(PopularityParams, FrequencyParams):
    """The Hub page: popularity of a set of features and the frequency of one (default: the most
    popular of the set)."""

    feature_required = False


@dataclass(frozen=True, kw_only=True)
class HubQuery(PeriodQuery):
    Params: ClassVar[type[serializers.Serializer]] = HubPageParams

    features: list[Feature] | None = None
    feature: Feature | None = None
    bounds: tuple[int, ...] = DEFAULT_FREQUENCY_BOUNDS

    def encode(self) -> dict[str, Any]:
        return {
            **super().encode(),
            "features": [f.key for f in self.features or ()],
            "feature": self.feature.key if self.feature else None,
            "buckets": ",".join(map(str, self.bounds)),
        }

    def popularity(self) -> PopularityQuery:
        return self.derive(PopularityQuery, features=self.features)

    def frequency(self, feature: Feature) -> FrequencyQuery:
        return self.derive(FrequencyQuery, feature=feature, bounds=self.bounds)
