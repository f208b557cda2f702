"""The queries of Adoption × outcome (API.md "Accounts and sales", ``sales/adoption-outcome``;
DESIGN.md section 6): a period (``start`` + ``end`` by default, 30 days ending today, as the
Behaviour tab) and the user filters; the page adds the usage figure its chart draws and the rep it
highlights (the link back from a user's page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.queries import ChoiceParam, PeriodParams, PeriodQuery, TextParam, resolve_crm_user
from events.models import CrmUser

# The usage figures of a rep (DESIGN.md section 3, as the users table computes them), in the
# order the answer lists them.
USAGE_FIGURES = ("attendance_days", "session_minutes", "features_used", "interactions")
FIGURE_LABELS = {
    "attendance_days": _("Attendance days"),
    "session_minutes": _("Session minutes"),
    "features_used": _("Features used"),
    "interactions": _("Interactions"),
}
DEFAULT_FIGURE = "attendance_days"


class AdoptionParams(PeriodParams):
    default_days = 30
    period_style = "range"


@dataclass(frozen=True, kw_only=True)
class AdoptionQuery(PeriodQuery):
    """Every rep's usage beside their results over the period (``sales/adoption-outcome``)."""

    Params: ClassVar[type[serializers.Serializer]] = AdoptionParams


class AdoptionPageParams(AdoptionParams):
    figure = ChoiceParam(
        list(USAGE_FIGURES),
        default=DEFAULT_FIGURE,
        help_text="The usage figure the scatter chart draws against revenue.",
    )
    rep = TextParam(max_length=254, help_text="A rep to highlight: external id or email.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        text = attrs["rep"].strip()
        attrs["rep"] = resolve_crm_user(self.workspace, text, "rep") if text else None
        return attrs


@dataclass(frozen=True, kw_only=True)
class AdoptionPageQuery(AdoptionQuery):
    """The page and its chart: the figure drawn against revenue, and the rep highlighted (a CRM user
    of the workspace; one that is not a rep is simply not in the table)."""

    Params: ClassVar[type[serializers.Serializer]] = AdoptionPageParams

    figure: str = DEFAULT_FIGURE
    rep: CrmUser | None = None

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "figure": self.figure, "rep": self.rep.external_id if self.rep else None}

    def outcome(self) -> AdoptionQuery:
        """The endpoint's query (period and filters): what the CSV link asks for."""
        return self.derive(AdoptionQuery)
