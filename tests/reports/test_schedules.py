"""Scheduled reports (API.md ``report-schedules/``, ``send_scheduled_reports``; docs/scheduled-reports.md):
slots in the workspace's time zone, one email per slot and no catch-up, what the email holds, the
unsubscribe link, the API's rules and 400s, two workspaces."""

from __future__ import annotations

import base64
import re
import zlib
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.core.management import CommandError, call_command
from django.test import Client
from django.test.utils import override_settings

from events.periods import Period
from reports.models import ReportSchedule
from reports.schedules import UNSUBSCRIBE_SALT, latest_slot, report_period, unsubscribe_token
from tenancy.models import Membership, Workspace
from tests.conftest import journeys, run

pytestmark = pytest.mark.django_db

API = "/api/v1/workspaces/sr/report-schedules/"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def pdf_text(pdf: bytes) -> str:
    """The text drawn in a ReportLab PDF: its content streams, decoded (no PDF library is installed)."""
    out = []
    for match in re.finditer(rb"/Filter \[([^\]]*)\][^>]*>>\s*stream\r?\n(.*?)endstream", pdf, re.S):
        filters, data = match.group(1), match.group(2).strip()
        if b"ASCII85Decode" in filters:
            data = base64.a85decode(data.removesuffix(b"~>"))
        if b"FlateDecode" in filters:
            data = zlib.decompress(data)
        out.append(data.decode("latin-1"))
    return "\n".join(out)


def schedule_in(tz: str, **fields: Any) -> ReportSchedule:
    """An unsaved schedule of a workspace in ``tz`` (slots need only the workspace's time zone)."""
    return ReportSchedule(workspace=Workspace(slug="x", timezone=tz), **fields)


# --- Slots (hand-checked instants) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "now", "slot"),
    [
        # Asia/Shanghai is UTC+8: 09:00 local = 01:00 UTC.
        ({"frequency": "daily", "hour": 9}, "2025-03-21T00:59:59+00:00", "2025-03-20T01:00:00+00:00"),
        ({"frequency": "daily", "hour": 9}, "2025-03-21T01:00:00+00:00", "2025-03-21T01:00:00+00:00"),
        # 00:00 local on the 21st is 16:00 UTC on the 20th.
        ({"frequency": "daily", "hour": 0}, "2025-03-20T16:00:00+00:00", "2025-03-20T16:00:00+00:00"),
        # Weekly on Monday (2025-03-17 and 03-10 are Mondays) at 08:00 local = 00:00 UTC.
        ({"frequency": "weekly", "weekday": 1, "hour": 8}, "2025-03-19T12:00:00+00:00", "2025-03-17T00:00:00+00:00"),
        ({"frequency": "weekly", "weekday": 1, "hour": 8}, "2025-03-16T23:59:00+00:00", "2025-03-10T00:00:00+00:00"),
        # Sunday (7), 23:00 local = 15:00 UTC.
        ({"frequency": "weekly", "weekday": 7, "hour": 23}, "2025-03-19T12:00:00+00:00", "2025-03-16T15:00:00+00:00"),
        # Monthly on the 31st: April has 30 days, so its slot is 30 April; before it, 31 March.
        ({"frequency": "monthly", "day": 31, "hour": 9}, "2025-04-30T01:00:00+00:00", "2025-04-30T01:00:00+00:00"),
        ({"frequency": "monthly", "day": 31, "hour": 9}, "2025-04-30T00:59:00+00:00", "2025-03-31T01:00:00+00:00"),
        # February: the 28th (2025), the 29th in a leap year (2024).
        ({"frequency": "monthly", "day": 31, "hour": 9}, "2025-03-30T00:00:00+00:00", "2025-02-28T01:00:00+00:00"),
        ({"frequency": "monthly", "day": 30, "hour": 9}, "2024-03-29T00:00:00+00:00", "2024-02-29T01:00:00+00:00"),
        ({"frequency": "monthly", "day": 1, "hour": 0}, "2025-04-15T00:00:00+00:00", "2025-03-31T16:00:00+00:00"),
    ],
)
def test_slots_in_shanghai(fields, now, slot) -> None:
    assert latest_slot(schedule_in("Asia/Shanghai", **fields), at(now)) == at(slot)


