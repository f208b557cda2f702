"""/api/v1/workspaces/<slug>/dashboards/… and annotations/… (included by crm_usage.urls); the
share endpoint, outside any workspace, is ``share_urlpatterns``."""

from django.urls import URLPattern, URLResolver, path

from core.api.base import OptionalSlashRouter
from dashboards.api import views

router = OptionalSlashRouter()
router.register("dashboards", views.DashboardViewSet, basename="dashboard")
router.register("annotations", views.AnnotationViewSet, basename="annotation")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]

share_urlpatterns: list[URLPattern | URLResolver] = [
    path("share/<str:token>", views.SharedDashboardView.as_view(), name="api-share"),
    path("share/<str:token>/", views.SharedDashboardView.as_view()),
]
