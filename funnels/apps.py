from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FunnelsConfig(AppConfig):
    name = "funnels"
    verbose_name = _("Funnels")

    def ready(self) -> None:
        from events.signals import rollups_refreshed
        from funnels import drilldown, tasks
        from funnels.signals import funnel_saved

        funnel_saved.connect(tasks.refresh_saved_funnel, dispatch_uid="funnel-saved-refresh")
        rollups_refreshed.connect(tasks.refresh_stale_funnels, dispatch_uid="funnels-on-rollups-refreshed")
        drilldown.register()  # the figures the drill-down page opens (docs/drilldown.md)
