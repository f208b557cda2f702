"""Scheduled reports (docs/scheduled-reports.md): when a schedule is due, what its email holds, and
sending it once per slot.

A schedule's *slots* are ``hour``:00 in its workspace's time zone on its days: every day (daily), on
``weekday`` (weekly, 1 = Monday) or on ``day`` of the month (monthly; a day a month does not have is
that month's last day: 31 is 30 April, 28 or 29 February). A run at ``now`` sends the *latest* slot at
or before ``now`` if it was not sent yet, and never the earlier ones it missed (no catch-up: after a
three-day outage, one email, not three). The slot is claimed by a conditional UPDATE (``last_slot <
slot``) before anything is sent, so two runs at once, or one run twice, send it once.

An hour that a daylight-saving change skips (02:00 in Berlin on the last Sunday of March) is sent an
hour later, at the first instant of that local day at or after it; an hour that happens twice (the
last Sunday of October) is sent at its first occurrence.

What the analysis kind reports on, by frequency (complete local days before the slot's day only):
daily, the report's default 30 days ending the day before; weekly, the previous full week (Monday to
Sunday); monthly, the previous calendar month. The dashboard kind sends the board as its owner sees it
when the email is built: each tile with the board's own period and filters.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.csv import csv_text
from core.formatting import percent
from dashboards.models import Dashboard
from dashboards.selectors import dashboard_data
from events.periods import Period, period_between
from reports.models import MAX_RECIPIENTS, ReportSchedule
from reports.queries import ReportQuery
from reports.selectors import analysis_report
from reports.services import dashboard_pdf, report_pdf, tile_table
from tenancy.models import Membership
from tenancy.scoping import in_workspace
from tenancy.services import audit_saved_config, field_values

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "reports.schedule.unsubscribe"
# Looking back this many local days always finds a slot (a monthly one is at most 31 days back).
LOOKBACK_DAYS = 62
ANALYSIS_DAYS = 30  # the analysis report's default period (reports.queries.ReportParams.default_days)


# --- Slots -------------------------------------------------------------------------------------


def runs_on(frequency: str, weekday: int | None, day: int | None, on: date) -> bool:
    """Whether a schedule has a slot on the local date ``on``."""
    if frequency == ReportSchedule.Frequency.WEEKLY:
        return on.isoweekday() == weekday
    if frequency == ReportSchedule.Frequency.MONTHLY:
        assert day is not None
        return on.day == min(day, calendar.monthrange(on.year, on.month)[1])
    return True


def slot_instant(on: date, hour: int, tz: ZoneInfo) -> datetime:
    """``hour``:00 local on ``on``, in UTC. A skipped hour (DST) maps forward with the offset before
    the change (fold 0): Berlin's 02:00 on the spring change is 01:00 UTC, i.e. 03:00 summer time."""
    return datetime.combine(on, time(hour), tzinfo=tz).astimezone(UTC)


def latest_slot(schedule: ReportSchedule, now: datetime) -> datetime:
    """The schedule's latest slot at or before ``now`` (UTC)."""
    tz = schedule.workspace.tzinfo
    today = now.astimezone(tz).date()
    for back in range(LOOKBACK_DAYS):
        on = today - timedelta(days=back)
        if runs_on(schedule.frequency, schedule.weekday, schedule.day, on):
            slot = slot_instant(on, schedule.hour, tz)
            if slot <= now:
                return slot
    raise AssertionError(f"no slot of schedule {schedule.pk} in {LOOKBACK_DAYS} days")  # pragma: no cover


def report_period(frequency: str, slot_day: date, tz: ZoneInfo) -> Period:
    """What the analysis report of a slot on local date ``slot_day`` covers (complete days only)."""
    if frequency == ReportSchedule.Frequency.WEEKLY:
        monday = slot_day - timedelta(days=slot_day.isoweekday() - 1 + 7)
        return period_between(monday, monday + timedelta(days=6), tz)
    if frequency == ReportSchedule.Frequency.MONTHLY:
        last = slot_day.replace(day=1) - timedelta(days=1)
        return period_between(last.replace(day=1), last, tz)
    return Period.ending(slot_day - timedelta(days=1), ANALYSIS_DAYS, tz)


# --- Validation (the API's serializer and the page's form both call it) --------------------------


def visible_dashboard(workspace: Any, user: Any, pk: Any) -> Dashboard | None:
    """A board of ``workspace`` that ``user`` may see (theirs or shared with the workspace)."""
    if not isinstance(pk, int):
        return None
    return in_workspace(Dashboard, workspace).visible_to(user).filter(pk=pk).first()  # type: ignore[attr-defined]


class ScheduleInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def split_recipients(value: Any) -> list[str]:
    """A list as is; a text (the page's field): addresses separated by commas, semicolons or space."""
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,;]+", value) if part]
    return list(value or [])


def schedule_values(data: Mapping[str, Any], *, workspace: Any, owner: Any) -> dict[str, Any]:
    """The values to save for a schedule (each field already of its type), with the rules that
    span fields; ``ScheduleInvalid`` names each field at fault. What a frequency or kind does not use
    (``weekday`` unless weekly, ``day`` unless monthly, ``dashboard`` unless kind=dashboard) is
    stored as null."""
    errors: dict[str, list[str]] = {}
    values = dict(data)
    kind, frequency = values.get("kind") or ReportSchedule.Kind.ANALYSIS, values.get("frequency")
    values["kind"] = kind
    if kind == ReportSchedule.Kind.DASHBOARD:
        board = values.get("dashboard")
        board_id = board.pk if isinstance(board, Dashboard) else board
        values["dashboard"] = board_id and visible_dashboard(workspace, owner, board_id)
        if board_id is None:
            errors["dashboard"] = [_("A dashboard report needs a dashboard.")]
        elif values["dashboard"] is None:
            errors["dashboard"] = [_("No such dashboard in this workspace, or its owner cannot see it.")]
    else:
        values["dashboard"] = None
    if frequency == ReportSchedule.Frequency.WEEKLY:
        if values.get("weekday") is None:
            errors["weekday"] = [_("A weekly report needs a weekday (1 = Monday … 7 = Sunday).")]
    else:
        values["weekday"] = None
    if frequency == ReportSchedule.Frequency.MONTHLY:
        if values.get("day") is None:
            errors["day"] = [_("A monthly report needs a day of the month (1–31).")]
    else:
        values["day"] = None
    recipients: list[str] = []
    for raw in split_recipients(values.get("recipients")):
        address = str(raw).strip()
        try:
            validate_email(address)
        except ValidationError:
            errors.setdefault("recipients", []).append(
                _("“%(value)s” is not an email address.") % {"value": address[:100]}
            )
            continue
        if address.lower() not in {r.lower() for r in recipients}:
            recipients.append(address)
    if "recipients" not in errors and not recipients:
        errors["recipients"] = [_("Name at least one recipient.")]
    elif len(recipients) > MAX_RECIPIENTS:
        errors["recipients"] = [_("At most %(n)s recipients.") % {"n": MAX_RECIPIENTS}]
    values["recipients"] = recipients
    if errors:
        raise ScheduleInvalid(errors)
    return values


# --- What is sent --------------------------------------------------------------------------------


@dataclass
class BuiltReport:
    """A slot's report, once for all its recipients (each email differs only by its unsubscribe link)."""

    title: str
    period: Period | None  # the analysis report's; a board shows its own periods
    pdf: bytes
    filename: str  # without extension
    link: str  # where to see it in the app (absolute)
    lines: list[tuple[str, str, str, str]] = field(default_factory=list)  # metric, value, previous, change
    csvs: list[tuple[str, str]] = field(default_factory=list)  # (filename, text)
    tiles: list[str] = field(default_factory=list)  # a board's tile titles

    def attachments(self) -> list[tuple[str, bytes | str, str]]:
        return [(f"{self.filename}.pdf", self.pdf, "application/pdf")] + [
            (name, text, "text/csv") for name, text in self.csvs
        ]


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def build_report(schedule: ReportSchedule, slot: datetime, viewer: Any = None) -> BuiltReport:
    """The slot's report in the active language (the caller overrides it with the schedule's),
    computed as ``viewer`` (default: the schedule's owner)."""
    if schedule.kind == ReportSchedule.Kind.DASHBOARD:
        return build_dashboard(schedule, viewer or schedule.owner)
    return build_analysis(schedule, slot)


def build_analysis(schedule: ReportSchedule, slot: datetime) -> BuiltReport:
    workspace = schedule.workspace
    period = report_period(schedule.frequency, slot.astimezone(workspace.tzinfo).date(), workspace.tzinfo)
    report = analysis_report(ReportQuery.over(workspace, period))
    lines = [(line.label, f"{line.value:,}", f"{line.previous:,}", percent(line.change_pct)) for line in report.summary]
    summary = [{"metric": m, "value": v, "previous": p, "change": c} for m, v, p, c in lines]
    findings = [
        {"section": section.title, "subject": f.subject, "evidence": f.evidence}
        for section in report.sections
        for f in section.findings
    ]
    filename = f"{workspace.slug}-analysis-{period.start}-{period.end}"
    path = reverse("reports-analysis", kwargs={"slug": workspace.slug})
    return BuiltReport(
        title=_("Analysis report · %(name)s") % {"name": workspace.name},
        period=period,
        pdf=report_pdf(report),
        filename=filename,
        link=site_url(f"{path}?{urlencode({'start': str(period.start), 'end': str(period.end)})}"),
        lines=lines,
        csvs=[
            (f"{filename}-summary.csv", csv_text(summary, ["metric", "value", "previous", "change"])),
            (f"{filename}-findings.csv", csv_text(findings, ["section", "subject", "evidence"])),
        ],
    )


