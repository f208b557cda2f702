"""Saved filter sets of the User analysis tab."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from events.periods import MAX_RANGE_DAYS
from tenancy.models import SavedConfig


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
