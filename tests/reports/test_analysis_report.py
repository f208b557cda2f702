"""The analysis report (docs/api.md#the-analysis-report): its findings on a hand-made period, as HTML
and as a PDF (English and Chinese), through the API and the page; bad parameters; two workspaces."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from events.periods import period_between
from reports.queries import ReportQuery
from reports.selectors import analysis_report
from tenancy.models import Membership
from tests.conftest import journeys

pytestmark = pytest.mark.django_db

MARCH = {"start": "2025-03-11", "end": "2025-03-20"}  # the period before: March 1–10


@pytest.fixture
def ws(make_workspace):
    workspace, _ = make_workspace("rp", tz="UTC")
    before = [("u1", f"2025-03-0{d}T10:00:00Z", "Leads", "view") for d in range(1, 6)]
    before += [("u2", f"2025-03-0{1 + d % 8}T11:0{d}:00Z", "Deals", "edit") for d in range(8)]
    now = [("u1", f"2025-03-1{d}T10:00:00Z", "Leads", "view") for d in range(1, 7)]
    now += [("u2", f"2025-03-1{d}T12:00:00Z", "Leads", "view") for d in range(1, 5)]
    now += [("u2", "2025-03-15T13:00:00Z", "Deals", "edit"), ("u2", "2025-03-16T13:00:00Z", "Deals", "edit")]
    now += [("u3", "2025-03-17T09:00:00Z", "Tasks", "create", {"outcome": "failure", "error_code": "E1"})]
    journeys(workspace, before + now)
    other, _ = make_workspace("other")
    journeys(other, [("x", "2025-03-15T10:00:00Z", "Secret", "view")])
    return workspace


def findings(report, key: str) -> list[tuple[str, str]]:
    section = next(s for s in report.sections if s.key == key)
    return [(f.subject, f.evidence) for f in section.findings]


def test_the_findings(ws) -> None:
    report = analysis_report(ReportQuery.over(ws, period_between(date(2025, 3, 11), date(2025, 3, 20), ws.tzinfo)))
    assert [(line.label, line.value, line.previous) for line in report.summary][:3] == [
        ("Interactions", 13, 13), ("Active users", 3, 2), ("Features used", 3, 2)
    ]  # fmt: skip
    assert findings(report, "rises") == [
        ("Leads", "10 interactions against 5 in the period before (100.0%)."),
        ("Tasks", "1 interactions against 0 in the period before (new this period)."),
    ]
    assert findings(report, "falls") == [("Deals", "2 interactions against 8 in the period before (-75.0%).")]
    assert findings(report, "least_adopted")[0] == ("Deals", "Used by 1 of 3 active users.")
    assert findings(report, "failures") == [
        ("Tasks · create", "1 of 1 operations with a known outcome failed (100.0%).")
    ]
    assert [subject for subject, _ in findings(report, "training")] == ["u1", "u2", "u3"]  # two features at most
    assert ("Secret" not in str(report.sections)) and report.chart[0] == ("Leads", 10, 5)


def test_the_api_gives_html_and_pdf(ws, member_client) -> None:
    client = member_client(ws)
    url = "/api/v1/workspaces/rp/reports/analysis"
    html = client.get(url, MARCH)
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    text = html.content.decode()
    assert "Largest rises in feature use" in text and "data:image/svg+xml;base64," in text
    pdf = client.get(url, {**MARCH, "format": "pdf"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and len(pdf.content) > 2000
    assert 'filename="rp-analysis-2025-03-11-2025-03-20.pdf"' in pdf["Content-Disposition"]
    chinese = client.get(url, {**MARCH, "format": "pdf"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.content.startswith(b"%PDF-") and b"STSong-Light" in chinese.content
    bad = client.get(url, {**MARCH, "format": "docx"})
    assert bad.status_code == 400 and "format" in bad.json()
    assert client.get(url, {"start": "2025-03-20", "end": "2025-03-01"}).status_code == 400
    assert member_client(None, username="stranger").get(url).status_code == 404


def test_the_page_and_its_pdf(ws) -> None:
    user = get_user_model().objects.create_user("ana")
    Membership.objects.create(workspace=ws, user=user, role=Membership.Role.VIEWER)
    client = Client()
    client.force_login(user)
    page = client.get("/w/rp/reports/analysis/", MARCH)
    assert page.status_code == 200 and "Download PDF" in page.content.decode()
    assert "format=pdf" in page.context["pdf_url"]
    pdf = client.get("/w/rp/reports/analysis/", {**MARCH, "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    tab = client.get("/w/rp/behaviour/", MARCH).content.decode()
    assert "/w/rp/reports/analysis/" in tab  # the tab links to it


LONG = {"start": "2024-12-01", "end": "2025-03-20"}  # 110 days: built by a worker


def test_a_long_report_is_built_in_the_background(ws, member_client, django_capture_on_commit_callbacks) -> None:
    from reports.models import ReportRun

    client = member_client(ws, username="ana")
    url = "/api/v1/workspaces/rp/reports/analysis"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queued = client.get(url, {**LONG, "format": "pdf"})
    assert queued.status_code == 202 and queued.json()["status"] == "pending" and len(callbacks) == 1
    run_url = queued.json()["url"]
    assert ReportRun.objects.get().status == "done"  # the task ran (in-process here) once the request committed
    pdf = client.get(run_url, {"format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    html = client.get(run_url)
    assert "Largest rises in feature use" in html.content.decode() and "<!doctype html>" in html.content.decode()
    # Asked again: the same run, ready, answered at once; nobody else sees it.
    again = client.get(url, LONG)
    assert again.status_code == 200 and ReportRun.objects.count() == 1
    assert member_client(ws, username="bob").get(run_url).status_code == 404
    assert client.get(run_url.replace(str(ReportRun.objects.get().pk), "999")).status_code == 404


def test_a_long_report_on_the_page_says_it_is_being_prepared(ws, django_capture_on_commit_callbacks) -> None:
    user = get_user_model().objects.create_user("ana")
    Membership.objects.create(workspace=ws, user=user, role=Membership.Role.VIEWER)
    client = Client()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.get("/w/rp/reports/analysis/", LONG)
    assert "prepared in the background" in first.content.decode()
    ready = client.get("/w/rp/reports/analysis/", LONG)
    assert "Largest rises in feature use" in ready.content.decode()


def test_a_run_is_found_only_in_its_own_workspace(
    ws, member_client, make_workspace, django_capture_on_commit_callbacks
) -> None:
    """A member of two workspaces cannot fetch one workspace's run through the other's URL."""
    from tenancy.models import Workspace

    client = member_client(ws, username="both")
    member_client(Workspace.objects.get(slug="other"), username="both")
    with django_capture_on_commit_callbacks(execute=True):
        url = client.get("/api/v1/workspaces/rp/reports/analysis", LONG).json()["url"]
    assert client.get(url).status_code == 200
    assert client.get(url.replace("/workspaces/rp/", "/workspaces/other/")).status_code == 404
