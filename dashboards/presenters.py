"""How a board shows a tile that is not a chart: its subtitle (the tab and the period in words), a
summary answer as the tab's metric cards (templates/partials/metric_card.html), and the translated
names of the columns and row keys a table tile shows (static/js/dashboards.js draws those).

Dashboards sit under the tabs (pyproject's import layers), so the tabs' presenters are not imported:
the labels below use the tabs' own msgids, so they read (and translate) exactly as on the tab."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.urls import Resolver404, resolve
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from core.queries import Preset
from tenancy.models import Workspace

# The tab a tile's endpoint belongs to, by the prefix of its URL name (the tab bar's names).
TABS: tuple[tuple[str, Promise], ...] = (
    ("api-home-", gettext_lazy("Home")),
    ("api-activity-", gettext_lazy("Activity")),
    ("api-trends", gettext_lazy("Trends")),
    ("api-hub-", gettext_lazy("Hub")),
    ("api-funnel", gettext_lazy("Funnels")),
    ("api-behaviour-", gettext_lazy("Behaviour")),
    ("api-accounts", gettext_lazy("Accounts")),
    ("api-sales-", gettext_lazy("Sales")),
    ("api-perception-", gettext_lazy("Perception")),
)

# Home's summary metrics as Home shows them (views_home.presenters.METRICS: the same msgids):
# (the answer's metric, its name, its explanation, a rise is good news).
HOME_METRICS: tuple[tuple[str, Promise, Promise, bool], ...] = (
    ("interactions", gettext_lazy("Interactions"), gettext_lazy("Events in the period; every action counts."), True),
    ("features_used", gettext_lazy("Features used"), gettext_lazy("Distinct features with at least one event."), True),
    (
        "attendance_days",
        gettext_lazy("Attendance (user-days)"),
        gettext_lazy("Active days summed over all users."),
        True,
    ),
    ("active_users", gettext_lazy("Active users"), gettext_lazy("Users with at least one event."), True),
    (
        "inactive_users",
        gettext_lazy("Inactive users"),
        gettext_lazy("Users not deactivated, with no event in the period."),
        False,
    ),
)

# The names a table tile shows for the API's column and row keys (the tabs' words); a key not here
# is shown with its underscores as spaces.
LABELS: dict[str, Promise] = {
    **{key: label for key, label, _help, _good in HOME_METRICS},
    "name": gettext_lazy("Name"),
    "metric": gettext_lazy("Metric"),
    "value": gettext_lazy("Value"),
    "previous": pgettext_lazy("the figure of the period before", "Previous"),
    "change": gettext_lazy("Change"),
    "change_pct": gettext_lazy("Change (%)"),
    "date": gettext_lazy("Date"),
    "day": gettext_lazy("Day"),
    "week": gettext_lazy("Week"),
    "week_start": gettext_lazy("Week of"),
    "feature": gettext_lazy("Feature"),
    "user": gettext_lazy("User"),
    "username": gettext_lazy("User"),
    "users": gettext_lazy("Users"),
    "events": gettext_lazy("Events"),
    "country": gettext_lazy("Country"),
    "language": gettext_lazy("Language"),
    "account": gettext_lazy("Account"),
    "accounts": gettext_lazy("Accounts"),
    "share": gettext_lazy("Share"),
    "total": gettext_lazy("Total"),
    "stage": gettext_lazy("Stage"),
    "step": gettext_lazy("Step"),
    "sessions": gettext_lazy("Sessions"),
    "revenue": gettext_lazy("Revenue"),
    "amount": gettext_lazy("Amount"),
    "keyword": gettext_lazy("Keyword"),
    "sentiment": gettext_lazy("Sentiment"),
    "mentions": gettext_lazy("Mentions"),
    "failures": gettext_lazy("Failures"),
    "failure_rate": gettext_lazy("Failure rate"),
    "cohort": gettext_lazy("Cohort"),
    "month": gettext_lazy("Month"),
    "email": gettext_lazy("Email"),
    "external_id": gettext_lazy("External ID"),
    "rep": gettext_lazy("Rep"),
    "industry": gettext_lazy("Industry"),
    "owner": gettext_lazy("Owner"),
    "won": gettext_lazy("Won"),
    "lost": gettext_lazy("Lost"),
    "win_rate_pct": gettext_lazy("Win rate"),
    # Perception's summary metrics (a table on a board: the tab's cards format money with the
    # workspace's currency, which only the tab knows).
    "nps": gettext_lazy("NPS"),
    "ces": gettext_lazy("CES"),
    "csat_pct": gettext_lazy("CSAT"),
    "customer_churn_pct": gettext_lazy("Customer churn"),
    "revenue_churn_pct": gettext_lazy("Revenue churn"),
    "renewal_rate_pct": gettext_lazy("Renewal rate"),
    "retention_cost": gettext_lazy("Retention cost per retained customer"),
    "revenue_per_retained": gettext_lazy("Revenue per retained customer"),
}


def table_labels() -> dict[str, str]:
    """The table tiles' labels in the active language (sent to the browser with the page)."""
    return {key: str(label) for key, label in LABELS.items()}


