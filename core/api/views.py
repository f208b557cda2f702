"""GET /api/v1/workspaces/<slug>/features: the catalog for pickers (feature → action → detail)."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.base import ERROR_RESPONSES, WorkspaceAPIView
from events.selectors import feature_catalog

CatalogSerializer = inline_serializer(
    name="FeatureCatalog",
    fields={
        "features": inline_serializer(
            name="CatalogFeature",
            many=True,
            fields={
                "key": serializers.CharField(),
                "name": serializers.CharField(),
                "type": serializers.CharField(),
                "auto_created": serializers.BooleanField(),
                "actions": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
            },
        )
    },
)


class FeatureCatalogView(WorkspaceAPIView):
    csv_filename = "features.csv"

    @extend_schema(
        responses={200: CatalogSerializer, **ERROR_RESPONSES},
        summary="The feature catalog with the actions and details seen for each feature",
        tags=["catalog"],
    )
    def get(self, request: Request, slug: str) -> Response:
        features = [asdict(f) for f in feature_catalog(workspace=self.workspace)]
        rows = [
            {"feature": f["key"], "type": f["type"], "action": action, "detail": detail}
            for f in features
            for action, details in f["actions"].items()
            for detail in details
        ]
        return self.table_response({"features": features}, rows, ["feature", "type", "action", "detail"])
