from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events and rollups")

    def ready(self) -> None:
        from events.tasks import rebuild_rollups_on_commit
        from tenancy.signals import day_boundaries_changed

        # A new time zone or session timeout moves every day boundary and session: rebuild.
        day_boundaries_changed.connect(rebuild_rollups_on_commit, dispatch_uid="rebuild-on-day-boundaries")
