"""/api/v1/workspaces/<slug>/perception/… of the voice of the customer (included by crm_usage.urls)."""

from django.urls import URLPattern, URLResolver, path

from perception.api import voice_views as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("perception/feedback", views.FeedbackListView.as_view(), name="api-perception-feedback"),
    path("perception/voice", views.VoiceView.as_view(), name="api-perception-voice"),
    path("perception/keywords", views.KeywordsView.as_view(), name="api-perception-keywords"),
    path(
        "perception/competitor-mentions",
        views.CompetitorMentionsView.as_view(),
        name="api-perception-competitor-mentions",
    ),
    path("perception/settings", views.PerceptionSettingsView.as_view(), name="api-perception-settings"),
]
