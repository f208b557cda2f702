"""Dashboards (boards of pinned charts), their share links, and annotations (DESIGN.md section 8).

A tile is one GET endpoint of the workspace API with its query, so a board shows exactly what the
tab it was pinned from shows; the board's period and filters are laid over each tile's query when it
is read (``dashboards.services``)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenancy.models import SavedConfig, Workspace


class Dashboard(SavedConfig):
    """A saved board: owner and visibility as a funnel's, a shared period and user filters."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="dashboards")
    description = models.TextField(_("description"), blank=True, default="")
    # The shared period: both set (fixed dates overriding every tile's), or both empty (each tile's own).
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    filters = models.JSONField(_("user filters"), default=dict, blank=True, help_text=_('{"country": ["CN"], …}'))

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["workspace", "visibility"], name="dashboard_ws_visibility")]

    @property
    def period(self) -> dict[str, date] | None:
        """The shared period as the API writes it, or None (each tile keeps its own)."""
        if self.period_start and self.period_end:
            return {"start": self.period_start, "end": self.period_end}
        return None


class Tile(models.Model):
    """One chart or table on a board: ``endpoint`` is a GET path of the workspace API (``home/summary``,
    ``funnels/5/results``…) and ``query`` its parameters, as pinned."""

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="tiles")
    title = models.CharField(_("title"), max_length=200)
    endpoint = models.CharField(_("endpoint"), max_length=200)
    query = models.JSONField(_("query"), default=dict, blank=True)
    # The tab's chart (its chart JSON URL name) the tile was pinned from: an endpoint may answer several
    # charts (perception/voice: sentiment, intents…), and the board draws the one pinned. Blank for a
    # tile given through the API: the endpoint's usual chart (``services.ENDPOINT_CHARTS``), if any.
    chart = models.CharField(_("chart"), max_length=100, blank=True, default="")
    x = models.PositiveSmallIntegerField(default=0)
    y = models.PositiveSmallIntegerField(default=0)
    w = models.PositiveSmallIntegerField(default=6)
    h = models.PositiveSmallIntegerField(default=4)

    class Meta:
        ordering = ["y", "x", "id"]

    def __str__(self) -> str:
        return self.title


class ShareLink(models.Model):
    """A read-only, expiring, revocable link to one board. Only a digest of the token is kept."""

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="share_links")
    token_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.dashboard} ({self.expires_at:%Y-%m-%d})"


class Annotation(models.Model):
    """A note on a date or a range of dates, drawn on every time axis of its workspace (or of one
    board only)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="annotations")
    dashboard = models.ForeignKey(
        Dashboard, on_delete=models.CASCADE, null=True, blank=True, related_name="annotations"
    )
    date = models.DateField(_("date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    text = models.CharField(_("text"), max_length=500)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["workspace", "date"], name="annotation_ws_date")]

    def __str__(self) -> str:
        return self.text
