from django.urls import path

from events.api import views

urlpatterns = [
    path("events/batch", views.EventBatchView.as_view(), name="api-events-batch"),
    path("users/batch", views.UserBatchView.as_view(), name="api-users-batch"),
]
