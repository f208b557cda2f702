"""``manage.py create_api_token USERNAME [--days N]``: a personal API token, printed alone last."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tenancy.services import MAX_TOKEN_DAYS as MAX_DAYS
from tenancy.services import api_token_create


class Command(BaseCommand):
    help = (
        "Create a personal API token for a Django user (sent as 'Authorization: Token <token>'). The token "
        "is printed alone on the last line of stdout; only its digest is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--days", type=int, default=None,
            help=f"Days until the token expires, 1 to {MAX_DAYS} (default {settings.API_TOKEN_DEFAULT_DAYS}).",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is not None and not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_DAYS}, not {days}.")
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(options["username"])
        except user_model.DoesNotExist:
            raise CommandError(f"No user named {options['username']!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {options['username']!r} is inactive; activate it before creating a token.")
        instance, token = api_token_create(user=user, days=days)
        expiry = timezone.localtime(instance.expiry)
        self.stdout.write(
            f"Token for {user.get_username()} (expires {expiry:%Y-%m-%d %H:%M %Z}); "
            "send it as 'Authorization: Token <token>'. It is not shown again:"
        )
        self.stdout.write(token)
