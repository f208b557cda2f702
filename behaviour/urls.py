from django.urls import path

from behaviour import charts, views

urlpatterns = [
    path("w/<slug:slug>/behaviour/", views.behaviour_tab, name="behaviour-tab"),
    path("w/<slug:slug>/behaviour/retention/", views.retention_page, name="behaviour-retention"),
    path("w/<slug:slug>/behaviour/engagement/", views.engagement_page, name="behaviour-engagement"),
    path("w/<slug:slug>/behaviour/paths/", views.paths_page, name="behaviour-paths"),
    path("w/<slug:slug>/behaviour/anomalies/", views.anomalies_page, name="behaviour-anomalies"),
    path("w/<slug:slug>/behaviour/data-quality/", views.data_quality_page, name="behaviour-data-quality"),
    # Chart JSON, one endpoint per chart, same query as the page the chart sits on.
    path(
        "w/<slug:slug>/charts/failure-rate.json", charts.FailureRateChart.as_view(), name="behaviour-chart-failure-rate"
    ),
    path("w/<slug:slug>/charts/heatmap.json", charts.HeatmapChart.as_view(), name="behaviour-chart-heatmap"),
    path(
        "w/<slug:slug>/charts/failure-heatmap.json",
        charts.FailureHeatmapChart.as_view(),
        name="behaviour-chart-failure-heatmap",
    ),
    path("w/<slug:slug>/charts/retention.json", charts.RetentionChart.as_view(), name="behaviour-chart-retention"),
    path("w/<slug:slug>/charts/lifecycle.json", charts.LifecycleChart.as_view(), name="behaviour-chart-lifecycle"),
    path("w/<slug:slug>/charts/stickiness.json", charts.StickinessChart.as_view(), name="behaviour-chart-stickiness"),
    path("w/<slug:slug>/charts/anomaly.json", charts.AnomalyChart.as_view(), name="behaviour-chart-anomaly"),
    path("w/<slug:slug>/charts/paths.json", charts.PathsChart.as_view(), name="behaviour-chart-paths"),
]
