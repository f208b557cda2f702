"""Can the data be trusted (docs/metrics.md#data-quality): suspected duplicates, short and long
sessions, late and future events, users never seen, auto-created features to review — each with a
count and a few examples to act on.

Sessions come from their rollup; duplicates, late and future events are found in the raw events of
the period (through the ``(workspace, occurred_at)`` index), which a data-quality check may read:
it is asked for now and then, not drawn on every page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Q

from events.filters import crm_user_condition, filter_crm_users
from events.models import CrmUser, Event, Feature, Session, UserMonth
from tenancy.scoping import in_workspace

if TYPE_CHECKING:  # the selectors take the queries; parsing a query may call a selector
    from behaviour.queries import QualityQuery

EXAMPLES = 10
DUPLICATE_GAP = timedelta(seconds=1)
SHORT_SESSION = timedelta(seconds=10)
LONG_SESSION = timedelta(hours=24)
LATE = timedelta(hours=24)
FUTURE = timedelta(minutes=5)


@dataclass
class Finding:
    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, example: dict[str, Any]) -> None:
        self.count += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(example)


@dataclass
class DataQuality:
    suspected_duplicates: Finding
    short_sessions: Finding
    long_sessions: Finding
    late_events: Finding
    future_events: Finding
    users_never_seen: Finding
    features_to_review: list[dict[str, Any]]


def _event_example(event: dict[str, Any], tz: Any, **extra: Any) -> dict[str, Any]:
    return {
        "user": event["crm_user__external_id"],
        "feature": event["feature__key"],
        "action": event["action"],
        "timestamp": event["occurred_at"].astimezone(tz).isoformat(),
        **extra,
    }


EVENT_FIELDS = ("id", "crm_user_id", "crm_user__external_id", "feature_id", "feature__key", "action", "detail",
                "record_id", "occurred_at", "received_at")  # fmt: skip


def data_quality(query: QualityQuery) -> DataQuality:
    workspace, period, filters = query.workspace, query.period, query.filters
    tz = workspace.tzinfo
    condition = crm_user_condition(workspace, filters)
    start, end = period.start_utc, period.end_utc
    # The second before the period too: an event at its first instant may repeat one just before.
    events = in_workspace(Event, workspace).filter(occurred_at__gte=start - DUPLICATE_GAP, occurred_at__lt=end)
    if condition is not None:
        events = events.filter(condition)
    duplicates, late, future = Finding(), Finding(), Finding()
    last_seen: dict[tuple[Any, ...], datetime] = {}
    ordered = events.order_by("occurred_at", "id").values(*EVENT_FIELDS)
    for event in ordered.iterator(chunk_size=5000):
        key = (event["crm_user_id"], event["feature_id"], event["action"], event["detail"], event["record_id"])
        moment = event["occurred_at"]
        previous = last_seen.get(key)
        last_seen[key] = moment
        if moment < start:
            continue
        if previous is not None and moment - previous <= DUPLICATE_GAP:
            gap = (moment - previous).total_seconds()
            duplicates.add(_event_example(event, tz, gap_seconds=round(gap, 3)))
        delay = event["received_at"] - moment
        if delay > LATE:
            late.add(_event_example(event, tz, received_at=event["received_at"].astimezone(tz).isoformat()))
        elif -delay > FUTURE:
            future.add(_event_example(event, tz, received_at=event["received_at"].astimezone(tz).isoformat()))

    sessions = in_workspace(Session, workspace).filter(day__range=(period.start, period.end))
    if condition is not None:
        sessions = sessions.filter(condition)
    short, long = Finding(), Finding()
    lengths = sessions.annotate(length=F("ended_at") - F("started_at"))
    for finding, narrow in ((short, Q(length__lt=SHORT_SESSION)), (long, Q(length__gt=LONG_SESSION))):
        chosen = lengths.filter(narrow)
        finding.count = chosen.count()
        finding.examples = [
            {"user": s["crm_user__external_id"], "started_at": s["started_at"].astimezone(tz).isoformat(),
             "seconds": round((s["ended_at"] - s["started_at"]).total_seconds(), 3), "events": s["events"]}
            for s in chosen.order_by("-started_at").values(
                "crm_user__external_id", "started_at", "ended_at", "events"
            )[:EXAMPLES]
        ]  # fmt: skip

    never = filter_crm_users(in_workspace(CrmUser, workspace), filters).exclude(status=CrmUser.Status.DEACTIVATED)
    never = never.exclude(pk__in=in_workspace(UserMonth, workspace).values("crm_user_id")).order_by("external_id")
    users_never_seen = Finding(
        never.count(),
        [{"user": u.external_id, "name": u.name, "email": u.email} for u in never[:EXAMPLES]],
    )
    features = (
        in_workspace(Feature, workspace)
        .filter(auto_created=True)
        .annotate(seen_actions=Count("actions__action", distinct=True))
        .order_by("key")
    )
    review = [
        {
            "feature": f.key,
            "type": f.type,
            "created_at": f.created_at.astimezone(tz).isoformat(),
            "actions": f.seen_actions,
        }
        for f in features
    ]
    return DataQuality(duplicates, short, long, late, future, users_never_seen, review)
