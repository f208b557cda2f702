from django.urls import path

from sales.api import views

urlpatterns = [
    path("sales/state-of-the-union", views.UnionView.as_view(), name="api-sales-union"),
    path("sales/activity", views.ActivityView.as_view(), name="api-sales-activity"),
    path("sales/open-pipeline", views.OpenPipelineView.as_view(), name="api-sales-open-pipeline"),
    path("sales/pipeline-generation", views.GenerationView.as_view(), name="api-sales-pipeline-generation"),
    path("sales/forecast", views.ForecastView.as_view(), name="api-sales-forecast"),
    path("sales/clean-house", views.CleanHouseView.as_view(), name="api-sales-clean-house"),
]
