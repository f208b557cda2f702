from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UseranalysisConfig(AppConfig):
    name = "useranalysis"
    verbose_name = _("User analysis")
