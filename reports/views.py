"""The analysis report as a page of the app (linked from the Behaviour tab), with its PDF. A report of
more than ``REPORT_IN_REQUEST_DAYS`` days is built by a worker; the page says so until it is ready.

The scheduled reports' pages: the list, the form (new, edit), delete, and a preview of the email a
schedule sends (with its attachments), built for the viewer and sent to nobody; and the unsubscribe
page an email links to, which needs no login."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.chrome import page_chrome
from core.pages import tab_page, workspace_url
from reports import schedules
from reports.api.views import content_response, filename_of
from reports.forms import ScheduleForm
from reports.models import REPORT_IN_REQUEST_DAYS, ReportRun, ReportSchedule
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
            "schedules_url": workspace_url("reports-schedules", scope),
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


SCHEDULES_TAB = "behaviour-tab"  # the analysis report, which the schedules send, is reached from there


@require_safe
@workspace_page
def schedules_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """My scheduled reports and those shared with the workspace."""
    rows = list(scope.saved(ReportSchedule).order_by("name", "pk"))
    context = {
        **page_chrome(request, scope.workspace, active=SCHEDULES_TAB),
        "mine": [s for s in rows if s.owner_id == request.user.pk],
        "shared": [s for s in rows if s.owner_id != request.user.pk],
        "editable": {s.pk for s in rows if scope.can_edit_saved(s)},
        "can_create": scope.can_create_saved,
        "analysis_url": workspace_url("reports-analysis", scope),
        "api_url": workspace_url("report-schedule-list", scope),
    }
    return render(request, "reports/schedules.html", context)


def _schedule_form(request: HttpRequest, scope: WorkspaceScope, schedule: ReportSchedule | None) -> HttpResponse:
    owner = request.user if schedule is None else schedule.owner
    status = 200
    if request.method == "POST":
        form = ScheduleForm(request.POST, workspace=scope.workspace, owner=owner)
        if form.is_valid():
            saved = schedules.schedule_save(workspace=scope.workspace, actor=request.user, schedule=schedule, values=form.values)  # fmt: skip
            messages.success(request, _("Scheduled report “%(name)s” saved.") % {"name": saved.name})
            return redirect("reports-schedules", slug=scope.workspace.slug)
        status = 400
    else:
        initial = ScheduleForm.initial_of(schedule) if schedule else {"language": translation.get_language() or "en"}
        form = ScheduleForm(initial=initial, workspace=scope.workspace, owner=owner)
    context = {
        **page_chrome(request, scope.workspace, active=SCHEDULES_TAB),
        "form": form,
        "schedule": schedule,
        "list_url": workspace_url("reports-schedules", scope),
        "timezone": scope.workspace.timezone,
    }
    return render(request, "reports/schedule_form.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_page
def schedule_new(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    if not scope.can_create_saved:
        raise PermissionDenied(_("Viewers cannot schedule reports; ask a workspace admin for the analyst role."))
    return _schedule_form(request, scope, None)


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_page
def schedule_edit(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    schedule = scope.get_saved(ReportSchedule, pk)
    if not scope.can_edit_saved(schedule):
        raise PermissionDenied(_("Only the owner of this scheduled report or a workspace admin can change it."))
    return _schedule_form(request, scope, schedule)


@require_POST
@workspace_page
def schedule_delete(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    schedule = scope.get_saved(ReportSchedule, pk)
    if not scope.can_edit_saved(schedule):
        raise PermissionDenied(_("Only the owner of this scheduled report or a workspace admin can delete it."))
    name = schedule.name
    schedules.schedule_delete(actor=request.user, schedule=schedule)
    messages.success(request, _("Scheduled report “%(name)s” deleted.") % {"name": name})
    return redirect("reports-schedules", slug=scope.workspace.slug)


@require_safe
@workspace_page
def schedule_preview(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    """The email the schedule would send now (its latest slot), sent to nobody; ``?download=<name>``
    gives one of its attachments."""
    schedule = scope.get_saved(ReportSchedule, pk)
    try:
        message, built = schedules.preview(schedule, timezone.now(), request.user)
    except schedules.BoardNotVisible:
        raise Http404(_("You cannot see this schedule's dashboard.")) from None
    wanted = request.GET.get("download")
    if wanted is not None:
        for name, content, mimetype in built.attachments():
            if name == wanted:
                response = HttpResponse(
                    content, content_type=mimetype if mimetype != "text/csv" else "text/csv; charset=utf-8"
                )
                response["Content-Disposition"] = f'attachment; filename="{name}"'
                return response
        raise Http404(_("This email has no such attachment."))
    base = workspace_url("reports-schedule-preview", scope, pk=schedule.pk)
    context = {
        **page_chrome(request, scope.workspace, active=SCHEDULES_TAB),
        "schedule": schedule,
        "message": message,
        "attachments": [
            {"name": name, "size": len(content), "url": f"{base}?{QueryDict.fromkeys(['download'], name).urlencode()}"}
            for name, content, _mimetype in built.attachments()
        ],
        "list_url": workspace_url("reports-schedules", scope),
        **schedules.email_context(
            schedule, built, message.to[0] if message.to else "", schedules.unsubscribe_url("preview")
        ),
    }
    with translation.override(schedule.language):
        context["frequency"] = schedule.get_frequency_display()
    return render(request, "reports/schedule_preview.html", context)


@csrf_exempt  # the mail client's one-click POST (RFC 8058) carries no CSRF token; the signed token is the proof
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    """No login: the token names the schedule and the recipient it removes. A token that is not
    ours: 400; one whose schedule is gone: 404 (a page saying so either way)."""
    done = schedules.unsubscribe(token)
    if done is None:
        status = 404 if schedules.token_is_signed(token) else 400
        return render(request, "reports/unsubscribe.html", {"invalid": True}, status=status)
    schedule, email = done
    with translation.override(schedule.language):
        return render(request, "reports/unsubscribe.html", {"schedule": schedule, "email": email})
