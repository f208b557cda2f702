"""``manage.py erase_crm_user EXTERNAL_ID --workspace SLUG``: erase a CRM user on request."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.models import CrmUser
from events.privacy import crm_user_erase
from tenancy.models import Workspace


class Command(BaseCommand):
    help = "Erase one CRM user: their raw events, their rollup rows and the user record (audited, by counts only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("external_id")
        parser.add_argument("--workspace", required=True, metavar="SLUG")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace {options['workspace']!r}.")
        crm_user = CrmUser.objects.filter(workspace=workspace, external_id=options["external_id"]).first()
        if crm_user is None:
            raise CommandError(f"No CRM user {options['external_id']!r} in {workspace.slug}.")
        counts = crm_user_erase(workspace=workspace, crm_user=crm_user)
        self.stdout.write("erased " + " ".join(f"{k}={v}" for k, v in counts.items()))
