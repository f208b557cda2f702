from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every tab shares and no tab owns: query objects and the period, the page shell, chart
    and CSV plumbing, formatting. It has no models."""

    name = "core"
    verbose_name = _("Shared")