# The endpoints whose answer a tab shows as metric cards (a board shows them so too).
SUMMARY_ENDPOINTS = frozenset({"api-home-summary"})


@dataclass(frozen=True)
class MetricCard:
    """The attributes templates/partials/metric_card.html reads (as views_home.presenters.MetricCard)."""

    key: str
    label: Promise
    help: Promise
    value: int
    previous: int
    change_pct: float | None
    direction: str  # "up", "down", "flat" or "" when there is no change to show
    tone: str  # "good", "bad" or "neutral"
    comparable: bool = True
    so_far: bool = False
    people_url: str = ""

    @property
    def abs_change_pct(self) -> float | None:
        return None if self.change_pct is None else abs(self.change_pct)


def endpoint_url_name(workspace: Workspace, endpoint: str) -> str | None:
    try:
        return resolve(f"/api/v1/workspaces/{workspace.slug}/{endpoint.strip('/')}").url_name
    except Resolver404:
        return None


def summary_cards(url_name: str | None, data: Any, prefix: str, today: date) -> list[MetricCard] | None:
    """A summary answer as the tab's metric cards (None: the endpoint is not a summary, or the answer
    is not one). ``prefix`` keeps the cards' ids apart when a board shows two summaries."""
    if url_name not in SUMMARY_ENDPOINTS or not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        return None
    comparable = bool(data.get("comparable", True))
    try:
        so_far = date.fromisoformat(data["period"]["end"]) >= today
    except (KeyError, TypeError, ValueError):
        so_far = False
    cards = []
    for key, label, help_text, rise_is_good in HOME_METRICS:
        metric = data["metrics"].get(key)
        if not isinstance(metric, dict):
            continue
        change = metric.get("change_pct")
        if change is None or not comparable:
            direction, tone = "", "neutral"
        elif change == 0:
            direction, tone = "flat", "neutral"
        else:
            direction = "up" if change > 0 else "down"
            tone = "good" if (change > 0) == rise_is_good else "bad"
        cards.append(
            MetricCard(
                f"{prefix}-{key}",
                label,
                help_text,
                metric.get("value") or 0,
                metric.get("previous") or 0,
                change,
                direction,
                tone,
                comparable,
                so_far,
            )
        )
    return cards


def _default_days(workspace: Workspace, endpoint: str) -> int:
    """The period length the endpoint's tab assumes when the query names none."""
    try:
        match = resolve(f"/api/v1/workspaces/{workspace.slug}/{endpoint.strip('/')}")
    except Resolver404:
        return 30
    view_class = getattr(match.func, "view_class", None)
    params = getattr(getattr(view_class, "query_class", None), "Params", None)
    return int(getattr(params, "default_days", 30))


def _last_days(days: int) -> str:
    return ngettext("last %(days)s day", "last %(days)s days", days) % {"days": days}


def period_words(workspace: Workspace, endpoint: str, query: dict[str, Any]) -> str:
    """The tile's period as a person says it: "last 30 days", "This month", "2025-10-15 – 2025-10-21"
    ('' when the query's period is not readable: the tile answers its own 400)."""
    try:
        if query.get("start") and query.get("end"):
            return f"{date.fromisoformat(str(query['start']))} – {date.fromisoformat(str(query['end']))}"
        if query.get("period"):
            preset = Preset.of(str(query["period"]))
            if preset.slug.startswith("last_") and preset.slug.endswith("_days"):
                return _last_days(int(preset.slug.split("_")[1]))
            return str(preset.label)
        days = int(query["days"]) if query.get("days") else _default_days(workspace, endpoint)
        if query.get("as_of"):
            end = date.fromisoformat(str(query["as_of"]))
            return f"{end - timedelta(days=days - 1)} – {end}"
        return _last_days(days)
    except (StopIteration, TypeError, ValueError):
        return ""


def tile_subtitle(workspace: Workspace, endpoint: str, query: dict[str, Any]) -> str:
    """ "Home · last 30 days": the tab the tile comes from and its period, not the endpoint's path."""
    url_name = endpoint_url_name(workspace, endpoint) or ""
    tab = next((str(label) for prefix, label in TABS if url_name.startswith(prefix)), "")
    return " · ".join(part for part in (tab, period_words(workspace, endpoint, query)) if part)
