"""The analysis report as a printable HTML page and as a PDF (docs/api.md#the-analysis-report).

The PDF is drawn by ReportLab, in pure Python, with its own chart library: no browser and no system
library at run time, so it works on a plain Debian machine and in any worker (the other paths
considered: WeasyPrint needs Pango from the system, and a headless Chromium is a browser). The one
chart is drawn once as a ReportLab drawing, placed in the PDF as is and in the HTML as SVG. Chinese
text uses ReportLab's built-in CID font STSong-Light, which needs no font file."""

from __future__ import annotations

import base64
import io
from typing import Any
from xml.sax.saxutils import escape

from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.formatting import percent
from reports.models import ReportRun
from reports.queries import ReportQuery
from reports.selectors import AnalysisReport, analysis_report

CJK_FONT = "STSong-Light"
BLUE, GREY = colors.HexColor("#36a2eb"), colors.HexColor("#c9cbcf")


def _font() -> str:
    """Helvetica, or a CJK font when the active language needs one (it also draws Latin text)."""
    if (translation.get_language() or "").startswith("zh"):
        if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        return CJK_FONT
    return "Helvetica"


def chart_drawing(report: AnalysisReport, width: float = 170 * mm) -> Drawing | None:
    """Interactions of the most used features, this period (blue) and the one before (grey)."""
    if not report.chart:
        return None
    font = _font()
    rows = list(reversed(report.chart))  # the chart draws its first category at the bottom
    height = 30 + 18 * len(rows)
    drawing = Drawing(width, height + 20)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 90, 20, width - 110, height - 10
    chart.data = [[now for _key, now, _before in rows], [before for _key, _now, before in rows]]
    chart.categoryAxis.categoryNames = [key for key, _now, _before in rows]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    # Both series on the axis (left alone, ReportLab may end it below the longer bar of the two).
    chart.valueAxis.valueMax = max(max(now, before) for _key, now, before in rows) * 1.05 or 1
    chart.bars[0].fillColor, chart.bars[1].fillColor = BLUE, GREY
    chart.bars.strokeColor = None
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y, legend.fontName, legend.fontSize = 90, height + 14, font, 7
    legend.alignment, legend.columnMaximum = "right", 1
    legend.colorNamePairs = [(BLUE, _("This period")), (GREY, _("The period before"))]
    drawing.add(legend)
    drawing.add(String(0, height + 12, _("Interactions"), fontName=font, fontSize=8))
    return drawing


def chart_src(report: AnalysisReport) -> str:
    """The chart as an SVG data URI, for an ``<img>`` (the CSP allows data: images, no inline style)."""
    drawing = chart_drawing(report)
    if drawing is None:
        return ""
    return "data:image/svg+xml;base64," + base64.b64encode(renderSVG.drawToString(drawing).encode()).decode()


def report_html(report: AnalysisReport) -> str:
    """The report's body (what the app page shows, and what a background run keeps)."""
    return render_to_string("reports/_report.html", {"report": report, "chart_src": chart_src(report)})


def report_document(body: str, workspace: Any) -> str:
    """A standalone, printable HTML document around a report's body (the API's HTML)."""
    return render_to_string(
        "reports/document.html", {"body": body, "workspace": workspace, "LANGUAGE_CODE": translation.get_language()}
    )


def report_pdf(report: AnalysisReport) -> bytes:
    font = _font()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName=font, fontSize=9, leading=12)
    heading = ParagraphStyle("heading", parent=styles["Heading2"], fontName=font, fontSize=12, spaceBefore=10)
    title = ParagraphStyle("title", parent=styles["Title"], fontName=font, fontSize=16)
    query = report.query
    story: list[Any] = [
        Paragraph(escape(_("Analysis report · %(name)s") % {"name": query.workspace.name}), title),
        Paragraph(
            escape(
                _("%(start)s – %(end)s, compared with the %(days)s days before")
                % {"start": query.period.start, "end": query.period.end, "days": query.period.days}
            ),
            body,
        ),  # fmt: skip
        Spacer(1, 6),
    ]
    rows = [[_("Metric"), _("This period"), _("The period before"), _("Change")]]
    rows += [[line.label, f"{line.value:,}", f"{line.previous:,}", percent(line.change_pct)] for line in report.summary]
    table = Table(rows, hAlign="LEFT", colWidths=[55 * mm, 35 * mm, 40 * mm, 25 * mm])
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"), ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.HexColor("#475569")),
    ]))  # fmt: skip
    story += [table, Spacer(1, 8)]
    if not report.comparable:
        story.append(Paragraph(escape(_("The period before starts before the workspace's first event: its changes are not comparable.")), body))  # fmt: skip
    drawing = chart_drawing(report)
    if drawing is not None:
        story += [drawing, Spacer(1, 6)]
    for section in report.sections:
        story.append(Paragraph(escape(section.title), heading))
        if not section.findings:
            story.append(Paragraph(escape(section.empty), body))
        for finding in section.findings:
            story.append(Paragraph(f"<b>{escape(finding.subject)}</b> — {escape(finding.evidence)}", body))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=16 * mm,
        title=_("Analysis report"), author="CRM Usage Metrics",
    )  # fmt: skip
    document.build(story)
    return buffer.getvalue()


