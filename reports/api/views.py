"""``reports/analysis``: the analysis report as HTML (a printable document) or PDF; a report of more
than ``REPORT_IN_REQUEST_DAYS`` days is built by a worker (``reports/runs/<id>``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from core.api.base import ERROR_RESPONSES, WorkspaceAPIView
from core.queries import ChoiceParam
from reports.api.serializers import ReportScheduleSerializer
from reports.models import REPORT_IN_REQUEST_DAYS, ReportRun, ReportSchedule
from reports.queries import ReportQuery
from reports.runs import report_run_start
from reports.selectors import analysis_report
from reports.services import report_document, report_html, report_pdf
from tenancy.api.views import SavedConfigViewSet

RUN = inline_serializer(
    name="ReportRun",
    fields={
        "id": serializers.IntegerField(),
        "status": serializers.ChoiceField(choices=["pending", "done", "failed"]),
        "error": serializers.CharField(allow_null=True),
        "url": serializers.CharField(help_text="Where the report will be: reports/runs/<id>."),
    },
)
REPORT_RESPONSES: dict[Any, OpenApiResponse] = {
    (200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="A printable HTML document (format=html)."),
    (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF (format=pdf)."),
    (202, "application/json"): OpenApiResponse(RUN, description="A long report being built; fetch `url` later."),
    **ERROR_RESPONSES,
}
RUN_RESPONSES: dict[Any, OpenApiResponse] = {
    **REPORT_RESPONSES,
    (200, "application/json"): OpenApiResponse(RUN, description="A run that failed."),
}
FORMAT = OpenApiParameter("format", str, enum=["html", "pdf"], description="html (default) or pdf.")


def content_response(html_body: str, pdf: bytes, fmt: str, workspace: Any, filename: str) -> HttpResponse:
    if fmt == "pdf":
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
        return response
    return HttpResponse(report_document(html_body, workspace))


def filename_of(workspace: Any, start: Any, end: Any) -> str:
    return f"{workspace.slug}-analysis-{start}-{end}"


def run_json(run: ReportRun, slug: str) -> dict[str, Any]:
    url = reverse("api-reports-run", kwargs={"slug": slug, "pk": run.pk})
    return {"id": run.pk, "status": run.status, "error": run.error or None, "url": url}


class ReportAPIView(WorkspaceAPIView):
    """``format`` is the report's, not DRF's: content negotiation is left out (errors are JSON)."""

    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple[Any, str]:
        return JSONRenderer(), JSONRenderer.media_type


class AnalysisReportView(ReportAPIView):
    query_class = ReportQuery

    @extend_schema(
        parameters=[ReportQuery.Params], responses=REPORT_RESPONSES, summary="The analysis report of a period",
        tags=["reports"],
    )  # fmt: skip
    def get(self, request: Request, slug: str) -> HttpResponse:
        query: ReportQuery = self.parse_query()
        filename = filename_of(self.workspace, query.period.start, query.period.end)
        if query.period.days > REPORT_IN_REQUEST_DAYS:
            run = report_run_start(workspace=self.workspace, user=request.user, query=query)
            run.refresh_from_db()
            if run.status == ReportRun.Status.DONE:
                return content_response(run.html, bytes(run.pdf), query.format, self.workspace, filename)
            return JsonResponse(run_json(run, slug), status=202)
        report = analysis_report(query)
        pdf = report_pdf(report) if query.format == "pdf" else b""
        return content_response(
            report_html(report) if query.format == "html" else "", pdf, query.format, self.workspace, filename
        )


class ReportRunView(ReportAPIView):
    """A background report of the person asking: 202 with its status while it is being built, then
    the report (``format``: html or pdf)."""

    @extend_schema(
        parameters=[FORMAT], responses=RUN_RESPONSES, summary="A report built in the background", tags=["reports"]
    )
    def get(self, request: Request, slug: str, pk: int) -> HttpResponse:
        run = ReportRun.objects.filter(workspace=self.workspace, requested_by_id=request.user.pk, pk=pk).first()
        if run is None:
            raise NotFound()
        fmt = ChoiceParam(["html", "pdf"], default="html").run_validation(request.query_params.get("format", "html"))
        if run.status != ReportRun.Status.DONE:
            return JsonResponse(run_json(run, slug), status=202 if run.status == ReportRun.Status.PENDING else 200)
        start, end = run.params.get("start", [""])[0], run.params.get("end", [""])[0]
        return content_response(run.html, bytes(run.pdf), fmt, self.workspace, filename_of(self.workspace, start, end))


SCHEDULE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The schedule's id.")


@extend_schema_view(
    list=extend_schema(summary="Scheduled reports you can see: yours and those shared with the workspace"),
    create=extend_schema(summary="Schedule a report (admins and analysts)"),
    retrieve=extend_schema(summary="One scheduled report", parameters=[SCHEDULE_ID]),
    update=extend_schema(summary="Replace a scheduled report (owner or admin)", parameters=[SCHEDULE_ID]),
    partial_update=extend_schema(summary="Change a scheduled report (owner or admin)", parameters=[SCHEDULE_ID]),
    destroy=extend_schema(summary="Delete a scheduled report (owner or admin)", parameters=[SCHEDULE_ID]),
)
@extend_schema(tags=["report-schedules"])
class ReportScheduleViewSet(SavedConfigViewSet):
    """CRUD of scheduled reports: the rules of every saved configuration (``SavedConfigViewSet``);
    ``manage.py send_scheduled_reports`` emails them."""

    model = ReportSchedule
    serializer_class = ReportScheduleSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().order_by("name", "pk")
