"""The Accounts tab's saved segments as the other tabs use them (``records.segments``, registered by the
app's ``ready``): found by id or listed for a person, each with its accounts now."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from accounts.models import Segment
from accounts.queries import segment_list_query
from accounts.selectors import account_rows
from core.queries import QueryInvalid
from records.models import Account
from records.segments import SegmentRef
from tenancy.models import SavedConfig, Workspace


def segment_refs(workspace: Workspace, viewer: Any, pk: int | None, limit: int) -> list[SegmentRef]:
    """The workspace's segments ``viewer`` may see (no viewer: the shared ones), by name, at most
    ``limit`` (only segment ``pk`` when given)."""
    rows = Segment.objects.filter(workspace=workspace)
    shared = rows.filter(visibility=SavedConfig.Visibility.WORKSPACE)
    rows = shared if viewer is None else rows.visible_to(viewer)
    if pk is not None:
        rows = rows.filter(pk=pk)
    return [_ref(workspace, segment) for segment in rows.order_by("name", "pk")[:limit]]


def _ref(workspace: Workspace, segment: Segment) -> SegmentRef:
    try:
        query = segment_list_query(workspace, segment.stored_filters, {})
    except QueryInvalid as exc:
        details = "; ".join(f"{key}: {' '.join(map(str, messages))}" for key, messages in exc.errors.items())
        problem = _("The segment's filters no longer hold (%(details)s).") % {"details": details}
        return SegmentRef(segment.pk, segment.name, Account.objects.none().values("pk"), problem)
    return SegmentRef(segment.pk, segment.name, account_rows(query).order_by().values("pk"))