@pytest.mark.parametrize(
    ("hour", "now", "slot"),
    [
        # Berlin: winter UTC+1, summer UTC+2 from 2025-03-30 02:00 (skipped) and to 2025-10-26 03:00.
        (9, "2025-03-30T06:59:00+00:00", "2025-03-29T08:00:00+00:00"),  # 09:00 CET the day before
        (9, "2025-03-30T07:00:00+00:00", "2025-03-30T07:00:00+00:00"),  # 09:00 CEST on the change day
        (9, "2025-10-26T08:00:00+00:00", "2025-10-26T08:00:00+00:00"),  # 09:00 CET again
        (9, "2025-10-26T07:59:00+00:00", "2025-10-25T07:00:00+00:00"),
        # 02:00 does not exist on 30 March: sent at 03:00 summer time (01:00 UTC).
        (2, "2025-03-30T01:00:00+00:00", "2025-03-30T01:00:00+00:00"),
        (2, "2025-03-30T00:59:00+00:00", "2025-03-29T01:00:00+00:00"),
    ],
)
def test_slots_across_daylight_saving_time(hour, now, slot) -> None:
    assert latest_slot(schedule_in("Europe/Berlin", frequency="daily", hour=hour), at(now)) == at(slot)


def test_what_the_analysis_report_covers() -> None:
    tz = Workspace(timezone="UTC").tzinfo
    assert report_period("daily", date(2025, 3, 21), tz) == Period(date(2025, 2, 19), date(2025, 3, 20), tz)
    # Weekly: the Monday–Sunday week before the slot's week (a Wednesday's slot leaves out its Monday).
    assert report_period("weekly", date(2025, 3, 19), tz) == Period(date(2025, 3, 10), date(2025, 3, 16), tz)
    assert report_period("weekly", date(2025, 3, 24), tz) == Period(date(2025, 3, 17), date(2025, 3, 23), tz)
    assert report_period("monthly", date(2025, 3, 1), tz) == Period(date(2025, 2, 1), date(2025, 2, 28), tz)
    assert report_period("monthly", date(2025, 1, 31), tz) == Period(date(2024, 12, 1), date(2024, 12, 31), tz)


# --- Sending -----------------------------------------------------------------------------------


@pytest.fixture
def ws(make_workspace):
    """Week of 10–16 March 2025: 1 interaction by u1; week of 17–23 March: 4 by u1 and u2."""
    workspace, _ = make_workspace("sr", tz="UTC")
    journeys(workspace, [
        ("u1", "2025-03-11T10:00:00Z", "Leads", "view"),
        ("u1", "2025-03-17T10:00:00Z", "Leads", "view"),
        ("u1", "2025-03-18T10:00:00Z", "Leads", "view"),
        ("u1", "2025-03-19T10:00:00Z", "Leads", "view"),
        ("u2", "2025-03-18T11:00:00Z", "Deals", "edit"),
    ])  # fmt: skip
    other, _ = make_workspace("other", tz="UTC")
    journeys(other, [("x", "2025-03-18T10:00:00Z", "Secret", "view")])
    return workspace


@pytest.fixture
def owner(ws):
    user = get_user_model().objects.create_user("olga", email="olga@example.com")
    Membership.objects.create(workspace=ws, user=user, role=Membership.Role.ANALYST)
    return user


def make_schedule(ws, owner, **fields: Any) -> ReportSchedule:
    values = {"name": "Weekly usage", "frequency": "weekly", "weekday": 1, "hour": 6,
              "recipients": ["ann@example.com", "Bob@Example.com"], **fields}  # fmt: skip
    return ReportSchedule.objects.create(workspace=ws, owner=owner, **values)


def send(now: str) -> list[str]:
    lines, _ = run("send_scheduled_reports", now=now)
    return lines


