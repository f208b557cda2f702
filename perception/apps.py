from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PerceptionConfig(AppConfig):
    name = "perception"
    verbose_name = _("Customer perception")

    def ready(self) -> None:
        from perception import tasks
        from records.versions import records_version_renewed

        records_version_renewed.connect(tasks.warm_after_records_change, dispatch_uid="perception-warm-on-records")
