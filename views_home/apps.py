from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ViewsHomeConfig(AppConfig):
    name = "views_home"
    verbose_name = _("Home, Activity, Trends and Hub tabs")
