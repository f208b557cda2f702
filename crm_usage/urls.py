"""URL map: pages at the root, the REST API under /api/v1/, the admin under /admin/."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import views as core_views
from core.api.views import FeatureCatalogView
from crm_usage.api import api_not_found
from dashboards.api.urls import share_urlpatterns
from tenancy.api.views import AuditLogView

api_v1: list[URLPattern | URLResolver] = [
    path("", include("events.api.urls")),
    path("", include("records.api.urls")),
    path("workspaces/<slug:slug>/features", FeatureCatalogView.as_view(), name="api-features"),
    path("workspaces/<slug:slug>/audit", AuditLogView.as_view(), name="api-audit"),
    path("workspaces/<slug:slug>/", include("views_home.api.urls")),
    path("workspaces/<slug:slug>/", include("funnels.api.urls")),
    path("workspaces/<slug:slug>/", include("useranalysis.api.urls")),
    path("workspaces/<slug:slug>/", include("behaviour.api.urls")),
    path("workspaces/<slug:slug>/", include("accounts.api.urls")),
    path("workspaces/<slug:slug>/", include("sales.api.urls")),
    path("workspaces/<slug:slug>/", include("perception.api.metric_urls")),
    path("workspaces/<slug:slug>/", include("perception.api.voice_urls")),
    path("workspaces/<slug:slug>/", include("adoption.api.urls")),
    path("workspaces/<slug:slug>/", include("reports.api.urls")),
    path("workspaces/<slug:slug>/", include("dashboards.api.urls")),
    path("", include(share_urlpatterns)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file, so the strict CSP holds here too.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"", api_not_found),  # last: anything else under /api/v1/ is a JSON 404
]

urlpatterns = [
    # Workspaces, members, ingest keys and the audit trail moved from the events app to tenancy:
    # old admin bookmarks still arrive.
    re_path(
        r"^admin/events/(?P<rest>(?:workspace|membership|ingestkey|auditentry)/.*)$",
        RedirectView.as_view(url="/admin/tenancy/%(rest)s", query_string=True, permanent=True),
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("accounts/", include("django.contrib.auth.urls")),
    path("account/tokens/", core_views.api_tokens, name="api-tokens"),
    path("w/<slug:slug>/ingest-keys/new/", core_views.ingest_key_create, name="ingest-key-create"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("views_home.urls")),
    path("", include("funnels.urls")),
    path("", include("useranalysis.urls")),
    path("", include("behaviour.urls")),
    path("", include("accounts.urls")),
    path("", include("sales.urls")),
    path("", include("perception.urls")),
    path("", include("adoption.urls")),
    path("", include("reports.urls")),
]
