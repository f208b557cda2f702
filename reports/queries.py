"""The analysis report's query: a period (``start`` + ``end``, default the last 30 days), the user
filters, and the format (``html`` or ``pdf``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rest_framework import serializers

from core.queries import ChoiceParam, PeriodParams, PeriodQuery


class ReportParams(PeriodParams):
    default_days = 30
    period_style = "range"

    format = ChoiceParam(["html", "pdf"], default="html", help_text="html (printable) or pdf.")


@dataclass(frozen=True, kw_only=True)
class ReportQuery(PeriodQuery):
    Params: ClassVar[type[serializers.Serializer]] = ReportParams

    format: str = "html"

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "format": self.format}