class BoardNotVisible(Exception):
    """The schedule's board is gone from the viewer's sight (made private by another owner)."""


def build_dashboard(schedule: ReportSchedule, viewer: Any) -> BuiltReport:
    """The board as its ``viewer`` sees it now (its own period and filters): a PDF with each tile's
    title and table, and one CSV per tile with a table."""
    board = visible_dashboard(schedule.workspace, viewer, schedule.dashboard_id)
    if board is None:
        raise BoardNotVisible(f"dashboard {schedule.dashboard_id} is not visible to {viewer}")
    titles = {tile.pk: tile.title for tile in board.tiles.all()}
    tiles, csvs = [], []
    filename = f"{schedule.workspace.slug}-dashboard-{board.pk}"
    for tile in dashboard_data(board, viewer)["tiles"]:
        columns, rows = tile_table(tile["data"]) if tile["status"] == 200 else ([], [])
        title = titles.get(tile["id"], "")
        tiles.append({"title": title, "status": tile["status"], "columns": columns, "rows": rows})
        if rows:
            header = [c or "name" for c in columns]
            csvs.append((f"{filename}-tile-{tile['id']}.csv", csv_text([dict(zip(header, r, strict=True)) for r in rows], header)))  # fmt: skip
    return BuiltReport(
        title=pgettext("scheduled report", "Dashboard · %(name)s") % {"name": board.name},
        period=None,
        pdf=dashboard_pdf(board.name, board.description, tiles),
        filename=filename,
        link="",
        tiles=[t["title"] for t in tiles],
        csvs=csvs,
    )


