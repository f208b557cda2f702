"""Serializers of the dashboards endpoints: a board with its tiles, a share link, an annotation. Every
bad value is a 400 naming its field (nested for a tile's)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from dashboards.models import Annotation, Dashboard, ShareLink
from dashboards.services import MAX_TILES, share_expiry_limit, tile_endpoint_allowed, tiles_replace
from events.filters import USER_FILTER_FIELDS, user_filters_from
from events.periods import MAX_RANGE_DAYS

GRID_COLUMNS = 12
MAX_QUERY_PARAMS = 30
MAX_PARAM_VALUES = 100
MAX_PARAM_LENGTH = 500
POSITION_DEFAULTS = {"x": 0, "y": 0, "w": 6, "h": 4}


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A PATCH makes nested fields optional: a period is still both dates.
        missing = {k: [_("This field is required.")] for k in ("start", "end") if attrs.get(k) is None}
        if missing:
            raise serializers.ValidationError(missing)
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": [_("The end cannot be before the start.")]})
        if (attrs["end"] - attrs["start"]).days + 1 > MAX_RANGE_DAYS:
            message = _("A period is at most %(days)s days.") % {"days": MAX_RANGE_DAYS}
            raise serializers.ValidationError({"end": [message]})
        return attrs


class PositionSerializer(serializers.Serializer):
    """Where the tile sits on the board's grid of 12 columns (``x`` + ``w`` ≤ 12)."""

    x = serializers.IntegerField(min_value=0, max_value=GRID_COLUMNS - 1, default=0)
    y = serializers.IntegerField(min_value=0, max_value=1000, default=0)
    w = serializers.IntegerField(min_value=1, max_value=GRID_COLUMNS, default=6)
    h = serializers.IntegerField(min_value=1, max_value=12, default=4)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = {**POSITION_DEFAULTS, **attrs}  # a PATCH skips the fields' defaults
        if attrs["x"] + attrs["w"] > GRID_COLUMNS:
            raise serializers.ValidationError({"w": [_("The tile must fit in 12 columns (x + w ≤ 12).")]})
        return attrs


