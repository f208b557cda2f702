"""``manage.py seed_demo``: the demo workspace ``zylker`` with realistic data, and an admin login.

The data comes from ``events.demo`` (deterministic: seed 42, anchored on today in the workspace's
time zone) and goes in through the same services as real data: ``crm_users_upsert``,
``events_ingest`` and ``rollups_rebuild``. Then the CRM records (``demo.records``: accounts,
products, deals, activities, targets of a sales team drawn from the "Sales Rep" users, the heavier
CRM users selling more) go in as the records batch endpoint takes them (``parse_record``,
``records_upsert`` in batches of 1000) and ``figures_refresh_dirty`` builds their aggregates. The
workspace keeps the default base currency, USD.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import reset_queries, transaction
from django.db.models import Count, Min, Sum
from django.utils import timezone

from demo import perception as demo_perception
from demo import records as demo_records
from events import demo
from events.models import CrmUser, DirtyDay, Event, Feature, FeatureAction, Session, UserDay, UserFeatureDay
from events.periods import local_midnight_utc
from events.rollups import DAILY_ROLLUPS, MONTHLY_ROLLUPS, rollups_rebuild
from events.services import IngestResult, crm_users_upsert, events_ingest
from records.aggregates import figures_refresh_dirty
from records.labelling import feedback_label_pending
from records.models import (
    Account,
    AccountFigures,
    Activity,
    Contract,
    CreatedMonthFigures,
    Deal,
    DealDayFigures,
    DealLineItem,
    DealMonthFigures,
    DealStageChange,
    Feedback,
    FeedbackTerm,
    PerceptionSettings,
    Product,
    ProductDayFigures,
    RecordsDirty,
    RepDayActivity,
    RetentionSpend,
    SurveyResponse,
    Target,
)
from records.services import KIND_TABLES, records_tables_analyze, records_upsert
from records.validation import parse_record
from tenancy.models import Membership, Workspace
from tenancy.services import membership_set, workspace_create

CHUNK_SIZE = 5000
RECORDS_BATCH = 1000  # items per records_upsert, as the batch endpoint takes them
ADMIN_USERNAME = "admin"
SALES_REP_ROLE = "Sales Rep"
# The records' aggregates and activities, deleted by plain DELETEs as the events are (a cascade would load
# every row); then line items, stage history, deals, targets, accounts and products, in that order.
RECORD_MODELS: tuple[Any, ...] = (
    AccountFigures, DealDayFigures, DealMonthFigures, CreatedMonthFigures, RepDayActivity, ProductDayFigures,
    RecordsDirty, Activity, FeedbackTerm, Feedback, SurveyResponse, Contract, RetentionSpend, PerceptionSettings,
)  # fmt: skip


def _positive(maximum: int) -> Any:
    def parse(value: str) -> int:
        number = int(value)
        if not 1 <= number <= maximum:
            raise ValueError
        return number

    parse.__name__ = f"integer from 1 to {maximum}"
    return parse


class Command(BaseCommand):
    help = (
        f"Create the demo workspace {demo.SLUG!r} ({demo.NAME}, {demo.TIMEZONE}) with CRM users, a feature catalog "
        "of every type and realistic events over the last days, then build its rollups; then CRM records (accounts, "
        "products, deals, activities, targets) of a sales team drawn from its Sales Rep users, and their aggregates. "
        f"Also creates (or resets the password of) the superuser {ADMIN_USERNAME!r} and prints the login. If the "
        "workspace exists, its data is kept unless --reset is given (records are added if it has none)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=_positive(100_000), default=200, help="CRM users (default 200).")
        parser.add_argument("--days", type=_positive(3650), default=90, help="Days ending today (default 90).")
        parser.add_argument(
            "--events", type=_positive(50_000_000), default=300_000, help="Events in all (default 300000)."
        )
        parser.add_argument("--reset", action="store_true", help=f"Delete {demo.SLUG!r} and generate it again.")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        workspace = Workspace.objects.filter(slug=demo.SLUG).first()
        if workspace is not None and options["reset"]:
            self._delete(workspace)
            workspace = None
        if workspace is not None:
            events = Event.objects.filter(workspace=workspace).count()
            deals = Deal.objects.filter(workspace=workspace).count()
            self.stdout.write(
                f"Workspace {demo.SLUG} already exists ({events:,} events, {deals:,} deals); keeping its data "
                "(use --reset to generate it again)."
            )
            if not Account.objects.filter(workspace=workspace).exists():
                self._records(workspace, None)  # a demo from before the records: add them
        else:
            workspace = self._generate(options["users"], options["days"], options["events"], started)
            self._records(workspace, options["days"])
        password = self._admin(workspace)
        self._saved_examples(workspace)
        self.stdout.write(f"Done in {time.monotonic() - started:.1f} s.")
        self.stdout.write(
            self.style.SUCCESS(f"Admin login: http://127.0.0.1:8000/  user: {ADMIN_USERNAME}  password: {password}")
        )

    def _delete(self, workspace: Workspace) -> None:
        step = time.monotonic()
        with transaction.atomic():
            # Largest tables first with plain DELETEs: letting the cascade collect them (Event.feature
            # is PROTECT, so Django would load every event to check it) is far slower.
            for model in (Event, *DAILY_ROLLUPS, *MONTHLY_ROLLUPS, DirtyDay, *RECORD_MODELS):
                model.objects.filter(workspace=workspace).delete()
            DealLineItem.objects.filter(deal__workspace=workspace).delete()
            DealStageChange.objects.filter(deal__workspace=workspace).delete()
            for model in (Deal, Target, Account, Product):
                model.objects.filter(workspace=workspace).delete()
            workspace.delete()
        self.stdout.write(f"Deleted workspace {demo.SLUG} ({time.monotonic() - step:.1f} s).")

    def _generate(self, n_users: int, n_days: int, n_events: int, started: float) -> Workspace:
        step = time.monotonic()
        with transaction.atomic():  # all or nothing: an interrupted run leaves no half workspace
            workspace, ingest_key = workspace_create(slug=demo.SLUG, name=demo.NAME, timezone_name=demo.TIMEZONE)
            Feature.objects.bulk_create(
                [Feature(workspace=workspace, key=key, name=name, type=kind) for key, name, kind in demo.FEATURES]
            )
            anchor = workspace.today()
            plan = demo.demo_plan(
                users=n_users, days=n_days, events=n_events, anchor=anchor, tz=workspace.tzinfo, now=timezone.now()
            )
            users = crm_users_upsert(workspace=workspace, rows=plan.user_rows)
            self.stdout.write(
                f"Created workspace {demo.SLUG} ({demo.NAME}, {demo.TIMEZONE}), {len(demo.FEATURES)} features "
                f"and {users.created} CRM users; generating {plan.event_count:,} events over the {n_days} days "
                f"ending {anchor}…"
            )
            total, chunk = IngestResult(), []
            report_every = max(CHUNK_SIZE, plan.event_count // 10)
            reported = 0
            # The lighter Sales Reps never open the power features (demo.records.basics_only): the
            # feature gap the Adoption × outcome page shows between the best sellers and the others.
            skipped = demo_records.basics_only([(u.external_id, u.role, u.weight) for u in plan.users])
            for row in plan.events():
                if row.feature in skipped.get(row.user, ()):
                    row = demo_records.basic_event(row)
                chunk.append(row)
                if len(chunk) >= CHUNK_SIZE:
                    total.add(events_ingest(workspace=workspace, rows=chunk, enqueue_refresh=False))
                    chunk = []
                    reset_queries()  # with DEBUG on, Django would keep every statement
                    if total.accepted - reported >= report_every:
                        reported = total.accepted
                        self.stdout.write(
                            f"  {total.accepted:,} / {plan.event_count:,} events stored "
                            f"({time.monotonic() - started:.1f} s)"
                        )
            total.add(events_ingest(workspace=workspace, rows=chunk, enqueue_refresh=False))
            if total.accepted != plan.event_count:  # uuids are fresh, so nothing can be a duplicate
                raise CommandError(f"Stored {total.accepted} events of {plan.event_count}; aborting.")
        demo.receipt_times(workspace)
        self.stdout.write(f"Stored {total.accepted:,} events ({time.monotonic() - step:.1f} s).")

        step = time.monotonic()
        days = rollups_rebuild(workspace=workspace)
        self.stdout.write(
            f"Built rollups of {days} days: {UserDay.objects.filter(workspace=workspace).count():,} user-days, "
            f"{Session.objects.filter(workspace=workspace).count():,} sessions, "
            f"{UserFeatureDay.objects.filter(workspace=workspace).count():,} user-feature-days "
            f"({time.monotonic() - step:.1f} s)."
        )
        self.stdout.write(f"Ingest key of {demo.SLUG} (for POST /api/v1/events/batch; not shown again): {ingest_key}")
        return workspace

    def _records(self, workspace: Workspace, days: int | None) -> None:
        """The demo's CRM records (``demo.records``) through the batch endpoint's validation and upsert,
        then their aggregates; all or nothing. ``days``: the events' window (None: from the rollups)."""
        step = time.monotonic()
        anchor = workspace.today()
        if days is None:
            first = UserDay.objects.filter(workspace=workspace).aggregate(first=Min("day"))["first"]
            days = max(1, (anchor - first).days + 1) if first and first <= anchor else 90
        window_start = local_midnight_utc(anchor - timedelta(days=days - 1), workspace.tzinfo)
        team = sales_team(workspace, window_start)
        plan = demo_records.records_plan(team=team, anchor=anchor, days=days, tz=workspace.tzinfo, now=timezone.now())
        tz = workspace.tzinfo
        perception = demo_perception.perception_plan(
            accounts=plan["accounts"], skill=demo_records.skills(team), anchor=anchor, tz=tz, now=timezone.now()
        )
        with transaction.atomic():
            for kind, items in [*((k, plan[k]) for k in demo_records.KINDS), *perception.items()]:
                for start in range(0, len(items), RECORDS_BATCH):
                    parsed = []
                    for index, raw in enumerate(items[start : start + RECORDS_BATCH]):
                        row, errors = parse_record(kind, raw, tz=tz)
                        if row is None:
                            raise CommandError(f"Demo {kind} item {start + index} is invalid: {errors}")
                        parsed.append((index, row))
                    result = records_upsert(workspace=workspace, kind=kind, items=parsed, enqueue_refresh=False)
                    if result.rejected:
                        raise CommandError(f"Demo {kind} rejected: {result.rejected[:3]}")
            records_tables_analyze(KIND_TABLES)
            labelled = feedback_label_pending(workspace=workspace)
            figures_refresh_dirty(workspace=workspace)
        lines = sum(len(d["line_items"]) for d in plan["deals"])
        self.stdout.write(
            f"Created CRM records of a sales team of {len(team)}: {len(plan['accounts'])} accounts, "
            f"{len(plan['products'])} products, {len(plan['deals'])} deals ({lines} line items), "
            f"{len(plan['activities']):,} activities, {len(plan['targets'])} targets; currency "
            f"{workspace.currency}; {len(perception['contracts'])} contracts, {len(perception['surveys'])} survey "
            f"responses, {len(perception['retention-spend'])} retention spend rows, {labelled} feedback texts "
            f"labelled ({time.monotonic() - step:.1f} s)."
        )

    def _saved_examples(self, workspace: Workspace) -> None:
        """A shared funnel and filter set, so the Funnels and User analysis tabs open on something."""
        from funnels.models import Funnel
        from funnels.services import funnel_create
        from useranalysis.models import FilterSet

        owner = get_user_model()._default_manager.get(**{get_user_model().USERNAME_FIELD: ADMIN_USERNAME})
        if not Funnel.objects.filter(workspace=workspace).exists():
            steps = [
                {"feature": "Leads", "action": "create", "detail": ""},
                {"feature": "Leads", "action": "view", "detail": "detail_view"},
                {"feature": "Leads", "action": "convert", "detail": ""},
            ]
            data = {"name": "Lead conversion", "steps": steps, "unit": "record", "window_days": 14}
            with contextlib.suppress(ValidationError):  # a demo too small to have converted a lead yet
                funnel_create(workspace=workspace, owner=owner, data={**data, "visibility": "workspace"})
            # Per user, with an exclusion step: attempts in which the user deleted a lead do not count.
            data = {
                "name": "Leads followed through without deletions",
                "steps": steps,
                "unit": "user",
                "window_days": 7,
                "exclusions": [{"feature": "Leads", "action": "delete", "detail": "", "between": [1, 3]}],
            }
            with contextlib.suppress(ValidationError):
                funnel_create(workspace=workspace, owner=owner, data={**data, "visibility": "workspace"})
        self._saved_segments(workspace, owner)
        self._board_examples(workspace, owner)
        if not FeatureAction.objects.filter(workspace=workspace, feature__key="Leads", action="create").exists():
            return
        if not FilterSet.objects.filter(workspace=workspace).exists():
            FilterSet.objects.create(
                workspace=workspace,
                owner=owner,
                name="Daily users who never create leads",
                visibility="workspace",
                group_by="country",
                conditions={
                    "activity": [{"metric": "last_seen_days", "op": "<=", "value": 1}],
                    "features": [{"feature": "Leads", "action": "create", "used": False, "min_count": 1}],
                },
            )

    def _saved_segments(self, workspace: Workspace, owner: Any) -> None:
        """Shared segments, so the Accounts list and the Perception tab's breakdown by segment show some."""
        from accounts.models import Segment
        from accounts.queries import segment_filters
        from accounts.services import segment_save

        if Segment.objects.filter(workspace=workspace).exists():
            return
        examples = [
            ("Technology accounts", {"industry": ["Technology"]}),
            ("Financial services", {"industry": ["Financial Services"]}),
            ("Detractors (NPS below 0)", {"max_nps": "-0.1"}),
            ("Churn risk", {"suggested": "churn_risk"}),
        ]
        for name, filters in examples:
            values = {"name": name, "visibility": "workspace", "filters": segment_filters(workspace, filters)}
            segment_save(workspace=workspace, actor=owner, segment=None, values=values)

    def _board_examples(self, workspace: Workspace, owner: Any) -> None:
        """A shared board, a launch annotation, an alert and a weekly report, so the Dashboards and Alerts
        pages and the report schedules open on something (DESIGN.md section 8)."""
        from alerts.models import Alert
        from dashboards.models import Annotation, Dashboard
        from dashboards.services import dashboard_create, tiles_replace
        from reports.models import ReportSchedule
        from reports.schedules import latest_slot

        if Dashboard.objects.filter(workspace=workspace).exists():
            return
        today = timezone.localdate(timezone=workspace.tzinfo)
        board = dashboard_create(
            workspace=workspace,
            owner=owner,
            values={
                "name": "Weekly CRM review",
                "description": "Adoption at a glance: the summary, the weekly trend and the most used features.",
                "visibility": "workspace",
            },
        )
        last_30 = {"period": "last_30_days"}
        tiles = [
            ("Summary", "home/summary", last_30, (0, 0, 12, 3)),
            ("Interactions per week", "home/weekly-interactions", {"as_of": today.isoformat()}, (0, 3, 6, 4)),
            ("Leads: users per week", "trends", {**last_30, "feature": "Leads", "measure": "users", "interval": "week"}, (6, 3, 6, 4)),
            ("Feature popularity", "hub/popularity", last_30, (0, 7, 12, 4)),
        ]  # fmt: skip
        tiles_replace(
            board,
            [
                {"title": title, "endpoint": endpoint, "query": query, "x": x, "y": y, "w": w, "h": h}
                for title, endpoint, query, (x, y, w, h) in tiles
            ],
        )
        Annotation.objects.create(
            workspace=workspace, date=today - timedelta(days=14), text="Lead scoring rolled out", author=owner
        )
        Alert.objects.create(
            workspace=workspace,
            owner=owner,
            name="Fewer than 5 active users yesterday",
            visibility="workspace",
            metric="active_users",
            params={"days": 1},
            condition="threshold",
            op="<",
            value=5,
            interval="daily",
            recipients=["admin@example.com"],
        )
        schedule = ReportSchedule.objects.create(
            workspace=workspace,
            owner=owner,
            name="Weekly analysis report",
            visibility="workspace",
            kind="analysis",
            frequency="weekly",
            weekday=1,
            hour=8,
            recipients=["admin@example.com"],
            language="en",
        )
        # Its first email is next Monday's: the slot already past is not sent by a fresh demo.
        ReportSchedule.objects.filter(pk=schedule.pk).update(last_slot=latest_slot(schedule, timezone.now()))

    def _admin(self, workspace: Workspace) -> str:
        """The superuser ``admin`` with a fresh random password, an admin member of the workspace."""
        user_model = get_user_model()
        password = secrets.token_urlsafe(12)
        user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: ADMIN_USERNAME}).first()
        if user is None:
            user = user_model._default_manager.create_superuser(
                **{user_model.USERNAME_FIELD: ADMIN_USERNAME}, email="admin@example.com", password=password
            )
            action = "Created"
        else:
            user.is_superuser = user.is_staff = user.is_active = True
            user.set_password(password)
            user.save()
            action = "Reset the password of"
        membership_set(workspace=workspace, user=user, role=Membership.Role.ADMIN)
        self.stdout.write(f"{action} superuser {ADMIN_USERNAME!r}, an admin of {demo.SLUG}.")
        return password


