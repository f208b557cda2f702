"""manage.py seed_demo: the demo workspace with data in every area."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from events.models import CrmUser, DirtyDay, Event, Feature, UserDay
from tenancy.models import Membership, Workspace
from tests.conftest import run

pytestmark = pytest.mark.django_db


# --- seed_demo -------------------------------------------------------------------------------------


def test_seed_demo_small() -> None:
    lines, _ = run("seed_demo", "--users", "20", "--days", "14", "--events", "3000")

    workspace = Workspace.objects.get(slug="zylker")
    assert (workspace.name, workspace.timezone) == ("Zylker Corp", "Asia/Shanghai")
    features = Feature.objects.filter(workspace=workspace)
    assert set(features.values_list("type", flat=True)) == set(Feature.Type.values)
    assert not features.filter(auto_created=True).exists()
    assert CrmUser.objects.filter(workspace=workspace).count() == 20
    events = Event.objects.filter(workspace=workspace)
    assert events.count() == 3000
    today = workspace.today()
    days = {workspace.local_date(t) for t in events.values_list("occurred_at", flat=True)}
    assert min(days) >= today - timedelta(days=13) and max(days) <= today
    assert not events.filter(occurred_at__gt=timezone.now()).exists()
    assert UserDay.objects.filter(workspace=workspace).exists()
    assert not DirtyDay.objects.filter(workspace=workspace).exists()

    created = dict(events.filter(feature__key="Leads", action="create").values_list("record_id", "occurred_at"))
    converts = list(events.filter(feature__key="Leads", action="convert").values_list("record_id", "occurred_at"))
    assert converts
    for record_id, moment in converts:
        assert record_id in created and created[record_id] < moment

    # what the operations came to: every device and outcome present, codes only with failures, and
    # the incident: Deals from 10:00 to 12:00 local, three days ago, fails far more often than usual
    assert set(events.values_list("device", flat=True)) == {"desktop", "mobile", "tablet", "api"}
    assert set(events.values_list("outcome", flat=True)) == {"", "success", "failure"}
    assert not events.exclude(outcome="failure").exclude(error_code="").exists()
    assert not events.filter(outcome="failure", error_code="").exists()
    failure_share = events.filter(outcome="failure").count() / events.exclude(outcome="").count()
    assert 0.01 < failure_share < 0.06
    assert events.filter(duration_ms__isnull=False).count() > 0.9 * 3000
    incident_day = today - timedelta(days=3)
    deals = [
        (outcome, error_code)
        for moment, outcome, error_code in events.filter(feature__key="Deals").values_list(
            "occurred_at", "outcome", "error_code"
        )
        if workspace.local_date(moment) == incident_day and 10 <= moment.astimezone(workspace.tzinfo).hour < 12
    ]
    if deals:  # 20 users over 14 days: usually some Deals then, always failing at the incident's rate
        assert all(code in ("", "E_TIMEOUT") for _, code in deals)

    # the admin login printed last works
    assert lines[-1].startswith("Admin login: http://127.0.0.1:8000/  user: admin  password: ")
    password = lines[-1].rsplit(" ", 1)[-1]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    assert Membership.objects.get(workspace=workspace, user=admin).role == Membership.Role.ADMIN

    # section 8: a shared board whose every tile answers, a launch note, an alert and a weekly report
    # whose slot already past is not sent by the fresh demo
    from alerts.models import Alert
    from dashboards.models import Annotation, Dashboard
    from dashboards.selectors import dashboard_data
    from reports.models import ReportSchedule
    from reports.schedules import send_due

    board = Dashboard.objects.get(workspace=workspace)
    data = dashboard_data(board, admin)
    assert len(data["tiles"]) == 4 and {tile["status"] for tile in data["tiles"]} == {200}
    assert Annotation.objects.get(workspace=workspace).date == today - timedelta(days=14)
    assert data["annotations"][0]["text"] == "Lead scoring rolled out"
    assert Alert.objects.filter(workspace=workspace, state="ok").count() == 1
    assert ReportSchedule.objects.filter(workspace=workspace).count() == 1
    assert send_due(timezone.now()) == []

    # again: the data is kept, the password is reset
    lines, _ = run("seed_demo", "--users", "20", "--days", "14", "--events", "3000")
    assert any("already exists" in line for line in lines)
    assert Event.objects.filter(workspace=workspace).count() == 3000
    new_password = lines[-1].rsplit(" ", 1)[-1]
    admin.refresh_from_db()
    assert new_password != password and admin.check_password(new_password)

    # --reset regenerates
    run("seed_demo", "--users", "5", "--days", "3", "--events", "200", "--reset")
    workspace = Workspace.objects.get(slug="zylker")
    assert Event.objects.filter(workspace=workspace).count() == 200
    assert CrmUser.objects.filter(workspace=workspace).count() == 5
