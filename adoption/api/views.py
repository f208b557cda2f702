"""``GET /api/v1/workspaces/<slug>/sales/adoption-outcome``: it parses its query object, calls the
selector and lays the answer out as JSON, and the reps table as the CSV (``format=csv``)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from adoption import selectors
from adoption.api import serializers as s
from adoption.queries import AdoptionQuery
from core.api.base import WorkspaceAPIView, document
from records.figures import cents_text

REP_COLUMNS = [
    "rep", "attendance_days", "session_minutes", "features_used", "interactions", "revenue", "deals_won", "activities",
]  # fmt: skip


def rep_rows(reps: list[selectors.RepOutcome]) -> list[dict[str, Any]]:
    return [
        {"rep": r.rep, "attendance_days": r.attendance_days, "session_minutes": r.session_minutes,
         "features_used": r.features_used, "interactions": r.interactions, "revenue": cents_text(r.revenue_cents),
         "deals_won": r.deals_won, "activities": r.activities}
        for r in reps
    ]  # fmt: skip


class AdoptionOutcomeView(WorkspaceAPIView):
    query_class = AdoptionQuery
    csv_filename = "adoption-outcome.csv"

    @document(AdoptionQuery, s.AdoptionOutcomeSerializer, "Reps' CRM usage beside their sales results", "sales")
    def get(self, request: Request, slug: str) -> Response:
        query: AdoptionQuery = self.parse_query()
        outcome = selectors.adoption_outcome(query)
        rows = rep_rows(outcome.reps)
        data = {
            "period": query.period.as_dict(),
            "currency": query.workspace.currency,
            "reps": rows,
            "spearman": outcome.spearman,
            "top_quartile": [{"rep": r.rep} for r in outcome.top_quartile],
            "bottom_quartile": [{"rep": r.rep} for r in outcome.bottom_quartile],
            "features": [
                {"feature": g.feature, "top_pct": g.top_pct, "bottom_pct": g.bottom_pct, "gap_pts": g.gap_pts}
                for g in outcome.features
            ],
        }
        return self.table_response(data, rows, REP_COLUMNS)
