"""/api/v1/workspaces/<slug>/alerts/… (included by crm_usage.urls)."""

from django.urls import URLPattern, URLResolver

from alerts.api import views
from core.api.base import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("alerts", views.AlertViewSet, basename="api-alert")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
