from django.urls import URLPattern, URLResolver

# /api/v1/workspaces/<slug>/funnels/...
urlpatterns: list[URLPattern | URLResolver] = []
