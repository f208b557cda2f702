from django.urls import path

from reports.api import views

urlpatterns = [
    path("reports/analysis", views.AnalysisReportView.as_view(), name="api-reports-analysis"),
    path("reports/runs/<int:pk>", views.ReportRunView.as_view(), name="api-reports-run"),
]