def sales_team(workspace: Workspace, window_start: datetime) -> list[demo_records.RepUsage]:
    """The reps who own the demo's records: the "Sales Rep" users not deactivated and registered
    before the window (at most ``demo.records.TEAM_SIZE``, drawn with the seed), each with their CRM
    usage over the window from the rollups (attendance days, interactions). A demo too small to have
    such users falls back to any sales role, then to every user."""
    users = CrmUser.objects.filter(workspace=workspace)
    candidates = users.filter(role=SALES_REP_ROLE, created_at__lt=window_start).exclude(
        status=CrmUser.Status.DEACTIVATED
    )
    for fallback in (users.filter(role__startswith="Sales"), users.exclude(status=CrmUser.Status.DEACTIVATED), users):
        if candidates.exists():
            break
        candidates = fallback
    ids = dict(candidates.values_list("external_id", "id"))
    picked = demo_records.team_pick(list(ids))
    usage = {
        row["crm_user_id"]: (row["days"], row["events"])
        for row in UserDay.objects.filter(workspace=workspace, crm_user_id__in=[ids[e] for e in picked])
        .values("crm_user_id")
        .annotate(days=Count("id"), events=Sum("events"))
        .order_by()
    }
    return [demo_records.RepUsage(external_id, *usage.get(ids[external_id], (0, 0))) for external_id in picked]