def test_the_email(ws, owner) -> None:
    schedule = make_schedule(ws, owner)
    lines = send("2025-03-24T06:00:00Z")  # Monday 06:00 UTC: the week of 17–23 March
    assert lines[0] == f"schedule {schedule.pk}: slot 2025-03-24T06:00:00+00:00, 2 email(s) sent"
    assert [m.to for m in mail.outbox] == [["ann@example.com"], ["Bob@Example.com"]]
    message = mail.outbox[0]
    assert message.subject == "Weekly usage"
    assert "Analysis report · sr, 2025-03-17 – 2025-03-23" in message.body
    assert "- Interactions: 4 (the period before: 1, change 300.0%)" in message.body
    assert "- Active users: 2 (the period before: 1, change 100.0%)" in message.body
    assert (
        "You receive this weekly report because you are a recipient of the scheduled report “Weekly usage”."
        in message.body
    )
    assert "/w/sr/reports/analysis/?start=2025-03-17&amp;end=2025-03-23" not in message.body  # text, not HTML
    assert "/w/sr/reports/analysis/?start=2025-03-17&end=2025-03-23" in message.body
    names = [name for name, _content, _type in message.attachments]
    assert names == [
        "sr-analysis-2025-03-17-2025-03-23.pdf",
        "sr-analysis-2025-03-17-2025-03-23-summary.csv",
        "sr-analysis-2025-03-17-2025-03-23-findings.csv",
    ]
    pdf = message.attachments[0][1]
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "(Interactions)" in text and "(Leads)" in text and "Secret" not in text
    assert "Mar 17, 2025" in text or "2025-03-17" in text
    summary = message.attachments[1][1]
    assert summary.splitlines()[:2] == ["metric,value,previous,change", "Interactions,4,1,300.0%"]
    assert message.alternatives[0].mimetype == "text/html" and "Weekly usage" in message.alternatives[0].content
    # Each recipient has their own unsubscribe link, also in the List-Unsubscribe header.
    links = [re.search(r"/reports/unsubscribe/([^/\s]+)/", m.body).group(1) for m in mail.outbox]
    assert [signing.loads(link, salt=UNSUBSCRIBE_SALT) for link in links] == [
        {"s": schedule.pk, "e": "ann@example.com"}, {"s": schedule.pk, "e": "bob@example.com"}
    ]  # fmt: skip
    assert message.extra_headers["List-Unsubscribe"].endswith(f"/reports/unsubscribe/{links[0]}/>")


@override_settings(SITE_URL="https://metrics.example.com", DEFAULT_FROM_EMAIL="Reports <reports@example.com>")
def test_links_start_with_the_site_url(ws, owner) -> None:
    make_schedule(ws, owner, recipients=["ann@example.com"])
    send("2025-03-24T06:00:00Z")
    body = mail.outbox[0].body
    assert "https://metrics.example.com/w/sr/reports/analysis/?start=2025-03-17&end=2025-03-23" in body
    assert "https://metrics.example.com/reports/unsubscribe/" in body
    assert mail.outbox[0].from_email == "Reports <reports@example.com>"


def test_a_name_on_two_lines_is_a_one_line_subject(ws, owner) -> None:
    make_schedule(ws, owner, name="Weekly\nusage", recipients=["ann@example.com"])
    send("2025-03-24T06:00:00Z")
    assert mail.outbox[0].subject == "Weekly usage"


def test_once_per_slot(ws, owner) -> None:
    schedule = make_schedule(ws, owner, recipients=["ann@example.com"])
    assert send("2025-03-24T05:59:59Z")[0].startswith(f"schedule {schedule.pk}: slot 2025-03-17T06:00:00")
    assert len(mail.outbox) == 1  # the latest slot before then: the Monday before
    send("2025-03-24T05:59:59Z")
    send("2025-03-24T05:00:00Z")
    assert len(mail.outbox) == 1
    send("2025-03-24T06:00:00Z")  # the next slot
    send("2025-03-24T06:10:00Z")
    send("2025-03-30T23:59:00Z")
    assert len(mail.outbox) == 2
    schedule.refresh_from_db()
    assert schedule.last_slot == at("2025-03-24T06:00:00Z") and schedule.last_sent_at == at("2025-03-24T06:00:00Z")


def test_no_catch_up_after_downtime(ws, owner) -> None:
    schedule = make_schedule(ws, owner, frequency="daily", weekday=None, recipients=["ann@example.com"])
    send("2025-03-21T06:05:00Z")
    # Down for three days: the run at 24 March sends one email, for that day's slot only.
    lines = send("2025-03-24T07:00:00Z")
    assert lines == [f"schedule {schedule.pk}: slot 2025-03-24T06:00:00+00:00, 1 email(s) sent",
                     "1 scheduled report(s) sent at 2025-03-24T07:00:00+00:00"]  # fmt: skip
    assert len(mail.outbox) == 2
    assert "2025-02-22 – 2025-03-23" in mail.outbox[1].body  # daily: the 30 days before the slot's day


