from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BehaviourConfig(AppConfig):
    name = "behaviour"
    verbose_name = _("Behaviour analysis")

    def ready(self) -> None:
        from behaviour import drilldown

        drilldown.register()  # the figures the drill-down page opens (docs/drilldown.md)
