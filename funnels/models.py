"""Saved funnels (docs/metrics.md#saved-funnels) and their precomputed results.

A funnel's steps are stored as JSON (``[{"feature", "action", "detail"}, …]``, 2 to 10 of them): they
are always read and written whole, in order, and are checked against the workspace's feature catalog
when saved (``funnels.queries``). The computation lives in ``funnels.selectors``; this module only
stores definitions and cached results. A funnel is a saved configuration (``tenancy.models.SavedConfig``):
who sees, creates and changes one follows the rules of every saved configuration.
"""

from __future__ import annotations

import hashlib
import json
import zoneinfo
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.attributes import GROUP_BY_ATTRIBUTES
from events.filters import user_filters_from
from events.periods import Period, RangeError, period_between
from events.selectors import UnknownStep, feature_resolve
from tenancy.models import SavedConfig, Workspace

MIN_STEPS = 2
MAX_STEPS = 10
MAX_EXCLUSIONS = 5
MAX_WINDOW_DAYS = 365
DEFAULT_WINDOW_DAYS = 14
DEFAULT_RANGE_DAYS = 30


class Unit(models.TextChoices):
    USER = "user", _("Users")
    RECORD = "record", _("Records")


class Order(models.TextChoices):
    ORDERED = "ordered", _("In order (other events may come between steps)")
    STRICT = "strict", _("Strict (no other event of the step's feature between steps)")
    ANY = "any", _("Any order (the most steps done within the window)")


class Visibility(models.TextChoices):
    PRIVATE = "private", _("Private (only me)")
    WORKSPACE = "workspace", _("Shared with the workspace")


def exclusion_problem(
    *, workspace: Workspace, steps: list[dict[str, Any]], exclusion: dict[str, Any]
) -> tuple[str, str] | None:
    """The field at fault in an exclusion step and why, or None (docs/metrics.md#exclusion-steps).

    An exclusion that matches every event of a step it spans would void every attempt that gets
    there, which nobody means: it is refused."""
    between = exclusion.get("between")
    if not (
        isinstance(between, list | tuple)
        and len(between) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in between)
    ):
        return "between", str(_("Give two step numbers, e.g. [1, 2]."))
    a, b = between
    if not 1 <= a < b <= len(steps):
        return "between", str(_("Use two steps a < b between 1 and %(n)d.") % {"n": len(steps)})
    feature, action, detail = (str(exclusion.get(part) or "") for part in ("feature", "action", "detail"))
    try:
        feature_resolve(workspace=workspace, key=feature, action=action, detail=detail)
    except UnknownStep as exc:
        return exc.field, str(exc)
    for k in range(a, b + 1):
        step = steps[k - 1]
        if (
            step.get("feature") == feature
            and (not action or action == step.get("action"))
            and (not detail or detail == (step.get("detail") or ""))
        ):
            return "feature", str(
                _("This exclusion matches every event of step %(k)d, so it would void every attempt.") % {"k": k}
            )
    return None


