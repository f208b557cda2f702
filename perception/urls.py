from django.urls import path

from perception import charts, views

urlpatterns = [
    path("w/<slug:slug>/perception/", views.overview_page, name="perception-tab"),
    path("w/<slug:slug>/perception/accounts/", views.accounts_page, name="perception-accounts"),
    path("w/<slug:slug>/perception/voice/", views.voice_page, name="perception-voice"),
    path("w/<slug:slug>/perception/settings/", views.settings_page, name="perception-settings"),
    # Chart JSON, one endpoint per chart, same query as the page the chart sits on.
    path(
        "w/<slug:slug>/charts/perception-sentiment.json",
        charts.SentimentChart.as_view(),
        name="perception-chart-sentiment",
    ),
    path("w/<slug:slug>/charts/perception-intents.json", charts.IntentChart.as_view(), name="perception-chart-intents"),
    path(
        "w/<slug:slug>/charts/perception-competitors.json",
        charts.CompetitorChart.as_view(),
        name="perception-chart-competitors",
    ),
    path("w/<slug:slug>/charts/perception-trend.json", charts.TrendChart.as_view(), name="perception-chart-trend"),
    path(
        "w/<slug:slug>/charts/perception-keywords.json", charts.KeywordCloud.as_view(), name="perception-chart-keywords"
    ),
]
