from django.urls import path

from behaviour.api import views

urlpatterns = [
    path("behaviour/heatmap", views.HeatmapView.as_view(), name="api-behaviour-heatmap"),
    path("behaviour/failures", views.FailuresView.as_view(), name="api-behaviour-failures"),
    path("behaviour/retention", views.RetentionView.as_view(), name="api-behaviour-retention"),
    path("behaviour/lifecycle", views.LifecycleView.as_view(), name="api-behaviour-lifecycle"),
    path("behaviour/stickiness", views.StickinessView.as_view(), name="api-behaviour-stickiness"),
    path("behaviour/anomalies", views.AnomaliesView.as_view(), name="api-behaviour-anomalies"),
    path("behaviour/paths", views.PathsView.as_view(), name="api-behaviour-paths"),
    path("behaviour/paths/users", views.PathUsersView.as_view(), name="api-behaviour-path-users"),
    path("behaviour/data-quality", views.DataQualityView.as_view(), name="api-behaviour-data-quality"),
]
