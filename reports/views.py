"""The analysis report as a page of the app (linked from the Behaviour tab), with its PDF. A report of
more than ``REPORT_IN_REQUEST_DAYS`` days is built by a worker; the page says so until it is ready."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.pages import tab_page, workspace_url
from reports.api.views import content_response, filename_of
from reports.models import REPORT_IN_REQUEST_DAYS, ReportRun
from reports.queries import ReportQuery
from reports.runs import report_run_start
from reports.selectors import analysis_report
from reports.services import chart_src, report_pdf
from tenancy.scoping import WorkspaceScope, workspace_page


@require_safe
@workspace_page
def analysis_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page = tab_page(request, scope, "behaviour-tab", ReportQuery)
    template, query = "reports/analysis.html", page.query
    if (response := page.nothing_to_show(request, template)) is not None:
        return response
    assert query is not None
    workspace = scope.workspace
    filename = filename_of(workspace, query.period.start, query.period.end)
    page.context.update(
        {
            "pdf_url": workspace_url("reports-analysis", scope, query.params(format="pdf")),
            "back_url": workspace_url("behaviour-tab", scope, query.params(format=None)),
            "report_days": REPORT_IN_REQUEST_DAYS,
        }
    )
    if query.period.days > REPORT_IN_REQUEST_DAYS:
        run = report_run_start(workspace=workspace, user=request.user, query=query)
        run.refresh_from_db()
        if run.status == ReportRun.Status.DONE and query.format == "pdf":
            return content_response("", bytes(run.pdf), "pdf", workspace, filename)
        page.context.update({"run": run, "stored_html": run.html if run.status == ReportRun.Status.DONE else ""})
        return render(request, template, page.context)
    report = analysis_report(query)
    if query.format == "pdf":
        return content_response("", report_pdf(report), "pdf", workspace, filename)
    page.context.update({"report": report, "chart_src": chart_src(report)})
    return render(request, template, page.context)
