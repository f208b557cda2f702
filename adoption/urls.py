"""Pages of Adoption × outcome, in the Sales tab; the chart JSON beside them."""

from django.urls import URLPattern, URLResolver, path

from adoption import charts, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("w/<slug:slug>/sales/adoption/", views.adoption_tab, name="adoption-tab"),
    path(
        "w/<slug:slug>/charts/adoption-scatter.json",
        charts.AdoptionScatterChart.as_view(),
        name="adoption-chart-scatter",
    ),
]