def test_local_time_zone(make_workspace, owner) -> None:
    shanghai, _ = make_workspace("sh", tz="Asia/Shanghai")
    Membership.objects.create(workspace=shanghai, user=owner, role=Membership.Role.ANALYST)
    make_schedule(shanghai, owner, frequency="monthly", weekday=None, day=31, hour=9, recipients=["a@example.com"])
    assert send("2025-04-30T00:59:00Z")[0].endswith("slot 2025-03-31T01:00:00+00:00, 1 email(s) sent")
    assert "2025-02-01 – 2025-02-28" in mail.outbox[0].body
    send("2025-04-30T01:00:00Z")  # 30 April 09:00 in Shanghai: the slot of "day 31" in April
    assert len(mail.outbox) == 2 and "2025-03-01 – 2025-03-31" in mail.outbox[1].body


def test_chinese(ws, owner) -> None:
    make_schedule(ws, owner, name="每周使用报告", language="zh-hans", recipients=["ann@example.com"])
    send("2025-03-24T06:00:00Z")
    message = mail.outbox[0]
    assert message.subject == "每周使用报告"
    assert "分析报告" in message.body and "退订" in message.body and "在应用中打开" in message.body
    assert "Open it in the app" not in message.body
    assert b"STSong-Light" in message.attachments[0][1]
    assert "分析报告" in message.alternatives[0].content


def test_nothing_for_an_owner_who_left_or_no_recipients(ws, owner) -> None:
    make_schedule(ws, owner, recipients=[])
    left = make_schedule(ws, owner, name="Left")
    Membership.objects.filter(user=owner).delete()
    assert send("2025-03-24T06:00:00Z") == ["0 scheduled report(s) sent at 2025-03-24T06:00:00+00:00"]
    assert mail.outbox == [] and ReportSchedule.objects.get(pk=left.pk).last_slot is None


def test_a_failed_send_gives_the_slot_back(ws, owner, monkeypatch) -> None:
    schedule = make_schedule(ws, owner, recipients=["ann@example.com"])

    def refuse(*args: Any, **kwargs: Any) -> int:
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    assert "OSError: mail server down" in send("2025-03-24T06:00:00Z")[0]
    schedule.refresh_from_db()
    assert schedule.last_slot is None and "mail server down" in schedule.last_error
    monkeypatch.undo()
    send("2025-03-24T06:10:00Z")  # the next run, while it is still the latest slot
    assert len(mail.outbox) == 1


def test_the_command_refuses_a_bad_now(ws) -> None:
    with pytest.raises(CommandError, match="--now"):
        call_command("send_scheduled_reports", now="next tuesday")


def test_the_celery_task(ws, owner, monkeypatch) -> None:
    from reports.tasks import send_scheduled_reports_task

    make_schedule(ws, owner, recipients=["ann@example.com"])
    assert send_scheduled_reports_task.delay().get() == 1  # today: the latest Monday's slot
    assert send_scheduled_reports_task.delay().get() == 0 and len(mail.outbox) == 1


# --- Unsubscribing -------------------------------------------------------------------------------


def test_unsubscribe(ws, owner) -> None:
    schedule = make_schedule(ws, owner)
    send("2025-03-24T06:00:00Z")
    path = re.search(r"https?://[^/]+(/reports/unsubscribe/[^/\s]+/)", mail.outbox[1].body).group(1)
    page = Client().get(path)  # no login
    assert page.status_code == 200
    assert "bob@example.com no longer receives the scheduled report “Weekly usage” of sr." in page.content.decode()
    schedule.refresh_from_db()
    assert schedule.recipients == ["ann@example.com"]
    assert Client().get(path).status_code == 200  # again: nothing more to remove, still fine
    # One click from the mail client (RFC 8058): a POST without a CSRF token.
    token = unsubscribe_token(schedule, "ann@example.com")
    assert Client(enforce_csrf_checks=True).post(f"/reports/unsubscribe/{token}/").status_code == 200
    schedule.refresh_from_db()
    assert schedule.recipients == []
    send("2025-03-31T06:00:00Z")
    assert len(mail.outbox) == 2  # nobody left to send to


def test_a_bad_unsubscribe_link(ws, owner) -> None:
    schedule = make_schedule(ws, owner)
    token = unsubscribe_token(schedule, "ann@example.com")
    tampered = Client().get(f"/reports/unsubscribe/{token[:-2]}xx/")
    assert tampered.status_code == 400 and "This link is not valid" in tampered.content.decode()
    assert Client().get("/reports/unsubscribe/nonsense/").status_code == 400
    schedule.delete()
    gone = Client().get(f"/reports/unsubscribe/{token}/")
    assert gone.status_code == 404 and "This link is not valid" in gone.content.decode()


