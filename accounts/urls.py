"""Pages of the Accounts tab. The name ``accounts-tab`` enables the tab in the tab bar.

The fixed paths come before an account's page, whose external id may hold any character: an account
whose external id is exactly ``list`` or ``segments…`` is shadowed by them.
"""

from django.urls import URLPattern, URLResolver, path

from accounts import charts, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("w/<slug:slug>/accounts/", views.accounts_tab, name="accounts-tab"),
    path("w/<slug:slug>/accounts/list/", views.account_list, name="accounts-list"),
    path("w/<slug:slug>/accounts/segments/", views.segments, name="accounts-segments"),
    path("w/<slug:slug>/accounts/segments/new/", views.segment_new, name="accounts-segment-new"),
    path("w/<slug:slug>/accounts/segments/<int:pk>/", views.segment_page, name="accounts-segment"),
    path("w/<slug:slug>/accounts/segments/<int:pk>/delete/", views.segment_delete, name="accounts-segment-delete"),
    # Chart JSON, one endpoint per chart, same query as the page the chart sits on.
    path("w/<slug:slug>/charts/accounts-revenue.json", charts.RevenueChart.as_view(), name="accounts-chart-revenue"),
    path(
        "w/<slug:slug>/charts/accounts-acquisition.json",
        charts.AcquisitionChart.as_view(),
        name="accounts-chart-acquisition",
    ),
    path(
        "w/<slug:slug>/charts/accounts-industries.json",
        charts.IndustriesChart.as_view(),
        name="accounts-chart-industries",
    ),
    path("w/<slug:slug>/charts/accounts-bands.json", charts.BandsChart.as_view(), name="accounts-chart-bands"),
    path(
        "w/<slug:slug>/charts/accounts-top-products.json",
        charts.TopProductsChart.as_view(),
        name="accounts-chart-top-products",
    ),
    path(
        "w/<slug:slug>/charts/accounts-rising-products.json",
        charts.RisingProductsChart.as_view(),
        name="accounts-chart-rising-products",
    ),
    path(
        "w/<slug:slug>/charts/account-revenue.json",
        charts.AccountRevenueChart.as_view(),
        name="accounts-chart-account-revenue",
    ),
    path("w/<slug:slug>/accounts/<path:external_id>/", views.account_detail, name="accounts-detail"),
]
