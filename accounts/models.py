"""Saved segments of the Accounts tab (docs/accounts.md#segments): a named set of the account list's
filters, private or shared with the workspace like the User analysis tab's filter sets
(``tenancy.models.SavedConfig``: who sees, creates and changes one)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from accounts.queries import segment_filters
from core.queries import QueryInvalid
from tenancy.models import SavedConfig


class Segment(SavedConfig):
    """The account list's parameters (``search``, ``industry``, ``country``, ``owner``, ``status``,
    ``min_revenue``, ``max_revenue``, ``active_since``, ``suggested``, ``ordering``) as a JSON object,
    checked as the list checks them; its accounts are always those the filters match now."""

    filters = models.JSONField(default=dict, blank=True)

    class Meta(SavedConfig.Meta):
        indexes = [models.Index(fields=["workspace", "visibility"], name="segment_ws_visibility")]

    @property
    def stored_filters(self) -> dict[str, Any]:
        return dict(self.filters) if isinstance(self.filters, dict) else {}

    def clean(self) -> None:
        """The filters are checked as the API and the list page check them, so a segment saved
        anywhere — the admin included — can be opened by every member who sees it."""
        errors: dict[str, list[str]] = {}
        try:
            super().clean()
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if self.workspace_id is not None:
            try:
                self.filters = segment_filters(self.workspace, self.filters)
            except QueryInvalid as exc:
                errors["filters"] = [
                    f"{key}: {message}" for key, messages in exc.errors.items() for message in messages
                ]
        if errors:
            raise ValidationError(errors)
