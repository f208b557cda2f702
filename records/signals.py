"""Receivers of the records area: a workspace whose day boundaries moved gets its records' local
dates and aggregates recomputed (``records.tasks``)."""

from tenancy.signals import day_boundaries_changed


def _connect() -> None:
    from records.tasks import rebuild_on_day_boundaries

    day_boundaries_changed.connect(rebuild_on_day_boundaries, dispatch_uid="records-rebuild-on-day-boundaries")


_connect()
