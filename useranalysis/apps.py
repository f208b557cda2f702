from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UseranalysisConfig(AppConfig):
    name = "useranalysis"
    verbose_name = _("User analysis")

    def ready(self) -> None:
        from events.signals import rollups_refreshed
        from useranalysis import tasks

        rollups_refreshed.connect(tasks.warm_filter_sets, dispatch_uid="filter-sets-on-rollups-refreshed")
