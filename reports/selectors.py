"""The analysis report (docs/metrics.md#the-analysis-report): for a period, the summary metrics and
their change, the largest rises and falls in feature use, the least adopted features, failure and
anomaly hot spots, data-quality findings and the users who may need training — each finding with a
sentence of evidence. Every figure comes from the tabs' own selectors, so the report says what the
tabs show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from behaviour.queries import AnomaliesQuery, FailuresQuery, QualityQuery
from behaviour.selectors import anomalies, data_quality, failures_by_feature
from core.formatting import percent
from events.selectors import feature_catalog
from useranalysis.queries import UsersQuery
from useranalysis.selectors import user_rows
from views_home.queries import ActivityQuery, HomeQuery, PopularityQuery
from views_home.selectors import activity_features, feature_popularity, home_summary

if TYPE_CHECKING:
    from reports.queries import ReportQuery

TOP = 5
# A user "may need training" when they were active but used at most this many features, or when
# their active days fell by at least this share against the previous period.
FEW_FEATURES = 2
STEEP_DROP_PCT = -50.0


@dataclass(frozen=True)
class SummaryLine:
    label: str
    value: int
    previous: int
    change_pct: float | None


@dataclass(frozen=True)
class Finding:
    subject: str
    evidence: str  # one sentence


@dataclass
class Section:
    key: str
    title: str
    findings: list[Finding] = field(default_factory=list)
    empty: str = ""


@dataclass
class AnalysisReport:
    query: Any
    summary: list[SummaryLine]
    comparable: bool
    sections: list[Section]
    # The chart: interactions of the most used features, this period and the one before.
    chart: list[tuple[str, int, int]]


def _n(value: int) -> str:
    """A count as the active language writes it (1,569)."""
    return number_format(value, force_grouping=True)


def _change(value: int, previous: int) -> str:
    if previous == 0:
        return _("new this period") if value else _("no change")
    return percent((value - previous) / previous * 100)


def _use(key: str, now: dict[str, int], before: dict[str, int]) -> Finding:
    """A feature's interactions against the period before, as a finding."""
    current, previous = now.get(key, 0), before.get(key, 0)
    return Finding(key, _("%(now)s interactions against %(before)s in the period before (%(change)s).") % {
        "now": _n(current), "before": _n(previous), "change": _change(current, previous)})  # fmt: skip


