"""Chart JSON of the Accounts tab (``core.charts``): the overview's revenue by close month, acquisition,
top industries, revenue bands, top and rising products, and an account's revenue by close month. Each
parses the page's query and calls the page's selector; amounts are drawn in the base currency."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import get_language, gettext

from accounts import selectors
from accounts.queries import AccountChartQuery, OverviewQuery
from core.charts import WorkspaceChartView
from records.figures import money


def units(cents: int) -> float:
    return cents / 100


class RevenueChart(WorkspaceChartView):
    query_class = OverviewQuery

    def load(self) -> None:
        self.rows = selectors.revenue_by_month(self.query)

    def get_labels(self) -> list[str]:
        return [r.month.isoformat() for r in self.rows]

    def get_providers(self) -> list[str]:
        return [gettext("Revenue (%(currency)s)") % {"currency": self.query.workspace.currency}]

    def get_data(self) -> list[list[Any]]:
        return [[units(r.revenue_cents) for r in self.rows]] if any(r.revenue_cents for r in self.rows) else []


class AcquisitionChart(WorkspaceChartView):
    query_class = OverviewQuery

    def load(self) -> None:
        self.rows = selectors.acquisition(self.query)

    def get_labels(self) -> list[str]:
        return [r.month.isoformat() for r in self.rows]

    def get_providers(self) -> list[str]:
        return [gettext("New accounts")]

    def get_data(self) -> list[list[Any]]:
        return [[r.accounts for r in self.rows]] if any(r.accounts for r in self.rows) else []


class IndustriesChart(WorkspaceChartView):
    query_class = OverviewQuery

    def load(self) -> None:
        self.rows = selectors.top_industries(self.query)

    def get_labels(self) -> list[str]:
        return [r.industry for r in self.rows]

    def get_providers(self) -> list[str]:
        return [gettext("Accounts")]

    def get_data(self) -> list[list[Any]]:
        return [[r.accounts for r in self.rows]] if self.rows else []


class BandsChart(WorkspaceChartView):
    query_class = OverviewQuery

    def load(self) -> None:
        self.rows = selectors.revenue_bands(self.query)

    def get_labels(self) -> list[str]:
        language = get_language() or "en"
        workspace = self.query.workspace
        labels = []
        for band in self.rows:
            low = money(band.min_cents, workspace, language)
            labels.append(
                f"≥ {low}" if band.max_cents is None else f"{low} – {money(band.max_cents, workspace, language)}"
            )
        return labels

    def get_providers(self) -> list[str]:
        return [gettext("Accounts")]

    def get_data(self) -> list[list[Any]]:
        return [[r.accounts for r in self.rows]] if any(r.accounts for r in self.rows) else []


class TopProductsChart(WorkspaceChartView):
    query_class = OverviewQuery

    def load(self) -> None:
        self.rows = selectors.product_figures(self.query).top

    def get_labels(self) -> list[str]:
        return [r.name for r in self.rows]

    def get_providers(self) -> list[str]:
        return [gettext("Won amount (%(currency)s)") % {"currency": self.query.workspace.currency}]

    def get_data(self) -> list[list[Any]]:
        return [[units(r.amount_cents) for r in self.rows]] if self.rows else []


class RisingProductsChart(WorkspaceChartView):
    query_class = OverviewQuery

    def load(self) -> None:
        self.rows = selectors.product_figures(self.query).rising

    def get_labels(self) -> list[str]:
        return [r.name for r in self.rows]

    def get_providers(self) -> list[str]:
        return [gettext("This period"), gettext("The period before")]

    def get_data(self) -> list[list[Any]]:
        if not self.rows:
            return []
        return [[units(r.amount_cents) for r in self.rows], [units(r.previous_cents) for r in self.rows]]


class AccountRevenueChart(WorkspaceChartView):
    query_class = AccountChartQuery

    def load(self) -> None:
        account = selectors.account_find(self.scope.workspace, self.query.account)
        if account is None:
            raise Http404("No such account in this workspace.")
        self.rows = selectors.account_revenue_by_month(account)

    def get_labels(self) -> list[str]:
        return [r.month.isoformat() for r in self.rows]

    def get_providers(self) -> list[str]:
        return [gettext("Revenue (%(currency)s)") % {"currency": self.scope.workspace.currency}]

    def get_data(self) -> list[list[Any]]:
        return [[units(r.revenue_cents) for r in self.rows]] if self.rows else []
