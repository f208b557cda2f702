"""The Alerts pages (alerts.views)."""

from django.urls import URLPattern, URLResolver, path

from alerts import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("w/<slug:slug>/alerts/", views.alerts_list, name="alerts-list"),
    path("w/<slug:slug>/alerts/new", views.alert_new, name="alerts-new"),
    path("w/<slug:slug>/alerts/<int:pk>/", views.alert_detail, name="alerts-detail"),
    path("w/<slug:slug>/alerts/<int:pk>/edit", views.alert_edit, name="alerts-edit"),
    path("w/<slug:slug>/alerts/<int:pk>/mute", views.alert_mute, name="alerts-mute"),
    path("w/<slug:slug>/alerts/<int:pk>/delete", views.alert_delete, name="alerts-delete"),
]