def analysis_report(query: ReportQuery) -> AnalysisReport:
    workspace, period, filters = query.workspace, query.period, query.filters
    previous = period.previous()
    summary = home_summary(HomeQuery.over(workspace, period, filters))
    lines = [
        SummaryLine(_("Interactions"), summary.interactions.value, summary.interactions.previous, summary.interactions.change_pct),
        SummaryLine(_("Active users"), summary.active_users.value, summary.active_users.previous, summary.active_users.change_pct),
        SummaryLine(_("Features used"), summary.features_used.value, summary.features_used.previous, summary.features_used.change_pct),
        SummaryLine(_("Attendance days"), summary.attendance_days.value, summary.attendance_days.previous, summary.attendance_days.change_pct),
        SummaryLine(_("Inactive users"), summary.inactive_users.value, summary.inactive_users.previous, summary.inactive_users.change_pct),
    ]  # fmt: skip

    now = {f.feature: f.interactions for f in activity_features(ActivityQuery.over(workspace, period, filters))}
    before = {f.feature: f.interactions for f in activity_features(ActivityQuery.over(workspace, previous, filters))}
    changes = sorted((now.get(key, 0) - before.get(key, 0), key) for key in set(now) | set(before))
    rises = Section(
        "rises", _("Largest rises in feature use"), empty=_("No feature was used more than in the period before.")
    )
    rises.findings = [
        _use(key, now, before) for delta, key in sorted(changes, key=lambda c: (-c[0], c[1])) if delta > 0
    ][:TOP]
    falls = Section(
        "falls", _("Largest falls in feature use"), empty=_("No feature was used less than in the period before.")
    )
    falls.findings = [_use(key, now, before) for delta, key in changes if delta < 0][:TOP]

    popularity = {p.feature: p.users for p in feature_popularity(PopularityQuery.over(workspace, period, filters))}
    catalog = [f.key for f in feature_catalog(workspace=workspace)]
    adopted = Section("least_adopted", _("Least adopted features"), empty=_("The catalog has no feature yet."))
    active_users = summary.active_users.value
    for key in sorted(catalog, key=lambda k: (popularity.get(k, 0), k))[:TOP]:
        users = popularity.get(key, 0)
        adopted.findings.append(Finding(key, _("Used by %(users)s of %(active)s active users.") % {
            "users": _n(users), "active": _n(active_users)}))  # fmt: skip

    failing = Section("failures", _("Failure hot spots"), empty=_("No failure was reported in the period."))
    for failure in [
        r for r in failures_by_feature(FailuresQuery.over(workspace, period, filters)).features if r.failures
    ][:TOP]:
        failing.findings.append(Finding(f"{failure.feature} · {failure.action}", _(
            "%(failures)s of %(known)s operations with a known outcome failed (%(rate)s)."
        ) % {"failures": _n(failure.failures), "known": _n(failure.known_outcome), "rate": percent(failure.failure_rate_pct)}))  # fmt: skip

    abnormal = Section("anomalies", _("Anomaly hot spots"), empty=_("Every day stayed close to its baseline."))
    found = sorted(
        anomalies(AnomaliesQuery.over(workspace, period, filters)), key=lambda a: -(abs(a.z) if a.z is not None else 0)
    )
    for a in found[:TOP]:
        subject = a.feature or _("The workspace total")
        abnormal.findings.append(Finding(f"{subject}, {a.date.isoformat()}", _(
            "%(value)s events against a usual %(median)s: a %(direction)s."
        ) % {"value": _n(a.value), "median": f"{a.median:g}", "direction": _("spike") if a.direction == "spike" else _("drop")}))  # fmt: skip

    quality = data_quality(QualityQuery.over(workspace, period, filters))
    checks = Section("quality", _("Data quality"), empty=_("No data-quality problem was found."))
    for name, subject, sentence in (
        ("suspected_duplicates", _("Suspected duplicates"), _("%(count)s events repeat one of a second before.")),
        ("short_sessions", _("Short sessions"), _("%(count)s sessions lasted less than 10 seconds.")),
        ("long_sessions", _("Long sessions"), _("%(count)s sessions lasted more than 24 hours.")),
        ("late_events", _("Late events"), _("%(count)s events arrived more than a day after they happened.")),
        ("future_events", _("Future events"), _("%(count)s events are dated after they were received.")),
        ("users_never_seen", _("Users never seen"), _("%(count)s users who are not deactivated never sent an event.")),
    ):
        count = getattr(quality, name).count
        if count:
            checks.findings.append(Finding(subject, sentence % {"count": _n(count)}))
    if quality.features_to_review:
        checks.findings.append(Finding(_("Features to review"), _("%(count)s auto-created features await review.") % {"count": len(quality.features_to_review)}))  # fmt: skip

    training = Section(
        "training", _("Users who may need training"), empty=_("Every active user uses several features, steadily.")
    )
    rows = user_rows(UsersQuery.over(workspace, period, filters))
    for row in rows:
        if row.attendance_days and row.features_used <= FEW_FEATURES:
            training.findings.append(Finding(row.name or row.external_id, _(
                "Active on %(days)s days but used only %(features)s features."
            ) % {"days": row.attendance_days, "features": row.features_used}))  # fmt: skip
        elif row.attendance_change_pct is not None and row.attendance_change_pct <= STEEP_DROP_PCT:
            training.findings.append(Finding(row.name or row.external_id, _(
                "Active on %(days)s days against %(before)s in the period before (%(change)s)."
            ) % {"days": row.attendance_days, "before": row.previous_attendance_days, "change": percent(row.attendance_change_pct)}))  # fmt: skip
    training.findings = training.findings[: TOP * 2]

    top = sorted(now, key=lambda k: (-now[k], k))[:10]
    return AnalysisReport(
        query=query,
        summary=lines,
        comparable=summary.comparable,
        sections=[rises, falls, adopted, failing, abnormal, checks, training],
        chart=[(key, now[key], before.get(key, 0)) for key in top],
    )
