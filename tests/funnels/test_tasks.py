"""Precomputed results of saved funnels: computed on save, recomputed once after new events for
their range, served from the cache while fresh."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from funnels import services
from funnels.models import Funnel, FunnelResult
from funnels.tasks import refresh_funnel_results_task, refresh_stale_funnels_task
from tenancy.models import Membership
from tests.conftest import journeys

pytestmark = pytest.mark.django_db

STEPS = [
    {"feature": "Leads", "action": "create", "detail": ""},
    {"feature": "Leads", "action": "convert", "detail": ""},
]


@pytest.fixture
def funnel(workspace, django_capture_on_commit_callbacks):
    journeys(
        workspace,
        [
            ("u1", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("u2", "2025-03-04T09:00:00+00:00", "Leads", "create"),
            ("u1", "2025-03-04T10:00:00+00:00", "Leads", "convert"),
        ],
    )
    owner = get_user_model().objects.create_user("ana")
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.ANALYST)  # an owner is a member
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        funnel = services.funnel_create(
            workspace=workspace,
            owner=owner,
            data={
                "name": "Create → convert",
                "steps": STEPS,
                "window_days": 7,
                "range_start": date(2025, 3, 3),
                "range_end": date(2025, 3, 9),
            },
        )
    assert len(callbacks) == 1  # the results task, enqueued once the funnel is committed
    return funnel


def counts(result: FunnelResult) -> list[int]:
    return [s["count"] for s in result.payload["steps"]]


def test_saving_computes_and_stores_the_result(funnel):
    result = FunnelResult.objects.get(funnel=funnel)
    assert counts(result) == [2, 1]
    assert (result.range_start, result.range_end) == (date(2025, 3, 3), date(2025, 3, 9))
    assert timezone.now() - result.computed_at < timedelta(minutes=1)
    assert result.signature == funnel.signature() and not result.stale


def test_new_events_in_the_range_make_one_recomputation(funnel, workspace):
    before = FunnelResult.objects.get(funnel=funnel).computed_at
    # Two batches for days of the range (Mar 9 + 7 days of window is still covered: Mar 16).
    journeys(workspace, [("u2", "2025-03-05T09:00:00+00:00", "Leads", "convert")], refresh=False)
    journeys(workspace, [("u3", "2025-03-09T09:00:00+00:00", "Leads", "create")], refresh=False)
    recomputed = refresh_stale_funnels_task.delay(workspace.id, ["2025-03-05", "2025-03-09"]).get()
    assert recomputed == 1
    result = FunnelResult.objects.get(funnel=funnel)
    assert counts(result) == [3, 2] and result.computed_at > before and not result.stale
    # Nothing is stale any more: a refresh of no day recomputes nothing.
    assert refresh_stale_funnels_task.delay(workspace.id, []).get() == 0


def test_days_after_the_range_and_window_do_not_recompute(funnel, workspace):
    before = FunnelResult.objects.get(funnel=funnel).computed_at
    assert refresh_stale_funnels_task.delay(workspace.id, ["2025-03-17", "2025-03-02"]).get() == 0
    assert refresh_stale_funnels_task.delay(workspace.id, ["2025-03-16"]).get() == 1  # last day of the window
    assert FunnelResult.objects.get(funnel=funnel).computed_at > before


def test_without_days_events_received_since_the_computation_decide(funnel, workspace):
    assert refresh_stale_funnels_task.delay(workspace.id).get() == 0
    journeys(workspace, [("u2", "2025-03-06T09:00:00+00:00", "Leads", "convert")], refresh=False)
    assert refresh_stale_funnels_task.delay(workspace.id).get() == 1
    assert counts(FunnelResult.objects.get(funnel=funnel)) == [2, 2]


def test_everything_after_a_full_rebuild(funnel, workspace):
    before = FunnelResult.objects.get(funnel=funnel).computed_at
    assert refresh_stale_funnels_task.delay(workspace.id, everything=True).get() == 1
    assert FunnelResult.objects.get(funnel=funnel).computed_at > before


def test_enqueued_after_the_rollup_refresh_it_runs_once(funnel, workspace, django_capture_on_commit_callbacks):
    """How events.tasks is to call it: on commit, with the days the rollup refresh rebuilt."""
    from django.db import transaction

    journeys(workspace, [("u2", "2025-03-05T09:00:00+00:00", "Leads", "convert")], refresh=False)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        transaction.on_commit(lambda: refresh_stale_funnels_task.delay(workspace.id, ["2025-03-05"]))
    assert len(callbacks) == 1
    assert counts(FunnelResult.objects.get(funnel=funnel)) == [2, 2]


def test_a_stale_result_is_claimed_by_one_worker_only(funnel):
    FunnelResult.objects.filter(funnel=funnel).update(stale=True)
    assert services.funnel_refresh_if_stale(funnel_id=funnel.pk) is True
    assert services.funnel_refresh_if_stale(funnel_id=funnel.pk) is False


def test_a_failed_computation_leaves_the_result_stale(funnel, monkeypatch):
    FunnelResult.objects.filter(funnel=funnel).update(stale=True)

    def boom(query):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "funnel_compute", boom)
    with pytest.raises(RuntimeError):
        services.funnel_refresh_if_stale(funnel_id=funnel.pk)
    assert FunnelResult.objects.get(funnel=funnel).stale is True


def test_the_refresh_task_of_a_deleted_funnel_is_harmless(funnel, workspace):
    funnel_id = funnel.pk
    funnel.delete()
    assert refresh_funnel_results_task.delay(funnel_id).get() is False
    assert refresh_stale_funnels_task.delay(workspace.id + 1000).get() == 0


def test_a_relative_range_follows_today(workspace, time_machine):
    time_machine.move_to("2025-03-10T12:00:00+00:00")
    journeys(workspace, [("u1", "2025-03-09T09:00:00+00:00", "Leads", "create")])
    funnel = Funnel.objects.create(workspace=workspace, name="Last week", steps=STEPS, range_days=7)
    data, result, cached = services.funnel_saved_results(funnel=funnel)
    assert (result.range_start, result.range_end, cached) == (date(2025, 3, 4), date(2025, 3, 10), False)
    assert services.funnel_saved_results(funnel=funnel)[2] is True
    time_machine.move_to("2025-03-17T12:00:00+00:00")  # a week later: the cached range is not today's
    data, result, cached = services.funnel_saved_results(funnel=funnel)
    assert (result.range_start, cached, data.entered) == (date(2025, 3, 11), False, 0)


def test_at_most_the_limit_of_stale_results_is_recomputed_the_most_recently_changed(funnel, workspace, settings):
    settings.PRECOMPUTE_LIMIT = 1
    newer = services.funnel_create(
        workspace=workspace,
        owner=funnel.owner,
        data={"name": "Newer", "steps": STEPS, "range_start": date(2025, 3, 3), "range_end": date(2025, 3, 9)},
    )
    services.funnel_results_refresh(funnel=newer)
    journeys(workspace, [("u2", "2025-03-05T09:00:00+00:00", "Leads", "convert")], refresh=False)
    assert refresh_stale_funnels_task.delay(workspace.id, ["2025-03-05"]).get() == 1
    stale = dict(FunnelResult.objects.values_list("funnel_id", "stale"))
    assert stale == {newer.pk: False, funnel.pk: True}
    # The one left stale is recomputed on its next view.
    data, _stored, cached = services.funnel_saved_results(funnel=funnel)
    assert not cached and [s.count for s in data.steps] == [2, 2]


def test_in_process_new_events_only_mark_results_stale(funnel, workspace, django_capture_on_commit_callbacks, settings):
    """Without a broker the rollup refresh runs inside the ingest request: the saved funnels it
    touches are marked stale there (cheap) and recompute on their next view, not in the request."""
    from events.tasks import refresh_rollups_task

    settings.PRECOMPUTE_AFTER_REFRESH = False  # its default without a broker (the PostgreSQL pass has one)

    before = FunnelResult.objects.get(funnel=funnel).computed_at
    journeys(workspace, [("u2", "2025-03-05T09:00:00+00:00", "Leads", "convert")], refresh=False)
    with django_capture_on_commit_callbacks(execute=True):
        refresh_rollups_task.delay(workspace.id).get()
    result = FunnelResult.objects.get(funnel=funnel)
    assert result.stale and result.computed_at == before
    data, _stored, cached = services.funnel_saved_results(funnel=funnel)
    assert not cached and [s.count for s in data.steps] == [2, 2]
