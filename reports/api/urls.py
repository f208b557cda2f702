from django.urls import path

from core.api.base import OptionalSlashRouter
from reports.api import views

router = OptionalSlashRouter()
router.register("report-schedules", views.ReportScheduleViewSet, basename="report-schedule")

urlpatterns = [
    path("reports/analysis", views.AnalysisReportView.as_view(), name="api-reports-analysis"),
    path("reports/runs/<int:pk>", views.ReportRunView.as_view(), name="api-reports-run"),
    *router.urls,
]