class QueryField(serializers.JSONField):
    """A tile's query: ``{parameter: value or [values]}``, texts only, bounded."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        message = _("Give an object of parameters, each a text or a list of texts.")
        if not isinstance(value, dict) or len(value) > MAX_QUERY_PARAMS:
            raise serializers.ValidationError(message)
        clean: dict[str, Any] = {}
        for key, item in value.items():
            values = item if isinstance(item, list) else [item]
            if len(values) > MAX_PARAM_VALUES or len(key) > 50:
                raise serializers.ValidationError(message)
            texts = []
            for one in values:
                if isinstance(one, bool) or not isinstance(one, str | int | float) or len(str(one)) > MAX_PARAM_LENGTH:
                    raise serializers.ValidationError(message)
                texts.append(str(one))
            clean[key] = texts if isinstance(item, list) else texts[0]
        clean.pop("format", None)  # a board reads JSON, never a CSV download
        return clean


class TileSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, help_text="Keeps this tile (a reorder); new tiles have none.")
    title = serializers.CharField(max_length=200)
    endpoint = serializers.CharField(
        max_length=200, help_text="A GET insight path of the workspace API: home/summary, trends, funnels/5/results…"
    )
    query = QueryField(required=False, default=dict)
    position = PositionSerializer(required=False)

    def validate_endpoint(self, value: str) -> str:
        value = value.strip().strip("/")
        if value == "accounts":  # the list is written with its slash in the contract
            value = "accounts/"
        if not tile_endpoint_allowed(self.context["workspace"], value):
            raise serializers.ValidationError(
                _("Choose a chart or table endpoint of this workspace's API (home/summary, trends…).")
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A PATCH makes nested fields optional, but tiles given replace the board's: each is whole.
        missing = {k: [_("This field is required.")] for k in ("title", "endpoint") if k not in attrs}
        if missing:
            raise serializers.ValidationError(missing)
        position = attrs.pop("position", None) or POSITION_DEFAULTS
        return {"query": {}, **attrs, **position}

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "title": instance.title,
            "endpoint": instance.endpoint,
            "query": instance.query,
            "position": {"x": instance.x, "y": instance.y, "w": instance.w, "h": instance.h},
        }


class DashboardSerializer(serializers.ModelSerializer):
    """A board (owner and visibility as a funnel's), its shared period and filters, and its tiles."""

    owner = serializers.CharField(source="owner.get_username", read_only=True)
    period = PeriodSerializer(allow_null=True, required=False, help_text="Overrides every tile's period.")
    filters = serializers.JSONField(required=False, help_text='User filters: {"country": ["CN"], …}.')
    tiles = TileSerializer(many=True, required=False, help_text="Given in a PATCH or PUT, replaces them.")
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = Dashboard
        fields = [
            "id",
            "name",
            "description",
            "visibility",
            "owner",
            "period",
            "filters",
            "tiles",
            "can_edit",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "owner", "can_edit", "created_at", "updated_at"]

    def get_can_edit(self, obj: Dashboard) -> bool:
        scope = self.context.get("scope")
        return scope is not None and scope.can_edit_saved(obj)

    def validate_filters(self, value: Any) -> dict[str, list[str]]:
        if not isinstance(value, dict) or any(k not in USER_FILTER_FIELDS for k in value):
            raise serializers.ValidationError(
                _("Give {attribute: [values]} with attributes among: %(names)s.")
                % {"names": ", ".join(USER_FILTER_FIELDS)}
            )
        try:
            return user_filters_from({k: v if isinstance(v, list) else [v] for k, v in value.items()})
        except forms.ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate_tiles(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(value) > MAX_TILES:
            raise serializers.ValidationError(_("A board holds at most %(n)s tiles.") % {"n": MAX_TILES})
        return value

    def _unpack(self, validated: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        tiles = validated.pop("tiles", None)
        if "period" in validated:
            period = validated.pop("period") or {}
            validated["period_start"], validated["period_end"] = period.get("start"), period.get("end")
        return validated, tiles

    def create(self, validated_data: dict[str, Any]) -> Dashboard:
        values, tiles = self._unpack(validated_data)
        dashboard = Dashboard.objects.create(**values)
        tiles_replace(dashboard, tiles or [])
        return dashboard

    def update(self, instance: Dashboard, validated_data: dict[str, Any]) -> Dashboard:
        values, tiles = self._unpack(validated_data)
        for key, value in values.items():
            setattr(instance, key, value)
        instance.save()
        if tiles is not None:
            tiles_replace(instance, tiles)
        return instance


class ShareLinkSerializer(serializers.ModelSerializer):
    """A share link; ``token`` and ``url`` only in the answer that creates it (only a digest is kept)."""

    class Meta:
        model = ShareLink
        fields = ["id", "expires_at", "revoked_at", "created_at"]
        read_only_fields = ["id", "revoked_at", "created_at"]

    def validate_expires_at(self, value: Any) -> Any:
        if value <= timezone.now():
            raise serializers.ValidationError(_("Choose a moment in the future."))
        if value > share_expiry_limit():
            raise serializers.ValidationError(_("A link expires within a year."))
        return value


class AnnotationSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    dashboard = serializers.PrimaryKeyRelatedField(
        queryset=Dashboard.objects.none(), allow_null=True, required=False, help_text="None: the whole workspace."
    )

    class Meta:
        model = Annotation
        fields = ["id", "date", "end_date", "text", "dashboard", "author", "created_at"]
        read_only_fields = ["id", "author", "created_at"]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        scope = self.context.get("scope")
        if scope is not None:  # a board of this workspace the user can see; any other is "not found"
            fields["dashboard"].queryset = scope.saved(Dashboard)  # type: ignore[attr-defined]
        return fields

    def get_author(self, obj: Annotation) -> str | None:
        return obj.author.get_username() if obj.author else None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("date", getattr(self.instance, "date", None))
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if start and end and end < start:
            raise serializers.ValidationError({"end_date": [_("The end date cannot be before the date.")]})
        if start and end and (end - start).days + 1 > MAX_RANGE_DAYS:
            message = _("A range is at most %(days)s days.") % {"days": MAX_RANGE_DAYS}
            raise serializers.ValidationError({"end_date": [message]})
        return attrs


# One tile of a board's answer (schema only). Built with inline_serializer because a field named
# ``data`` would shadow ``Serializer.data``.
TILE_ANSWER = inline_serializer(
    "TileAnswer",
    {
        "id": serializers.IntegerField(),
        "query": serializers.DictField(),
        "status": serializers.IntegerField(help_text="The tile endpoint's HTTP status."),
        "data": serializers.JSONField(help_text="The tile endpoint's answer (its error body when status is not 200)."),
    },
)


class BoardDataSerializer(serializers.Serializer):
    """``…/<id>/data`` (schema only)."""

    tiles = serializers.ListField(child=TILE_ANSWER)
    annotations = serializers.ListField(child=serializers.DictField())


class BoardNameSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()


class SharedBoardSerializer(BoardDataSerializer):
    """``/api/v1/share/<token>`` (schema only): the board's data answer and its name."""

    dashboard = BoardNameSerializer()
