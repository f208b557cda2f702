"""Pages of the Funnels tab. The URL name "funnels-tab" enables the tab in the tab bar."""

from django.urls import URLPattern, URLResolver, path

from funnels import charts, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("w/<slug:slug>/funnels/", views.funnels_tab, name="funnels-tab"),
    path("w/<slug:slug>/funnels/new", views.funnel_new, name="funnels-new"),
    path("w/<slug:slug>/funnels/preview.json", views.funnel_preview, name="funnels-preview"),
    path("w/<slug:slug>/funnels/<int:pk>/", views.funnel_detail, name="funnels-detail"),
    path("w/<slug:slug>/funnels/<int:pk>/edit", views.funnel_edit, name="funnels-edit"),
    path("w/<slug:slug>/funnels/<int:pk>/people", views.funnel_people, name="funnels-people"),
    path("w/<slug:slug>/funnels/<int:pk>/refresh", views.funnel_refresh, name="funnels-refresh"),
    path("w/<slug:slug>/funnels/<int:pk>/delete", views.funnel_delete, name="funnels-delete"),
    path("w/<slug:slug>/funnels/<int:pk>/chart.json", charts.FunnelChartView.as_view(), name="funnels-chart"),
]
