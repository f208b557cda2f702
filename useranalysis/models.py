"""Saved filter sets of the User analysis tab."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext as _

from core.attributes import GROUP_BY_ATTRIBUTES
from core.queries import QueryInvalid
from events.periods import MAX_RANGE_DAYS
from tenancy.models import SavedConfig
from useranalysis.queries import ConditionsParams


class FilterSet(SavedConfig):
    """A named combination of activity, feature-usage and user-attribute conditions
    (docs/api.md#saved-filter-sets), with an optional group-by attribute."""

    conditions = models.JSONField(default=dict, blank=True)
    group_by = models.CharField(max_length=32, blank=True, default="")
    default_days = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(MAX_RANGE_DAYS)]
    )

    class Meta(SavedConfig.Meta):
        indexes = [models.Index(fields=["workspace", "visibility"], name="filterset_ws_visibility")]

    @property
    def well_formed(self) -> bool:
        """Whether the stored definition has the shape of one (a row saved before the model checked
        its definitions may not): every page can then read it without guessing."""
        conditions = self.conditions
        if not isinstance(conditions, dict):
            return False
        rows = [conditions.get(part) or [] for part in ("activity", "features")]
        users = conditions.get("users") or {}
        return (
            all(isinstance(part, list) and all(isinstance(row, dict) for row in part) for part in rows)
            and isinstance(users, dict)
            and all(isinstance(values, list) for values in users.values())
        )

    @property
    def stored_conditions(self) -> dict[str, Any]:
        """The conditions when well formed, else none (the pages then say the definition needs mending)."""
        return dict(self.conditions) if self.well_formed and self.conditions else {}

    def clean(self) -> None:
        """The definition is checked as the API and the builder check it (``ConditionsParams``), so a
        filter set saved anywhere — the admin included — can be shown and run by every member."""
        errors: dict[str, list[str]] = {}
        try:
            super().clean()
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if self.group_by and self.group_by not in GROUP_BY_ATTRIBUTES:
            errors["group_by"] = [_("Group by one of: %(names)s.") % {"names": ", ".join(GROUP_BY_ATTRIBUTES)}]
        if not isinstance(self.conditions, dict):
            errors["conditions"] = [_("The conditions must be a JSON object.")]
        elif self.workspace_id is not None:
            params = ConditionsParams(data=self.conditions, context={"workspace": self.workspace})
            if not params.is_valid():
                errors["conditions"] = QueryInvalid({"conditions": params.errors}).errors["conditions"]
        if errors:
            raise ValidationError(errors)
