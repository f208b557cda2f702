"""Writes of the Accounts tab: saving and deleting segments (audited, like every saved configuration)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Segment
from tenancy.models import Workspace
from tenancy.services import audit_saved_config, field_values


@transaction.atomic
def segment_save(*, workspace: Workspace, actor: Any, segment: Segment | None, values: dict[str, Any]) -> Segment:
    """Create (``segment`` None, owned by ``actor``) or update a segment with validated ``values``
    (``name``, ``visibility``, ``filters`` in their saved form); the audit trail records it."""
    before = field_values(segment) if segment is not None else None
    saved = segment if segment is not None else Segment(workspace=workspace, owner=actor)
    for name, value in values.items():
        setattr(saved, name, value)
    saved.save()
    audit_saved_config(actor=actor, instance=saved, before=before)
    return saved


@transaction.atomic
def segment_delete(*, actor: Any, segment: Segment) -> None:
    audit_saved_config(actor=actor, instance=segment, before=None, deleted=True)
    segment.delete()
