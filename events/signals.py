"""Signals of the events area.

``rollups_refreshed`` is sent after a transaction that changed a workspace's rollups commits, with
``workspace_id`` and either ``days`` (the local days recomputed, ISO dates) or ``everything=True``
(a full rebuild). Areas that precompute from the rollups (saved funnels, saved filter sets) listen
and queue their own refresh; the events area does not need to know them.
"""

from django.dispatch import Signal

rollups_refreshed = Signal()
