from django.urls import path

from sales import charts, views

urlpatterns = [
    path("w/<slug:slug>/sales/", views.union_page, name="sales-tab"),
    path("w/<slug:slug>/sales/activity/", views.activity_page, name="sales-activity"),
    path("w/<slug:slug>/sales/open-pipeline/", views.open_pipeline_page, name="sales-open-pipeline"),
    path("w/<slug:slug>/sales/pipeline-generation/", views.generation_page, name="sales-pipeline-generation"),
    path("w/<slug:slug>/sales/forecast/", views.forecast_page, name="sales-forecast"),
    path("w/<slug:slug>/sales/clean-house/", views.clean_house_page, name="sales-clean-house"),
    # Chart JSON, one endpoint per chart, same query as the page the chart sits on.
    path("w/<slug:slug>/charts/sales-revenue.json", charts.RevenueChart.as_view(), name="sales-chart-revenue"),
    path(
        "w/<slug:slug>/charts/sales-leaderboard.json", charts.LeaderboardChart.as_view(), name="sales-chart-leaderboard"
    ),
    path("w/<slug:slug>/charts/sales-activity.json", charts.ActivityChart.as_view(), name="sales-chart-activity"),
    path("w/<slug:slug>/charts/sales-stages.json", charts.StageChart.as_view(), name="sales-chart-stages"),
    path("w/<slug:slug>/charts/sales-generation.json", charts.GenerationChart.as_view(), name="sales-chart-generation"),
    path("w/<slug:slug>/charts/sales-forecast.json", charts.ForecastChart.as_view(), name="sales-chart-forecast"),
]
