"""The Behaviour tab's queries (docs/metrics.md#behaviour): the hour × weekday heatmap, the failures
and durations per feature and action, retention, lifecycle and stickiness, over a period (``start``
+ ``end`` by default, as the API contract writes it) with the user filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from behaviour.selectors.activity import EventSpec
from core.people import Drilled, PeopleParams
from core.queries import ChoiceParam, ListParam, PeriodParams, PeriodQuery, TextParam, WholeNumberParam
from events.models import Feature
from events.periods import Interval
from events.selectors import UnknownStep, feature_resolve
from tenancy.models import Workspace


class BehaviourParams(PeriodParams):
    default_days = 30
    period_style = "range"


class HeatmapParams(BehaviourParams):
    feature = TextParam(max_length=100, help_text="Feature key (default: every feature).")
    action = TextParam(max_length=64, help_text="An action of the feature (needs feature).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if not attrs["feature"]:
            if attrs["action"]:
                raise serializers.ValidationError({"action": [_("An action needs a feature.")]})
            attrs["feature"] = None
            return attrs
        try:
            attrs["feature"] = feature_resolve(workspace=self.workspace, key=attrs["feature"], action=attrs["action"])
        except UnknownStep as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        return attrs


@dataclass(frozen=True, kw_only=True)
class HeatmapQuery(PeriodQuery):
    Params: ClassVar[type[serializers.Serializer]] = HeatmapParams

    feature: Feature | None = None
    action: str = ""

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "feature": self.feature.key if self.feature else None, "action": self.action}


@dataclass(frozen=True, kw_only=True)
class FailuresQuery(PeriodQuery):
    Params: ClassVar[type[serializers.Serializer]] = BehaviourParams


@dataclass(frozen=True, kw_only=True)
class BehaviourQuery(HeatmapQuery):
    """The tab: the heatmap's feature and action narrow the heatmap only."""

    def heatmap(self) -> HeatmapQuery:
        return self.derive(HeatmapQuery, feature=self.feature, action=self.action)

    def failures(self) -> FailuresQuery:
        return self.derive(FailuresQuery)


# --- do people come back -------------------------------------------------------------------------------


def event_spec(workspace: Workspace, text: str, field: str) -> EventSpec:
    """``Feature`` or ``Feature/action`` (a key holding "/" is taken whole first); empty: any event.
    An unknown feature or action is a ``ValidationError`` naming ``field``."""
    if not text:
        return EventSpec()
    candidates = [(text, "")]
    if "/" in text:
        key, action = text.rsplit("/", 1)
        candidates.append((key, action))
    error: UnknownStep | None = None
    for key, action in candidates:
        try:
            return EventSpec(feature_resolve(workspace=workspace, key=key, action=action), action)
        except UnknownStep as exc:
            error = error or exc
    assert error is not None
    raise serializers.ValidationError({field: [str(error)]})


EVENT_HELP = "A feature key, or Feature/action; default: any event."
MAX_PERIODS = 36


class RetentionParams(PeopleParams, BehaviourParams):
    interval = ChoiceParam([i.value for i in Interval], default=Interval.WEEK.value)
    periods = WholeNumberParam(
        min_value=1, max_value=MAX_PERIODS, default=8, help_text="Offsets shown, 0 included (default 8, at most 36)."
    )
    start_event = TextParam(max_length=200, help_text=EVENT_HELP)
    return_event = TextParam(max_length=200, help_text=EVENT_HELP)
    mode = ChoiceParam(["first_time", "recurring"], default="first_time")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["interval"] = Interval(attrs["interval"])
        attrs["start_event"] = event_spec(self.workspace, attrs["start_event"], "start_event")
        attrs["return_event"] = event_spec(self.workspace, attrs["return_event"], "return_event")
        return attrs


@dataclass(frozen=True, kw_only=True)
class RetentionQuery(Drilled, PeriodQuery):
    Params: ClassVar[type[serializers.Serializer]] = RetentionParams

    interval: Interval = Interval.WEEK
    periods: int = 8
    start_event: EventSpec = EventSpec()
    return_event: EventSpec = EventSpec()
    mode: str = "first_time"

    def encode(self) -> dict[str, Any]:
        return {
            **super().encode(), "interval": self.interval, "periods": self.periods,
            "start_event": self.start_event.label(), "return_event": self.return_event.label(), "mode": self.mode,
        }  # fmt: skip


class LifecycleParams(PeopleParams, BehaviourParams):
    interval = ChoiceParam([i.value for i in Interval], default=Interval.WEEK.value)
    event = TextParam(max_length=200, help_text=EVENT_HELP)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["interval"] = Interval(attrs["interval"])
        attrs["event"] = event_spec(self.workspace, attrs["event"], "event")
        return attrs