def report_run_build(run_id: int) -> str:
    """Build a background report (``ReportRun``): its HTML and PDF, in the language it was asked in.
    Safe to run twice: a finished run is left as it is. Returns the run's status."""
    run = ReportRun.objects.select_related("workspace").filter(pk=run_id).first()
    if run is None or run.status == ReportRun.Status.DONE:
        return run.status if run is not None else "missing"
    data = QueryDict(mutable=True)
    for key, values in run.params.items():
        data.setlist(key, values)
    try:
        with translation.override(run.language):
            report = analysis_report(ReportQuery.parse(data, workspace=run.workspace))
            run.html, run.pdf = report_html(report), report_pdf(report)
        run.status = ReportRun.Status.DONE
    except Exception as exc:  # the run says it failed instead of staying "being prepared" for ever
        run.status, run.error = ReportRun.Status.FAILED, f"{type(exc).__name__}: {exc}"
    run.finished_at = timezone.now()
    run.save(update_fields=["html", "pdf", "status", "error", "finished_at"])
    return run.status


# --- A dashboard as a PDF (scheduled reports of kind "dashboard") ------------------------------------

# A tile's table in the PDF and its CSV: at most this many rows and columns (a board is a summary).
TILE_ROWS, TILE_COLUMNS, CELL_CHARS = 50, 8, 60


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """A row's scalar fields, a nested object's one level down as ``outer.inner``; lists left out."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if _scalar(value):
            flat[str(key)] = value
        elif isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items() if _scalar(v)})
    return flat


def tile_table(data: Any) -> tuple[list[str], list[list[Any]]]:
    """A tile's answer (an endpoint's JSON) as one table: its first list of objects (``results``,
    ``months``, ``steps``…), else its first object of objects (``metrics``: one row each), else its
    scalar fields as name/value rows. Bounded to ``TILE_ROWS`` × ``TILE_COLUMNS``."""
    records: list[dict[str, Any]] | None = None
    if isinstance(data, list):
        records = [_flat(r) for r in data if isinstance(r, dict)]
    elif isinstance(data, dict):
        for value in data.values():
            if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
                records = [_flat(r) for r in value]
                break
        else:
            for value in data.values():
                if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
                    records = [{"": key, **_flat(v)} for key, v in value.items()]
                    break
        if records is None:
            pairs = _flat(data)
            return ["", ""], [[key, value] for key, value in list(pairs.items())[:TILE_ROWS]]
    if not records:
        return [], []
    columns: list[str] = []
    for record in records:
        columns += [key for key in record if key not in columns]
    columns = columns[:TILE_COLUMNS]
    return columns, [[record.get(c) for c in columns] for record in records[:TILE_ROWS]]


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    text = str(value)
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def tile_chart(columns: list[str], rows: list[list[Any]], width: float = 170 * mm) -> Drawing | None:
    """Bars of the table's first numeric column by its first column, when there are 2 to 30 rows."""
    if not 2 <= len(rows) <= 30 or len(columns) < 2:
        return None
    numeric = [
        i for i in range(1, len(columns))
        if all(isinstance(r[i], int | float) and not isinstance(r[i], bool) for r in rows)
    ]  # fmt: skip
    if not numeric:
        return None
    index, font = numeric[0], _font()
    shown = list(reversed(rows))  # the chart draws its first category at the bottom
    height = 20 + 14 * len(shown)
    drawing = Drawing(width, height + 14)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 90, 10, width - 110, height - 10
    chart.data = [[float(r[index]) for r in shown]]
    chart.categoryAxis.categoryNames = [_cell(r[0])[:20] for r in shown]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = min(0.0, *chart.data[0])
    chart.valueAxis.valueMax = max(chart.data[0]) * 1.05 or 1
    chart.bars[0].fillColor, chart.bars.strokeColor = BLUE, None
    drawing.add(chart)
    drawing.add(String(0, height + 4, columns[index], fontName=font, fontSize=8))
    return drawing


def dashboard_pdf(name: str, description: str, tiles: list[dict[str, Any]]) -> bytes:
    """A board as a PDF: each tile's title, then its table (and a bar chart when it has a numeric
    column), or why it has none. ``tiles``: ``{"title", "status", "columns", "rows"}``."""
    font = _font()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName=font, fontSize=9, leading=12)
    heading = ParagraphStyle("heading", parent=styles["Heading2"], fontName=font, fontSize=12, spaceBefore=10)
    title = ParagraphStyle("title", parent=styles["Title"], fontName=font, fontSize=16)
    story: list[Any] = [Paragraph(escape(pgettext("scheduled report", "Dashboard · %(name)s") % {"name": name}), title)]
    if description:
        story.append(Paragraph(escape(description), body))
    if not tiles:
        story.append(Paragraph(escape(_("This board has no tiles yet.")), body))
    for tile in tiles:
        story.append(Paragraph(escape(tile["title"]), heading))
        if tile["status"] != 200:
            story.append(Paragraph(escape(_("This tile could not be computed (status %(status)s).") % {"status": tile["status"]}), body))  # fmt: skip
            continue
        columns, rows = tile["columns"], tile["rows"]
        if not rows:
            story.append(Paragraph(escape(pgettext("scheduled report", "No data.")), body))
            continue
        drawing = tile_chart(columns, rows)
        if drawing is not None:
            story += [drawing, Spacer(1, 4)]
        cells = [[Paragraph(escape(_cell(v)), body) for v in row] for row in [columns, *rows]]
        table = Table(cells, hAlign="LEFT", repeatRows=1)
        table.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))  # fmt: skip
        story += [table, Spacer(1, 6)]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=16 * mm,
        title=name, author="CRM Usage Metrics",
    )  # fmt: skip
    document.build(story)
    return buffer.getvalue()
