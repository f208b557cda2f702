"""/api/v1/workspaces/<slug>/perception/… of the perception metrics (included by crm_usage.urls)."""

from django.urls import URLPattern, URLResolver, path

from perception.api import metric_views as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("perception/summary", views.SummaryView.as_view(), name="api-perception-summary"),
    path("perception/trend", views.TrendView.as_view(), name="api-perception-trend"),
    path("perception/breakdown", views.BreakdownView.as_view(), name="api-perception-breakdown"),
    path("perception/accounts", views.AccountsView.as_view(), name="api-perception-accounts"),
]