# --- The API ----------------------------------------------------------------------------------------

BODY = {"name": "Monday report", "frequency": "weekly", "weekday": 1, "hour": 8,
        "recipients": ["ann@example.com"], "language": "zh-hans"}  # fmt: skip


def test_the_api_crud(ws, member_client) -> None:
    client = member_client(ws, role=Membership.Role.ANALYST, username="ana")
    created = client.post(API, BODY, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert {k: data[k] for k in ("name", "kind", "dashboard", "frequency", "weekday", "day", "hour", "recipients",
                                  "language", "visibility", "owner", "last_slot")} == {
        **BODY, "kind": "analysis", "dashboard": None, "day": None, "visibility": "private", "owner": "ana",
        "last_slot": None,
    }  # fmt: skip
    url = f"{API}{data['id']}"
    # weekly → monthly: the weekday is no longer used (null), the day is needed.
    assert client.patch(url, {"frequency": "monthly"}, format="json").json() == {"day": ["A monthly report needs a day of the month (1–31)."]}  # fmt: skip
    changed = client.patch(url, {"frequency": "monthly", "day": 31}, format="json").json()
    assert (changed["weekday"], changed["day"], changed["recipients"]) == (None, 31, ["ann@example.com"])
    assert [s["name"] for s in client.get(API).json()] == ["Monday report"]
    assert client.get(url.replace(API, API.rstrip("/") + "/")).status_code in (200, 404)
    assert client.delete(url).status_code == 204 and client.get(API).json() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"kind": "excel"}, "kind"),
        ({"kind": "dashboard"}, "dashboard"),
        ({"frequency": "hourly"}, "frequency"),
        ({"weekday": None}, "weekday"),
        ({"weekday": 8}, "weekday"),
        ({"weekday": 0}, "weekday"),
        ({"frequency": "monthly", "day": None}, "day"),
        ({"frequency": "monthly", "day": 32}, "day"),
        ({"hour": 24}, "hour"),
        ({"hour": -1}, "hour"),
        ({"hour": "noon"}, "hour"),
        ({"recipients": []}, "recipients"),
        ({"recipients": ["not-an-email"]}, "recipients"),
        ({"recipients": "ann@example.com"}, "recipients"),
        ({"recipients": [f"u{i}@example.com" for i in range(21)]}, "recipients"),
        ({"recipients": ["a" * 250 + "@example.com"]}, "recipients"),
        ({"language": "fr"}, "language"),
        ({"visibility": "public"}, "visibility"),
    ],
)
def test_the_api_names_the_bad_field(ws, member_client, change, field) -> None:
    client = member_client(ws, role=Membership.Role.ANALYST)
    response = client.post(API, {**BODY, **change}, format="json")
    assert response.status_code == 400 and list(response.json()) == [field], response.json()
    assert ReportSchedule.objects.count() == 0


def test_recipients_are_deduplicated_and_twenty_at_most(ws, member_client) -> None:
    client = member_client(ws, role=Membership.Role.ANALYST)
    twenty = [f"u{i}@example.com" for i in range(20)]
    response = client.post(API, {**BODY, "recipients": [*twenty, "U1@example.com"]}, format="json")
    assert response.status_code == 201 and response.json()["recipients"] == twenty


