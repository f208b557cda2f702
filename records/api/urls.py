from django.urls import path

from records.api import views

urlpatterns = [
    path("records/<str:kind>/batch", views.RecordBatchView.as_view(), name="api-records-batch"),
]
