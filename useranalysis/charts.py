"""Chart JSON of the User analysis pages (``core.charts``): the query of the page the chart sits on,
the page's selector, laid out for Chart.js. An invalid query answers 400 with
``{"errors": {field: [message]}}``; a user the workspace does not have, 404."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext

from core.charts import WorkspaceChartView
from events.models import CrmUser
from useranalysis import selectors
from useranalysis.queries import UserQuery


class UserDailyActivityChart(WorkspaceChartView):
    """Interactions per day of one CRM user over the period, every day present (zeros included)."""

    query_class = UserQuery
    days: list[tuple[date, int]]

    def load(self) -> None:
        query: UserQuery = self.query
        crm_user = self.scope.get(CrmUser, external_id=query.user)
        self.days = selectors.user_daily_activity(query.with_user(crm_user))

    def get_labels(self) -> list[str]:
        return [day.isoformat() for day, _n in self.days]

    def get_providers(self) -> list[str]:
        return [gettext("Interactions")]

    def get_data(self) -> list[list[int]]:
        return [[n for _day, n in self.days]]
