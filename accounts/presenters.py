"""How the Accounts tab lays out the selectors' answers: the API's JSON rows (amounts as 2-decimal
strings, API.md "CRM records"), the CSV columns, and the labels a page shows. No figure is computed here."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from accounts import selectors
from accounts.rules import RULE_KEYS, Rule, rule_of
from records.figures import cents_text, money
from records.models import Account, Activity, Deal
from tenancy.models import Workspace

LIST_COLUMNS = [
    "external_id", "name", "industry", "country", "owner", "status", "revenue", "open_pipeline", "open_deals",
    "last_activity", "created", "nps", "last_sentiment", "churn_risk",
]  # fmt: skip
DEAL_COLUMNS = ["external_id", "name", "stage", "state", "amount", "close_date", "owner"]
ACCOUNT_PRODUCT_COLUMNS = ["product", "name", "quantity", "amount"]
SUGGESTION_COLUMNS = ["key", "name", "rule", "accounts"]
OVERVIEW_COLUMNS: dict[str, list[str]] = {
    "top_accounts": ["external_id", "name", "revenue"],
    "closing_this_month": ["external_id", "name", "close_date", "deals", "amount"],
    "revenue_by_month": ["month", "revenue"],
    "acquisition": ["month", "accounts"],
    "top_industries": ["industry", "accounts"],
    "revenue_bands": ["min", "max", "accounts"],
    "top_products": ["product", "name", "amount", "quantity"],
    "rising_products": ["product", "name", "amount", "previous", "increase"],
}

# The list page's columns (``accounts.queries.COLUMNS``) and their headings.
COLUMN_LABELS: dict[str, Promise] = {
    "industry": _("Industry"),
    "country": _("Country"),
    "owner": _("Owner"),
    "status": _("Status"),
    "revenue": _("Revenue"),
    "open_pipeline": _("Open pipeline"),
    "open_deals": _("Open deals"),
    "last_activity": _("Last activity"),
    "created": _("Created"),
    "nps": _("NPS"),
    "sentiment": _("Last sentiment"),
    "churn_risk": _("Churn risk"),
}
ORDERING_LABELS: dict[str, Promise] = {"name": _("Name"), "external_id": _("External ID"), **COLUMN_LABELS}
NUMERIC_COLUMNS = frozenset({"revenue", "open_pipeline", "open_deals", "nps"})
SENTIMENT_LABELS: dict[str, Promise] = {"positive": _("Positive"), "neutral": _("Neutral"), "negative": _("Negative")}
# The signs of the Churn risk rule (``accounts.rules.churn_reasons``), as the account page says them.
CHURN_REASONS: dict[str, Promise] = {
    "detractor": _("Its latest NPS response is a detractor's (0–6)."),
    "negative_trend": _("More of its latest feedback is negative than before."),
    "contract_ending": _("Its active contract ends within 60 days."),
    "usage_falling": _("Its owner's CRM usage is falling."),
}


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def account_row_json(account: Account) -> dict[str, Any]:
    """A row of the list (``account`` from ``selectors.account_table``)."""
    owner = account.owner
    return {
        "external_id": account.external_id,
        "name": account.name,
        "industry": account.industry,
        "country": account.country,
        "owner": owner.external_id if owner is not None else None,
        "status": account.status,
        "revenue": cents_text(account.revenue_cents),  # type: ignore[attr-defined]
        "open_pipeline": cents_text(account.open_pipeline_cents),  # type: ignore[attr-defined]
        "open_deals": account.open_deal_count,  # type: ignore[attr-defined]
        "last_activity": _date(account.last_activity_on),  # type: ignore[attr-defined]
        "created": account.created_on.isoformat(),
        # What its customers say (docs/perception.md#on-the-account).
        "nps": account.nps_value,  # type: ignore[attr-defined]
        "last_sentiment": account.last_sentiment_value or None,  # type: ignore[attr-defined]
        "churn_risk": account.churn_risk,  # type: ignore[attr-defined]
    }


def deal_json(deal: Deal) -> dict[str, Any]:
    return {
        "external_id": deal.external_id,
        "name": deal.name,
        "stage": deal.stage,
        "state": deal.state,
        "amount": cents_text(deal.amount_cents),
        "close_date": _date(deal.close_date),
        "owner": deal.owner.external_id if deal.owner is not None else None,
    }


def account_product_json(product: selectors.AccountProduct) -> dict[str, Any]:
    return {
        "product": product.product,
        "name": product.name,
        "quantity": product.quantity,
        "amount": cents_text(product.amount_cents),
    }


def account_json(account: Account, deals: list[Deal], products: list[selectors.AccountProduct]) -> dict[str, Any]:
    return {
        **account_row_json(account),
        "won_deals": account.won_deal_count,  # type: ignore[attr-defined]
        "deals": [deal_json(d) for d in deals],
        "products": [account_product_json(p) for p in products],
    }


def suggestion_json(suggestion: selectors.Suggestion) -> dict[str, Any]:
    rule: Rule = suggestion.rule
    return {"key": rule.key, "name": str(rule.name), "rule": str(rule.rule), "accounts": suggestion.accounts}


def overview_tables(answer: selectors.Overview) -> dict[str, list[dict[str, Any]]]:
    """The overview's lists as JSON rows (also each list's CSV)."""
    return {
        "top_accounts": [
            {"external_id": a.external_id, "name": a.name, "revenue": cents_text(a.revenue_cents)}
            for a in answer.top_accounts
        ],
        "closing_this_month": [
            {
                "external_id": c.external_id,
                "name": c.name,
                "close_date": c.close_date.isoformat(),
                "deals": c.deals,
                "amount": cents_text(c.amount_cents),
            }
            for c in answer.closing_this_month.rows
        ],
        "revenue_by_month": [
            {"month": m.month.isoformat(), "revenue": cents_text(m.revenue_cents)} for m in answer.revenue_by_month
        ],
        "acquisition": [{"month": m.month.isoformat(), "accounts": m.accounts} for m in answer.acquisition],
        "top_industries": [{"industry": i.industry, "accounts": i.accounts} for i in answer.top_industries],
        "revenue_bands": [
            {"min": cents_text(b.min_cents), "max": cents_text(b.max_cents), "accounts": b.accounts}
            for b in answer.revenue_bands
        ],
        "top_products": [
            {"product": p.product, "name": p.name, "amount": cents_text(p.amount_cents), "quantity": p.quantity}
            for p in answer.products.top
        ],
        "rising_products": [
            {
                "product": p.product,
                "name": p.name,
                "amount": cents_text(p.amount_cents),
                "previous": cents_text(p.previous_cents),
                "increase": cents_text(p.increase_cents),
            }
            for p in answer.products.rising
        ],
    }


def overview_json(answer: selectors.Overview, query: Any) -> dict[str, Any]:
    period = query.period
    previous = period.previous()
    kpis = answer.kpis
    return {
        "as_of": query.as_of.isoformat(),
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "previous": {"start": previous.start.isoformat(), "end": previous.end.isoformat()},
        "currency": kpis.currency,
        "accounts": kpis.accounts,
        "revenue_to_date": cents_text(kpis.revenue_cents),
        "new_accounts_6m": kpis.new_accounts_6m,
        **overview_tables(answer),
        "truncated": {"closing_this_month": answer.closing_this_month.truncated},
    }


def activity_kind_label(activity: Activity) -> str:
    return str(Activity.Kind(activity.kind).label) if activity.kind in Activity.Kind.values else activity.kind


def describe_filters(filters: dict[str, Any]) -> list[str]:
    """A segment's filters in words, one part each (for the segment list and page)."""
    parts: list[str] = []
    if filters.get("search"):
        parts.append(str(_("name contains “%(text)s”")) % {"text": filters["search"]})
    for key, label in (("industry", _("industry")), ("country", _("country")), ("owner", _("owner")),
                       ("status", _("status"))):  # fmt: skip
        values = filters.get(key) or []
        if values:
            parts.append(f"{label}: {', '.join(str(v) for v in values)}")
    if filters.get("min_revenue"):
        parts.append(str(_("revenue ≥ %(amount)s")) % {"amount": filters["min_revenue"]})
    if filters.get("max_revenue"):
        parts.append(str(_("revenue ≤ %(amount)s")) % {"amount": filters["max_revenue"]})
    if filters.get("active_since"):
        parts.append(str(_("activity since %(date)s")) % {"date": filters["active_since"]})
    if filters.get("suggested") in RULE_KEYS:
        parts.append(str(_("suggested: %(name)s")) % {"name": rule_of(filters["suggested"]).name})
    return parts


