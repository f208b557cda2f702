"""/api/v1/workspaces/<slug>/accounts/… and segments/… (included by crm_usage.urls).

The fixed paths come before an account's, whose external id may hold any character: an account whose
external id is exactly ``overview`` or ``suggested-segments`` is shadowed by them.
"""

from django.urls import URLPattern, URLResolver, path

from accounts.api import views
from core.api.base import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("segments", views.SegmentViewSet, basename="segment")

urlpatterns: list[URLPattern | URLResolver] = [
    path("accounts/overview", views.OverviewView.as_view(), name="api-accounts-overview"),
    path("accounts/suggested-segments", views.SuggestedSegmentsView.as_view(), name="api-accounts-suggested-segments"),
    path("accounts/", views.AccountListView.as_view(), name="api-accounts"),
    path("accounts", views.AccountListAlias.as_view()),
    path("accounts/<path:external_id>", views.AccountView.as_view(), name="api-account"),
    *router.urls,
]
