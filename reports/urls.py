from django.urls import path

from reports import views

urlpatterns = [path("w/<slug:slug>/reports/analysis/", views.analysis_page, name="reports-analysis")]