def test_visibility_and_two_workspaces(ws, member_client) -> None:
    ana = member_client(ws, role=Membership.Role.ANALYST, username="ana")
    bob = member_client(ws, role=Membership.Role.ANALYST, username="bob")
    viewer = member_client(ws, role=Membership.Role.VIEWER, username="vic")
    admin = member_client(ws, role=Membership.Role.ADMIN, username="adm")
    private = ana.post(API, BODY, format="json").json()
    shared = ana.post(API, {**BODY, "name": "Shared", "visibility": "workspace"}, format="json").json()
    assert [s["name"] for s in bob.get(API).json()] == ["Shared"]
    assert bob.get(f"{API}{private['id']}").status_code == 404
    assert bob.patch(f"{API}{shared['id']}", {"hour": 9}, format="json").status_code == 403
    assert bob.delete(f"{API}{shared['id']}").status_code == 403
    assert admin.patch(f"{API}{shared['id']}", {"hour": 9}, format="json").json()["hour"] == 9
    assert viewer.post(API, BODY, format="json").status_code == 403
    # The other workspace: its URL shows none of these; a non-member gets 404.
    other = Workspace.objects.get(slug="other")
    both = member_client(other, role=Membership.Role.ADMIN, username="ana")
    assert both.get("/api/v1/workspaces/other/report-schedules/").json() == []
    assert both.get(f"/api/v1/workspaces/other/report-schedules/{shared['id']}").status_code == 404
    assert member_client(None, username="stranger").get(API).status_code == 404
    assert member_client(None, username="stranger2").post(API, BODY, format="json").status_code == 404
    from tenancy.models import AuditEntry

    assert AuditEntry.objects.filter(target_type__icontains="schedule").count() >= 3


# --- The pages ------------------------------------------------------------------------------------


def logged_in(ws, username: str = "paul", role: str = Membership.Role.ANALYST) -> Client:
    user, _ = get_user_model().objects.get_or_create(username=username)
    Membership.objects.update_or_create(workspace=ws, user=user, defaults={"role": role})
    client = Client()
    client.force_login(user)
    return client


def test_the_pages(ws) -> None:
    client = logged_in(ws)
    assert "/w/sr/reports/schedules/" in client.get("/w/sr/reports/analysis/").content.decode()
    assert "Scheduled reports" in client.get("/w/sr/reports/schedules/").content.decode()
    chinese = client.get("/w/sr/reports/schedules/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "我的定时报告" in chinese and "新建定时报告" in chinese
    form = {"name": "Board weekly", "kind": "analysis", "frequency": "weekly", "weekday": "1", "day": "",
            "hour": "6", "recipients": "ann@example.com, bob@example.com", "language": "en", "visibility": "private"}  # fmt: skip
    bad = client.post("/w/sr/reports/schedules/new/", {**form, "recipients": "ann@", "weekday": ""})
    assert bad.status_code == 400
    assert set(bad.context["form"].errors) == {"recipients", "weekday"}
    assert client.post("/w/sr/reports/schedules/new/", form).status_code == 302
    schedule = ReportSchedule.objects.get()
    assert (schedule.recipients, schedule.weekday, schedule.day) == (["ann@example.com", "bob@example.com"], 1, None)
    listing = client.get("/w/sr/reports/schedules/").content.decode()
    assert "Board weekly" in listing and "ann@example.com, bob@example.com" in listing
    edit = f"/w/sr/reports/schedules/{schedule.pk}/edit/"
    assert "bob@example.com" in client.get(edit).content.decode()
    assert client.post(edit, {**form, "frequency": "daily", "hour": "7"}).status_code == 302
    schedule.refresh_from_db()
    assert (schedule.frequency, schedule.weekday, schedule.hour) == ("daily", None, 7)
    # The preview: the email, built now and sent to nobody, and its PDF.
    preview = client.get(f"/w/sr/reports/schedules/{schedule.pk}/preview/")
    html = preview.content.decode()
    assert preview.status_code == 200 and "Board weekly" in html and "Open it in the app" in html
    pdf_name = preview.context["attachments"][0]["name"]
    pdf = client.get(f"/w/sr/reports/schedules/{schedule.pk}/preview/", {"download": pdf_name})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert client.get(f"/w/sr/reports/schedules/{schedule.pk}/preview/", {"download": "x.exe"}).status_code == 404
    assert mail.outbox == []
    # Another member: neither sees nor edits a private schedule; a viewer cannot create one.
    other = logged_in(ws, "vera", Membership.Role.VIEWER)
    assert other.get(f"/w/sr/reports/schedules/{schedule.pk}/preview/").status_code == 404
    assert other.get(edit).status_code == 404
    assert other.get("/w/sr/reports/schedules/new/").status_code == 403
    assert "Board weekly" not in other.get("/w/sr/reports/schedules/").content.decode()
    assert Client().get("/w/sr/reports/schedules/").status_code == 302  # to the login page
    assert logged_in(Workspace.objects.get(slug="other"), "olaf").get("/w/sr/reports/schedules/").status_code == 404
    assert client.post(f"/w/sr/reports/schedules/{schedule.pk}/delete/").status_code == 302
    assert not ReportSchedule.objects.exists()