def unsubscribe_token(schedule: ReportSchedule, recipient: str) -> str:
    """A signed token naming one recipient of one schedule (no expiry: an old email's link works)."""
    return signing.dumps({"s": schedule.pk, "e": recipient.lower()}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(token: str) -> str:
    return site_url(reverse("reports-unsubscribe", kwargs={"token": token}))


def email_context(schedule: ReportSchedule, built: BuiltReport, recipient: str, unsubscribe: str) -> dict[str, Any]:
    return {
        "schedule": schedule,
        "workspace": schedule.workspace,
        "report": built,
        "recipient": recipient,
        "unsubscribe_url": unsubscribe,
        "frequency": schedule.get_frequency_display(),
    }


def email_message(
    schedule: ReportSchedule, built: BuiltReport, recipient: str, unsubscribe: str
) -> EmailMultiAlternatives:
    """One recipient's email: subject the schedule's name, text and HTML bodies, the PDF and CSVs."""
    context = email_context(schedule, built, recipient, unsubscribe)
    message = EmailMultiAlternatives(
        subject=" ".join(schedule.name.split()),  # a line break in a header would refuse the email
        body=render_to_string("reports/schedule_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
        # One click in the mail client (RFC 8058) removes this recipient, as the link does.
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    message.attach_alternative(render_to_string("reports/schedule_email.html", context), "text/html")
    for name, content, mimetype in built.attachments():
        message.attach(name, content, mimetype)
    return message


# --- Sending -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    schedule_id: int
    slot: datetime
    sent: int
    error: str = ""


def claim_slot(schedule_id: int, slot: datetime) -> bool:
    """Mark ``slot`` as sent unless it (or a later one) already is: one UPDATE, so of two senders at
    once exactly one gets the row (PostgreSQL re-checks the condition after the other commits)."""
    unsent = Q(last_slot__isnull=True) | Q(last_slot__lt=slot)
    return ReportSchedule.objects.filter(pk=schedule_id).filter(unsent).update(last_slot=slot) == 1


def owner_may_read(schedule: ReportSchedule) -> bool:
    """A report is computed for its owner: one who left the workspace (or was deactivated) sends none."""
    owner = schedule.owner
    if not (owner.is_active and (owner.is_superuser or Membership.role_of(owner, schedule.workspace))):
        return False
    # A board its owner can no longer see (another owner made it private) is not sent either.
    return schedule.kind != ReportSchedule.Kind.DASHBOARD or (
        visible_dashboard(schedule.workspace, owner, schedule.dashboard_id) is not None
    )


def send_schedule(schedule: ReportSchedule, now: datetime) -> SendResult | None:
    """Send the schedule's latest slot if it is unsent; None when there is nothing to send."""
    slot = latest_slot(schedule, now)
    if (schedule.last_slot is not None and schedule.last_slot >= slot) or not schedule.recipients:
        return None
    if not owner_may_read(schedule) or not claim_slot(schedule.pk, slot):
        return None
    previous, sent, errors = schedule.last_slot, 0, []
    try:
        with translation.override(schedule.language):
            built = build_report(schedule, slot)
            for recipient in schedule.recipients:
                try:
                    email_message(schedule, built, recipient, unsubscribe_url(unsubscribe_token(schedule, recipient))).send()  # fmt: skip
                    sent += 1
                except Exception as exc:  # one bad address or a mail server hiccup: the others still get it
                    logger.exception("scheduled report %s: sending to %s failed", schedule.pk, recipient)
                    errors.append(f"{recipient}: {type(exc).__name__}: {exc}")
    except Exception as exc:
        logger.exception("scheduled report %s: building the report failed", schedule.pk)
        errors.append(f"{type(exc).__name__}: {exc}")
    error = "\n".join(errors)[:2000]
    if sent:
        ReportSchedule.objects.filter(pk=schedule.pk).update(last_sent_at=now, last_error=error)
    else:
        # Nobody got it: give the slot back so the next run tries again (while it is still the latest).
        ReportSchedule.objects.filter(pk=schedule.pk, last_slot=slot).update(last_slot=previous, last_error=error)
    return SendResult(schedule.pk, slot, sent, error)


def send_due(now: datetime) -> list[SendResult]:
    """Every schedule's latest slot at or before ``now`` that is still unsent, emailed (one run of
    ``manage.py send_scheduled_reports``)."""
    results = []
    schedules = ReportSchedule.objects.select_related("workspace", "owner").order_by("pk")
    for schedule in schedules.iterator(chunk_size=200):
        result = send_schedule(schedule, now)
        if result is not None:
            results.append(result)
    return results


def preview(schedule: ReportSchedule, now: datetime, viewer: Any) -> tuple[EmailMultiAlternatives, BuiltReport]:
    """The email its first recipient would get for the latest slot, built for ``viewer`` but not
    sent; the unsubscribe link is a sample that removes nobody."""
    with translation.override(schedule.language):
        built = build_report(schedule, latest_slot(schedule, now), viewer)
        recipient = (schedule.recipients or [""])[0]
        sample = unsubscribe_url("preview")
        return email_message(schedule, built, recipient, sample), built


# --- Unsubscribing -----------------------------------------------------------------------------


def unsubscribe(token: str) -> tuple[ReportSchedule, str] | None:
    """Remove the token's recipient from its schedule; None for a token that is not ours (bad
    signature) or whose schedule is gone. Removing someone already removed changes nothing."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int) or not isinstance(data.get("e"), str):
        return None
    email = data["e"]
    with transaction.atomic():
        schedule = ReportSchedule.objects.select_for_update().select_related("workspace").filter(pk=data["s"]).first()
        if schedule is None:
            return None
        kept = [r for r in schedule.recipients if r.lower() != email]
        if kept != schedule.recipients:
            schedule.recipients = kept
            schedule.save(update_fields=["recipients", "updated_at"])
    return schedule, email


# --- Saving from the page (the API saves through tenancy.api.views.SavedConfigViewSet) ----------


def schedule_save(
    *, workspace: Any, actor: Any, schedule: ReportSchedule | None, values: dict[str, Any]
) -> ReportSchedule:
    """Create (``actor`` its owner) or change a schedule from checked ``values``; audited."""
    fields = ("name", "kind", "dashboard", "frequency", "weekday", "day", "hour", "recipients", "language", "visibility")  # fmt: skip
    before = None if schedule is None else field_values(schedule)
    if schedule is None:
        schedule = ReportSchedule(workspace=workspace, owner=actor)
    for name in fields:
        setattr(schedule, name, values[name])
    schedule.save()
    audit_saved_config(actor=actor, instance=schedule, before=before)
    return schedule


def schedule_delete(*, actor: Any, schedule: ReportSchedule) -> None:
    audit_saved_config(actor=actor, instance=schedule, before=None, deleted=True)
    schedule.delete()


def token_is_signed(token: str) -> bool:
    """Whether a token carries our signature (its schedule may be gone): a 404 then, else a 400."""
    try:
        signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return False
    return True
