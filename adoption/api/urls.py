from django.urls import URLPattern, URLResolver, path

from adoption.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("sales/adoption-outcome", views.AdoptionOutcomeView.as_view(), name="api-sales-adoption-outcome"),
]
