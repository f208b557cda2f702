from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """``manage.py seed_demo``: a demo workspace with data in every area. It sits above the areas it
    fills (like the project's wiring), so no area has to know the others to be demonstrated."""

    name = "demo"
    verbose_name = _("Demo data")
