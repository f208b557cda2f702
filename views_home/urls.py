from django.urls import path

from views_home import charts, views

urlpatterns = [
    path("", views.index, name="home"),
    path("w/<slug:slug>/", views.home_tab, name="home-tab"),
    path("w/<slug:slug>/activity/", views.activity_tab, name="activity-tab"),
    path("w/<slug:slug>/activity/users.json", views.user_suggestions, name="activity-user-suggestions"),
    path("w/<slug:slug>/trends/", views.trends_tab, name="trends-tab"),
    path("w/<slug:slug>/hub/", views.hub_tab, name="hub-tab"),
    # Chart JSON, one endpoint per chart, same query as the page the chart sits on.
    path(
        "w/<slug:slug>/charts/weekly-interactions.json",
        charts.WeeklyInteractionsChart.as_view(),
        name="home-chart-weekly-interactions",
    ),
    path("w/<slug:slug>/charts/activity.json", charts.ActivityFeaturesChart.as_view(), name="activity-chart-features"),
    path("w/<slug:slug>/charts/trends.json", charts.TrendsChart.as_view(), name="trends-chart"),
    path("w/<slug:slug>/charts/popularity.json", charts.PopularityChart.as_view(), name="hub-chart-popularity"),
    path("w/<slug:slug>/charts/frequency.json", charts.FrequencyChart.as_view(), name="hub-chart-frequency"),
]
