from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = _("Workspaces and access")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        from tenancy import checks  # noqa: F401 - registers the deploy checks
        from tenancy.signals import end_access_of_deactivated_user

        post_save.connect(end_access_of_deactivated_user, sender=get_user_model(), dispatch_uid="end-access")
