"""Pages of the Dashboards tab and the share page (included by crm_usage.urls)."""

from django.urls import path

from dashboards import views

urlpatterns = [
    path("w/<slug:slug>/dashboards/", views.dashboards_tab, name="dashboards-tab"),
    path("w/<slug:slug>/dashboards/pin/", views.pin_chart, name="dashboards-pin"),
    path("w/<slug:slug>/dashboards/<int:pk>/", views.dashboard_page, name="dashboard-page"),
    path("share/<str:token>/", views.share_page, name="share-page"),
]
