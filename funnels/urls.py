from django.urls import URLPattern, URLResolver

# Pages of the Funnels tab (URL name "funnels-tab" enables the tab in the tab bar).
urlpatterns: list[URLPattern | URLResolver] = []
