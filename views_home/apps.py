from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ViewsHomeConfig(AppConfig):
    name = "views_home"
    verbose_name = _("Home, Activity, Trends and Hub tabs")

    def ready(self) -> None:
        from views_home import drilldown

        drilldown.register()  # the figures the drill-down page opens (docs/drilldown.md)