# --- pages -----------------------------------------------------------------------------------------------


def amount(cents: int | None, workspace: Workspace) -> str:
    """An amount for a page, in the reader's language (``records.figures.money``)."""
    return money(cents, workspace, get_language() or "en")


def band_label(low: int, high: int | None, workspace: Workspace) -> str:
    if high is None:
        return gettext("%(min)s or more") % {"min": amount(low, workspace)}
    return gettext("%(min)s to under %(max)s") % {"min": amount(low, workspace), "max": amount(high, workspace)}


def cell_text(account: Any, column: str, workspace: Workspace) -> str:
    """A cell of the list page (``account`` from ``selectors.account_table``)."""
    if column == "revenue":
        return amount(account.revenue_cents, workspace)
    if column == "open_pipeline":
        return amount(account.open_pipeline_cents, workspace)
    if column == "open_deals":
        return str(account.open_deal_count)
    if column == "last_activity":
        return account.last_activity_on.isoformat() if account.last_activity_on else "—"
    if column == "created":
        return str(account.created_on.isoformat())
    if column == "owner":
        owner = account.owner
        return str(owner.name or owner.external_id) if owner is not None else "—"
    if column == "status":
        return str(account.get_status_display())
    if column == "nps":
        return "—" if account.nps_value is None else f"{account.nps_value:.1f}"
    if column == "sentiment":
        return str(SENTIMENT_LABELS.get(account.last_sentiment_value, "—"))
    if column == "churn_risk":
        return str(_("Yes")) if account.churn_risk else "—"
    return str(getattr(account, column) or "—")
