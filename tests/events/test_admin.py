"""The admin as configuration UI: creating a workspace shows its key once; changing its time zone
recomputes the rollups."""

from __future__ import annotations

from datetime import date

import pytest

from events.models import IngestKey, UserDay, Workspace
from tests.conftest import journeys

pytestmark = pytest.mark.django_db


def test_adding_a_workspace_issues_a_key_shown_once(admin_client):
    response = admin_client.post(
        "/admin/events/workspace/add/",
        {
            "name": "Acme",
            "slug": "acme",
            "timezone": "Europe/Berlin",
            "session_timeout_minutes": 15,
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
            "ingest_keys-TOTAL_FORMS": 0,
            "ingest_keys-INITIAL_FORMS": 0,
        },
        follow=True,
    )
    assert response.status_code == 200
    workspace = Workspace.objects.get(slug="acme")
    key = IngestKey.objects.get(workspace=workspace)
    shown = [str(m) for m in response.context["messages"] if "ik_" in str(m)]
    assert len(shown) == 1
    raw = shown[0].rsplit(" ", 1)[-1]
    assert IngestKey.digest_of(raw) == key.digest


def test_a_bad_time_zone_is_refused_with_a_message(admin_client):
    response = admin_client.post(
        "/admin/events/workspace/add/",
        {
            "name": "Acme",
            "slug": "acme",
            "timezone": "Mars/Base",
            "session_timeout_minutes": 15,
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
            "ingest_keys-TOTAL_FORMS": 0,
            "ingest_keys-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "IANA" in response.content.decode()
    assert not Workspace.objects.exists()


def test_changing_the_time_zone_recomputes_the_rollups(admin_client, workspace, django_capture_on_commit_callbacks):
    journeys(workspace, [("u1", "2025-10-04T20:00:00+00:00", "Leads", "view")])
    assert list(UserDay.objects.values_list("day", flat=True)) == [date(2025, 10, 4)]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/events/workspace/{workspace.pk}/change/",
            {
                "name": workspace.name,
                "slug": workspace.slug,
                "timezone": "Asia/Shanghai",
                "session_timeout_minutes": 15,
                "memberships-TOTAL_FORMS": 0,
                "memberships-INITIAL_FORMS": 0,
                "ingest_keys-TOTAL_FORMS": 1,
                "ingest_keys-INITIAL_FORMS": 1,
                "ingest_keys-0-id": IngestKey.objects.get().pk,
                "ingest_keys-0-workspace": workspace.pk,
                "ingest_keys-0-label": "default",
            },
        )
    assert response.status_code == 302
    # 20:00 UTC on Oct 4 is 04:00 on Oct 5 in Shanghai.
    assert list(UserDay.objects.values_list("day", flat=True)) == [date(2025, 10, 5)]


@pytest.mark.parametrize("page", ["workspace", "crmuser", "feature", "ingestkey", "membership"])
def test_admin_lists_open(admin_client, workspace, page):
    journeys(workspace, [("u1", "2025-10-04T20:00:00+00:00", "Leads", "view")])
    assert admin_client.get(f"/admin/events/{page}/").status_code == 200
