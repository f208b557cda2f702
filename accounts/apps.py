from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # The other tabs filter by a segment through records.segments (tabs do not import each other).
        from accounts.segments import segment_refs
        from records.segments import register

        register(segment_refs)
