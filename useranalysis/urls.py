from django.urls import URLPattern, URLResolver

# Pages of the User analysis tab (URL name "users-tab" enables the tab in the tab bar).
urlpatterns: list[URLPattern | URLResolver] = []
