from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events and workspaces")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        import crm_usage.checks  # noqa: F401 - registers the deploy checks
        from crm_usage.signals import end_access_of_deactivated_user

        post_save.connect(end_access_of_deactivated_user, sender=get_user_model(), dispatch_uid="end-access")