class Funnel(SavedConfig):
    """A saved funnel: its definition, its default range, its owner and who may see it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="funnels")
    name = models.CharField(_("name"), max_length=200)
    steps = models.JSONField(_("steps"), default=list, help_text=_('[{"feature", "action", "detail"}, …], 2 to 10.'))
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices, default=Unit.USER)
    window_days = models.PositiveIntegerField(
        _("conversion window (days)"),
        default=DEFAULT_WINDOW_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_DAYS)],
    )
    order = models.CharField(_("order"), max_length=16, choices=Order.choices, default=Order.ORDERED)
    exclusions = models.JSONField(
        _("exclusion steps"),
        default=list,
        blank=True,
        help_text=_(
            '[{"feature", "action", "detail", "between": [a, b]}, …]: an event between steps a and b voids the attempt.'
        ),
    )
    # The default range: fixed dates, or (both empty) the last ``range_days`` days ending today.
    range_start = models.DateField(_("range start"), null=True, blank=True)
    range_end = models.DateField(_("range end"), null=True, blank=True)
    range_days = models.PositiveIntegerField(
        _("range length (days)"),
        default=DEFAULT_RANGE_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(731)],
        help_text=_("Used when no fixed start and end are set: the last N days, ending today."),
    )
    filters = models.JSONField(_("user filters"), default=dict, blank=True, help_text=_('{"country": ["CN"], …}'))
    breakdown = models.CharField(_("breakdown"), max_length=32, blank=True, default="")
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    # A funnel outlives its owner (shared ones keep serving the workspace).
    owner = models.ForeignKey(  # type: ignore[assignment]
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="funnels"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["workspace", "visibility"], name="funnel_ws_visibility")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The checks the API makes, for the admin form too: 2–10 known steps, a known breakdown,
        valid user filters and a consistent default range."""
        super().clean()  # the owner is a member of the workspace
        errors: dict[str, list[str]] = {}
        steps = self.steps
        if not isinstance(steps, list) or not MIN_STEPS <= len(steps) <= MAX_STEPS:
            errors["steps"] = [str(_("A funnel has 2 to 10 steps."))]
        elif self.workspace_id is not None:
            for index, step in enumerate(steps, start=1):
                if not isinstance(step, dict) or not step.get("feature") or not step.get("action"):
                    errors.setdefault("steps", []).append(
                        str(_("Step %(n)d needs a feature and an action.") % {"n": index})
                    )
                    continue
                try:
                    feature_resolve(
                        workspace=self.workspace,
                        key=str(step["feature"]),
                        action=str(step["action"]),
                        detail=str(step.get("detail") or ""),
                    )
                except UnknownStep as exc:
                    errors.setdefault("steps", []).append(f"{_('Step')} {index}: {exc}")
        if "steps" not in errors and self.workspace_id is not None:
            exclusions = self.exclusions
            if not isinstance(exclusions, list) or len(exclusions) > MAX_EXCLUSIONS:
                errors["exclusions"] = [str(_("At most %(n)d exclusion steps, as a list.") % {"n": MAX_EXCLUSIONS})]
            else:
                for index, exclusion in enumerate(exclusions, start=1):
                    problem = (
                        exclusion_problem(workspace=self.workspace, steps=steps, exclusion=exclusion)
                        if isinstance(exclusion, dict)
                        else ("feature", str(_("An exclusion is an object.")))
                    )
                    if problem:
                        errors.setdefault("exclusions", []).append(f"{_('Exclusion')} {index}: {problem[1]}")
        if self.breakdown and self.breakdown not in GROUP_BY_ATTRIBUTES:
            errors["breakdown"] = [str(_("Break down by one of: %s.") % ", ".join(GROUP_BY_ATTRIBUTES))]
        if not isinstance(self.filters, dict):
            errors["filters"] = [str(_('User filters are an object such as {"country": ["CN"]}.'))]
        else:
            try:
                self.filters = user_filters_from(self.filters)
            except ValidationError as exc:
                errors["filters"] = [str(m) for m in exc.messages]
        if (self.range_start is None) != (self.range_end is None):
            errors["range_end" if self.range_end is None else "range_start"] = [
                str(_("Give both the start and the end of the range, or neither."))
            ]
        elif self.range_start and self.range_end:
            try:
                period_between(self.range_start, self.range_end, zoneinfo.ZoneInfo("UTC"))
            except RangeError as exc:
                errors[f"range_{exc.field}"] = [str(exc)]
        if errors:
            raise ValidationError(errors)

    def default_period(self, today: date | None = None) -> Period:
        """The range the cached result covers: the fixed dates, or the last ``range_days`` days."""
        tz = self.workspace.tzinfo
        if self.range_start and self.range_end:
            return Period(self.range_start, self.range_end, tz)
        end = today or self.workspace.today()
        return Period(end - timedelta(days=self.range_days - 1), end, tz)

    def definition(self) -> dict[str, Any]:
        """What the numbers depend on (besides the range and the events)."""
        return {
            "steps": [
                {"feature": s["feature"], "action": s["action"], "detail": s.get("detail") or ""} for s in self.steps
            ],
            "unit": self.unit,
            "window_days": self.window_days,
            "order": self.order,
            "filters": {k: sorted(v) for k, v in sorted((self.filters or {}).items()) if v},
            "breakdown": self.breakdown,
            # Only when set, so the signatures of funnels saved before exclusions existed still hold.
            **({"exclusions": self.exclusions} if self.exclusions else {}),
        }

    def signature(self) -> str:
        """A digest of ``definition()``: a cached result is only served for the definition it was made for."""
        text = json.dumps(self.definition(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


class FunnelResult(models.Model):
    """The precomputed result of a saved funnel over its default range (one per funnel).

    ``stale`` is set when events arrive for days the result depends on (its range up to the end plus
    the window); the next refresh task recomputes it once, however many batches arrived meanwhile.
    """

    funnel = models.OneToOneField(Funnel, on_delete=models.CASCADE, related_name="result")
    range_start = models.DateField()
    range_end = models.DateField()
    signature = models.CharField(max_length=64)
    payload = models.JSONField(help_text=_('{"steps": [...], "breakdown": [...]}, as the API returns it.'))
    computed_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    stale = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["stale"], name="funnelresult_stale")]

    def __str__(self) -> str:
        return f"{self.funnel} {self.range_start}–{self.range_end} at {self.computed_at:%Y-%m-%d %H:%M}"
