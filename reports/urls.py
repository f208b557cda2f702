from django.urls import path

from reports import views

urlpatterns = [
    path("w/<slug:slug>/reports/analysis/", views.analysis_page, name="reports-analysis"),
    path("w/<slug:slug>/reports/schedules/", views.schedules_page, name="reports-schedules"),
    path("w/<slug:slug>/reports/schedules/new/", views.schedule_new, name="reports-schedule-new"),
    path("w/<slug:slug>/reports/schedules/<int:pk>/edit/", views.schedule_edit, name="reports-schedule-edit"),
    path("w/<slug:slug>/reports/schedules/<int:pk>/delete/", views.schedule_delete, name="reports-schedule-delete"),
    path("w/<slug:slug>/reports/schedules/<int:pk>/preview/", views.schedule_preview, name="reports-schedule-preview"),
    path("reports/unsubscribe/<str:token>/", views.unsubscribe_page, name="reports-unsubscribe"),
]
