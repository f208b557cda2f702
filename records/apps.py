from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = _("CRM records")

    def ready(self) -> None:
        from records import signals  # noqa: F401  (connects the receivers)
