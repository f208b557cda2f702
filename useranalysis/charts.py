"""Chart JSON of the User analysis pages, in the django-chartjs style of the other tabs
(``views_home/charts.py``): ``{"labels": [...], "datasets": [{"label", "data", "backgroundColor",
"borderColor"}]}``, which Chart.js 4 takes as its ``data`` as is, and nothing else.

Same membership scoping and the same period parameters as the page the chart sits on; an invalid
query answers 400 with ``{"errors": {field: [message]}}``, an unknown user 404. Every figure comes
from ``useranalysis.selectors``; these views only lay it out.
"""

from __future__ import annotations

from typing import Any

from chartjs.views.lines import BaseLineChartView
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext

from core.charts import CHARTJS_COLORS
from events.models import CrmUser
from events.periods import Period
from tenancy.scoping import workspaces_for
from useranalysis import selectors
from useranalysis.forms import UserChartQueryForm


class UserDailyActivityChart(LoginRequiredMixin, BaseLineChartView):
    """Interactions per day of one CRM user over the period, every day present (zeros included)."""

    http_method_names = ["get", "head", "options"]
    raise_exception = False  # anonymous: redirect to the login page, like the page itself
    days: list[tuple[Any, int]]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        workspace = get_object_or_404(workspaces_for(request.user), slug=kwargs["slug"])
        form = UserChartQueryForm(request.GET, workspace=workspace)
        if not form.is_valid():
            return JsonResponse({"errors": {f: list(m) for f, m in form.errors.items()}}, status=400)
        q = form.cleaned_data
        crm_user = CrmUser.objects.filter(workspace=workspace, external_id=q["user"]).first()
        if crm_user is None:
            raise Http404("No such CRM user in this workspace.")
        period = Period.ending(q["as_of"], q["days"], workspace.tzinfo)
        self.days = selectors.user_daily_activity(workspace=workspace, crm_user=crm_user, period=period)
        response = super().get(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-cache"
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # Only what Chart.js reads: not TemplateView's ``view`` nor the URL kwargs.
        return {"labels": self.get_labels(), "datasets": self.get_datasets()}

    def get_labels(self) -> list[str]:
        return [day.isoformat() for day, _n in self.days]

    def get_providers(self) -> list[str]:
        return [gettext("Interactions")]

    def get_data(self) -> list[list[int]]:
        return [[n for _day, n in self.days]]

    def get_dataset_options(self, index: int, color: tuple[int, int, int]) -> dict[str, Any]:
        red, green, blue = CHARTJS_COLORS[0]
        return {"backgroundColor": f"rgba({red}, {green}, {blue}, 0.5)", "borderColor": f"rgb({red}, {green}, {blue})"}

    def get_datasets(self) -> list[dict[str, Any]]:
        datasets = super().get_datasets()
        for dataset in datasets:
            dataset.pop("name", None)  # Highcharts only
        return datasets