@dataclass(frozen=True, kw_only=True)
class LifecycleQuery(Drilled, PeriodQuery):
    Params: ClassVar[type[serializers.Serializer]] = LifecycleParams

    interval: Interval = Interval.WEEK
    event: EventSpec = EventSpec()

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "interval": self.interval, "event": self.event.label()}


class StickinessParams(PeopleParams, BehaviourParams):
    event = TextParam(max_length=200, help_text=EVENT_HELP)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["event"] = event_spec(self.workspace, attrs["event"], "event")
        return attrs


@dataclass(frozen=True, kw_only=True)
class StickinessQuery(Drilled, PeriodQuery):
    Params: ClassVar[type[serializers.Serializer]] = StickinessParams

    event: EventSpec = EventSpec()

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "event": self.event.label()}


@dataclass(frozen=True, kw_only=True)
class EngagementQuery(LifecycleQuery):
    """The Engagement page: lifecycle by interval and stickiness, of the same event and period."""

    def lifecycle(self) -> LifecycleQuery:
        return self.derive(LifecycleQuery, interval=self.interval, event=self.event)

    def stickiness(self) -> StickinessQuery:
        return self.derive(StickinessQuery, event=self.event)


class AnomaliesParams(BehaviourParams):
    metric = ChoiceParam(["events", "users", "failures"], default="events")
    feature = TextParam(max_length=100, help_text='A feature key; "*": the workspace total; omitted: every feature.')

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        key = attrs["feature"]
        if not key:
            attrs["feature"] = None
        elif key != "*":
            try:
                attrs["feature"] = feature_resolve(workspace=self.workspace, key=key)
            except UnknownStep as exc:
                raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        return attrs


@dataclass(frozen=True, kw_only=True)
class AnomaliesQuery(PeriodQuery):
    Params: ClassVar[type[serializers.Serializer]] = AnomaliesParams

    metric: str = "events"
    feature: Feature | str | None = None  # a feature, "*" (the workspace total) or None (every feature)

    def encode(self) -> dict[str, Any]:
        feature = self.feature.key if isinstance(self.feature, Feature) else self.feature
        return {**super().encode(), "metric": self.metric, "feature": feature}


@dataclass(frozen=True, kw_only=True)
class QualityQuery(PeriodQuery):
    Params: ClassVar[type[serializers.Serializer]] = BehaviourParams


NODE_HELP = "A node: a feature key (node=feature) or Feature/action (node=feature_action)."


class PathsParams(BehaviourParams):
    node = ChoiceParam(["feature", "feature_action"], default="feature")
    start_point = TextParam(max_length=200, help_text=NODE_HELP + " Paths begin at its first occurrence.")
    end_point = TextParam(max_length=200, help_text=NODE_HELP + " Paths end at its first occurrence after the start.")
    steps = WholeNumberParam(min_value=2, max_value=10, default=5, help_text="Nodes per path, 2 to 10.")
    exclude = ListParam(help_text="Nodes (or features) to leave out of the paths.")
    limit = WholeNumberParam(min_value=1, max_value=500, default=50, help_text="Edges returned, most sessions first.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        with_action = attrs["node"] == "feature_action"
        for name in ("start_point", "end_point"):
            if attrs[name]:
                spec = event_spec(self.workspace, attrs[name], name)
                if with_action and not spec.action:
                    raise serializers.ValidationError({name: [_("With node=feature_action, name a Feature/action.")]})
                attrs[name] = spec.label() if with_action else spec.feature.key  # type: ignore[union-attr]
        attrs["exclude"] = [event_spec(self.workspace, item, "exclude").label() for item in attrs["exclude"]]
        return attrs


@dataclass(frozen=True, kw_only=True)
class PathsQuery(PeriodQuery):
    Params: ClassVar[type[serializers.Serializer]] = PathsParams

    node: str = "feature"
    start_point: str = ""
    end_point: str = ""
    steps: int = 5
    exclude: list[str] = field(default_factory=list)
    limit: int = 50

    def encode(self) -> dict[str, Any]:
        return {
            **super().encode(), "node": self.node, "start_point": self.start_point, "end_point": self.end_point,
            "steps": self.steps, "exclude": self.exclude, "limit": self.limit,
        }  # fmt: skip


class PathUsersParams(PathsParams):
    at_step = WholeNumberParam(min_value=1, max_value=10, required=True, help_text="The node's step (from 1).")
    at_node = TextParam(max_length=200, required=True, allow_blank=False, help_text="The node at that step.")
    to_node = TextParam(max_length=200, help_text="For an edge: the node at the next step.")


@dataclass(frozen=True, kw_only=True)
class PathUsersQuery(PathsQuery):
    """The users behind one node or edge of the paths (the same sessions as its figure)."""

    Params: ClassVar[type[serializers.Serializer]] = PathUsersParams

    at_step: int = 1
    at_node: str = ""
    to_node: str = ""

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "at_step": self.at_step, "at_node": self.at_node, "to_node": self.to_node}
