from django.urls import path

from views_home import charts, views

urlpatterns = [
    path("", views.index, name="home"),
    path("w/<slug:slug>/", views.home_tab, name="home-tab"),
    path(
        "w/<slug:slug>/charts/weekly-interactions.json",
        charts.WeeklyInteractionsChart.as_view(),
        name="home-chart-weekly-interactions",
    ),
]
