"""The admin as configuration UI: creating a workspace shows its key once; changing its time zone
recomputes the rollups."""

from __future__ import annotations

from datetime import date

import pytest

from events.models import CrmUser, FeatureDay, UserDay
from tenancy.models import IngestKey, Workspace
from tests.conftest import journeys

pytestmark = pytest.mark.django_db


def test_adding_a_workspace_issues_a_key_shown_once(admin_client):
    response = admin_client.post(
        "/admin/tenancy/workspace/add/",
        {
            "name": "Acme",
            "slug": "acme",
            "timezone": "Europe/Berlin",
            "session_timeout_minutes": 15,
            "currency": "EUR",
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
            "ingest_keys-TOTAL_FORMS": 0,
            "ingest_keys-INITIAL_FORMS": 0,
        },
        follow=True,
    )
    assert response.status_code == 200
    workspace = Workspace.objects.get(slug="acme")
    assert workspace.currency == "EUR"
    key = IngestKey.objects.get(workspace=workspace)
    shown = [str(m) for m in response.context["messages"] if "ik_" in str(m)]
    assert len(shown) == 1
    raw = shown[0].rsplit(" ", 1)[-1]
    assert IngestKey.digest_of(raw) == key.digest


def test_a_bad_time_zone_is_refused_with_a_message(admin_client):
    response = admin_client.post(
        "/admin/tenancy/workspace/add/",
        {
            "name": "Acme",
            "slug": "acme",
            "timezone": "Mars/Base",
            "session_timeout_minutes": 15,
            "currency": "USD",
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
            f"/admin/tenancy/workspace/{workspace.pk}/change/",
            {
                "name": workspace.name,
                "slug": workspace.slug,
                "timezone": "Asia/Shanghai",
                "session_timeout_minutes": 15,
                "currency": "USD",
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


@pytest.mark.parametrize(
    "page", ["tenancy/workspace", "events/crmuser", "events/feature", "tenancy/ingestkey", "tenancy/membership"]
)
def test_admin_lists_open(admin_client, workspace, page):
    journeys(workspace, [("u1", "2025-10-04T20:00:00+00:00", "Leads", "view")])
    assert admin_client.get(f"/admin/{page}/").status_code == 200


def test_a_crm_user_goes_only_by_erasure_which_recounts_the_feature_days(admin_client, workspace):
    journeys(
        workspace,
        [
            ("gone", "2025-10-06T09:00:00+00:00", "Leads", "view"),
            ("stays", "2025-10-06T10:00:00+00:00", "Leads", "view"),
        ],
    )
    gone = CrmUser.objects.get(external_id="gone")
    # No plain delete (it would leave the day's users counting "gone"): neither the page nor the action.
    assert admin_client.get(f"/admin/events/crmuser/{gone.pk}/delete/").status_code == 403
    page = admin_client.get("/admin/events/crmuser/")
    assert "delete_selected" not in page.content.decode() and 'value="erase"' in page.content.decode()
    response = admin_client.post(
        "/admin/events/crmuser/", {"action": "erase", "_selected_action": [gone.pk]}, follow=True
    )
    assert response.status_code == 200 and not CrmUser.objects.filter(external_id="gone").exists()
    leads = FeatureDay.objects.get(workspace=workspace, day=date(2025, 10, 6))
    # "stays" was numbered 1, after "gone".
    assert (leads.events, leads.users, bytes(leads.user_bits)) == (1, 1, b"\x02")
