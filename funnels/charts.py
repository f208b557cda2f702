"""Chart JSON of the Funnels tab (``core.charts``): a saved funnel's charts for the query of its page
(``view``: the funnel, in the shape ``funnels.presenters.funnel_chart_data`` lays out, which the
builder's preview gets too; the time to convert; conversion over time)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from core.charts import WorkspaceChartView
from funnels import presenters, services
from funnels.models import Funnel, Order
from funnels.queries import FunnelResultsQuery
from tenancy.scoping import scope_for


class FunnelChartView(WorkspaceChartView):
    """The chart of one saved funnel the user sees, for the range and filters of its page."""

    query_class = FunnelResultsQuery
    query: FunnelResultsQuery

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The funnel through the scope first (another member's private funnel: 404); the query is then
        # parsed for it, as on its page.
        self.funnel = scope_for(request.user, kwargs["slug"]).get_saved(Funnel, kwargs["pk"])
        return super().get(request, *args, **kwargs)

    def parse_context(self) -> dict[str, Any]:
        return {"funnel": self.funnel}

    def load(self) -> None:
        self.results = services.funnel_results(self.query)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # ``view`` picks the chart: the funnel, the time-to-convert histogram or conversion over time.
        if self.results.time_to_convert is not None:
            return presenters.convert_chart_data(self.results.time_to_convert, self.funnel.unit)
        if self.results.trends is not None:
            return presenters.trends_chart_data(self.results.trends)
        return presenters.funnel_chart_data(self.results.data, self.funnel.unit, self.funnel.order == Order.ANY)
