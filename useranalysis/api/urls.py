from django.urls import path

from core.api.base import OptionalSlashRouter
from useranalysis.api import views

router = OptionalSlashRouter()
router.register("filter-sets", views.FilterSetViewSet, basename="filter-set")

urlpatterns = [
    path("users", views.UsersView.as_view(), name="api-users"),
    path("users/<str:external_id>/events", views.UserEventsView.as_view(), name="api-user-events"),
    path("filter-sets/query", views.FilterSetQueryView.as_view(), name="api-filter-sets-query"),
    *router.urls,
]
