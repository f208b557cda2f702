"""Signals of the Funnels area.

``funnel_saved`` (with ``funnel_id``) is sent once a created or changed saved funnel is committed;
``funnels.tasks`` queues the computation of its results. Services announce, tasks react: the
services never import the tasks that call them.
"""

from django.dispatch import Signal

funnel_saved = Signal()
