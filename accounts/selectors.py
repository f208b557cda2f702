"""Reads of the Accounts tab (docs/accounts.md): the 001 overview, the account list, one account, the
suggested segments. Plain functions taking a query object (``accounts.queries``) and returning
dataclasses or querysets; the pages, the charts, the API and the CSV exports all call these.

Sums come from the aggregates (``records.aggregates``), never from a scan of every deal:

- per account, ``AccountFigures`` (revenue of all won deals, open deals and pipeline, distinct products,
  last completed activity);
- per close month, ``DealMonthFigures`` (with whether the account is active).

The overview counts only active accounts created by as_of and their deals, and revenue only of won
deals closing by as_of (API.md Definitions). The aggregates know neither the creation date nor as_of,
so each figure subtracts, exactly, what they hold beyond as_of: won deals of those accounts closing
after as_of (or without a close date), and for the months, won deals of active accounts created after
as_of. These corrections read deals through the (state, close date) index within a bounded range, or
the accounts created after as_of (the creation-date index): small when as_of is today, exact for any.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import BooleanField, Case, Count, F, Min, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth

from accounts.filters import filter_accounts
from accounts.rules import RULES, Rule, churn_reasons, churn_risk_condition, falling_owner_ids, rule_condition
from records.aggregates import next_month
from records.models import (
    Account,
    AccountFigures,
    Activity,
    Contract,
    Deal,
    DealLineItem,
    DealMonthFigures,
    Feedback,
    ProductDayFigures,
)
from records.selectors import LIST_CAP, Capped, capped_rows, visible_accounts, visible_deals
from tenancy.models import Workspace

if TYPE_CHECKING:
    from accounts.queries import ListQuery, OverviewQuery

TOP_ACCOUNTS = 10
TOP_INDUSTRIES = 5
TOP_PRODUCTS = 5
CHUNK = 900  # ids per IN (…)
ACCOUNT_MONTHS = 36  # the longest revenue series of an account's page


# --- answers ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpis:
    currency: str
    accounts: int
    revenue_cents: int
    new_accounts_6m: int


@dataclass(frozen=True)
class TopAccount:
    external_id: str
    name: str
    revenue_cents: int


@dataclass(frozen=True)
class ClosingAccount:
    external_id: str
    name: str
    close_date: date  # the earliest close date of its open deals closing in the month
    deals: int
    amount_cents: int


@dataclass(frozen=True)
class MonthRevenue:
    month: date
    revenue_cents: int


@dataclass(frozen=True)
class MonthAccounts:
    month: date
    accounts: int


@dataclass(frozen=True)
class IndustryCount:
    industry: str
    accounts: int


@dataclass(frozen=True)
class Band:
    min_cents: int
    max_cents: int | None  # None: no upper bound
    accounts: int


@dataclass(frozen=True)
class ProductFigure:
    product: str  # the product's external id
    name: str
    amount_cents: int  # won line amounts in the period
    quantity: int
    previous_cents: int  # … in the days before it
    previous_quantity: int

    @property
    def increase_cents(self) -> int:
        return self.amount_cents - self.previous_cents


@dataclass(frozen=True)
class Products:
    top: list[ProductFigure]
    rising: list[ProductFigure]


@dataclass(frozen=True)
class Overview:
    kpis: Kpis
    top_accounts: list[TopAccount]
    closing_this_month: Capped[ClosingAccount]
    revenue_by_month: list[MonthRevenue]
    acquisition: list[MonthAccounts]
    top_industries: list[IndustryCount]
    revenue_bands: list[Band]
    products: Products


# --- the overview's accounts and deals -------------------------------------------------------------------


def overview_accounts(query: OverviewQuery) -> QuerySet[Account]:
    """Active accounts (not deleted) created by as_of."""
    return visible_accounts(query.workspace).filter(status=Account.Status.ACTIVE, created_on__lte=query.as_of)


def overview_deals(query: OverviewQuery) -> QuerySet[Deal]:
    """The counted deals of ``overview_accounts``."""
    return visible_deals(query.workspace).filter(
        account__status=Account.Status.ACTIVE, account__created_on__lte=query.as_of
    )


def _with_figure_revenue(accounts: QuerySet[Account]) -> QuerySet[Any]:
    return accounts.annotate(figure_revenue=Coalesce("figures__revenue_cents", 0))


def revenue_corrections(query: OverviewQuery) -> dict[int, int]:
    """Per overview account, what ``AccountFigures.revenue_cents`` holds beyond the overview's revenue:
    its won deals closing after as_of or without a close date (only accounts that have some)."""
    won = overview_deals(query).filter(state=Deal.State.WON)
    corrections: dict[int, int] = {}
    # Two reads of the (state, close date) index rather than one with OR, which no index serves.
    for beyond in (won.filter(close_date__gt=query.as_of), won.filter(close_date__isnull=True)):
        for row in beyond.values("account_id").annotate(amount=Sum("amount_cents")).order_by():
            if row["amount"]:
                corrections[row["account_id"]] = corrections.get(row["account_id"], 0) + row["amount"]
    return corrections


def account_totals(query: OverviewQuery) -> dict[str, Any]:
    """The KPIs' counts and sums over the overview's accounts and, from their figures' revenue, the
    accounts per band (``band0``…): one pass over the account figures, which carry each account's
    status and creation date (an account not yet in the figures is not yet counted: the tab says the
    figures are still being processed)."""
    by_band: dict[str, Any] = {}
    bands = query.bands
    for n, low in enumerate(bands):
        condition = Q(revenue_cents__gte=low)
        if n + 1 < len(bands):
            condition &= Q(revenue_cents__lt=bands[n + 1])
        by_band[f"band{n}"] = Count("account_id", filter=condition)
    return AccountFigures.objects.filter(
        workspace=query.workspace, account_active=True, created_on__lte=query.as_of
    ).aggregate(
        accounts=Count("account_id"),
        revenue=Sum("revenue_cents"),
        new=Count("account_id", filter=Q(created_on__gte=query.new_since)),
        **by_band,
    )


def overview_kpis(
    query: OverviewQuery, corrections: dict[int, int] | None = None, totals: dict[str, Any] | None = None
) -> Kpis:
    corrections = revenue_corrections(query) if corrections is None else corrections
    totals = account_totals(query) if totals is None else totals
    return Kpis(
        currency=query.workspace.currency,
        accounts=totals["accounts"],
        revenue_cents=(totals["revenue"] or 0) - sum(corrections.values()),
        new_accounts_6m=totals["new"],
    )


def top_accounts(
    query: OverviewQuery, corrections: dict[int, int] | None = None, limit: int = TOP_ACCOUNTS
) -> list[TopAccount]:
    """The accounts with the most revenue (above 0), most first; ties by name, then external id.

    Corrections only lower a revenue, so the top ``limit`` are among the accounts whose figure is at
    least the (limit + number corrected)-th highest figure: only those are read."""
    corrections = revenue_corrections(query) if corrections is None else corrections
    # Through the figures' (workspace, revenue) index, from the top: the database stops after ``cut``.
    accounts = overview_accounts(query).filter(figures__workspace=query.workspace, figures__revenue_cents__gt=0)
    cut = limit + len(corrections)
    threshold = list(
        accounts.order_by("-figures__revenue_cents").values_list("figures__revenue_cents", flat=True)[cut - 1 : cut]
    )
    if threshold:
        accounts = accounts.filter(figures__revenue_cents__gte=threshold[0])
    rows = []
    for pk, external_id, name, figure in accounts.values_list("pk", "external_id", "name", "figures__revenue_cents"):
        revenue = figure - corrections.get(pk, 0)
        if revenue > 0:
            rows.append(TopAccount(external_id, name, revenue))
    rows.sort(key=lambda r: (-r.revenue_cents, r.name, r.external_id))
    return rows[:limit]


def _band_index(bands: tuple[int, ...], cents: int) -> int | None:
    index = None
    for n, low in enumerate(bands):
        if cents >= low:
            index = n
    return index


def revenue_bands(
    query: OverviewQuery, corrections: dict[int, int] | None = None, totals: dict[str, Any] | None = None
) -> list[Band]:
    """Overview accounts per revenue band ``[min, max)`` (the last without a max); an account below the
    first band's min is in none."""
    corrections = revenue_corrections(query) if corrections is None else corrections
    totals = account_totals(query) if totals is None else totals
    bands = query.bands
    accounts = _with_figure_revenue(overview_accounts(query))
    counts = [totals[f"band{n}"] for n in range(len(bands))]
    for chunk in _chunks(corrections):
        for pk, figure in accounts.filter(pk__in=chunk).values_list("pk", "figure_revenue"):
            before, after = _band_index(bands, figure), _band_index(bands, figure - corrections[pk])
            if before != after:
                if before is not None:
                    counts[before] -= 1
                if after is not None:
                    counts[after] += 1
    return [Band(low, bands[n + 1] if n + 1 < len(bands) else None, counts[n]) for n, low in enumerate(bands)]


def closing_this_month(query: OverviewQuery, limit: int | None = LIST_CAP) -> Capped[ClosingAccount]:
    """Per overview account with open deals closing in as_of's month: the earliest close date, their
    number and sum; earliest first (ties by name, then external id). The first ``limit`` (None: all):
    at a million deals some 20,000 accounts have one closing in a month."""
    rows = (
        overview_deals(query)
        .filter(state=Deal.State.OPEN, close_date__gte=query.month, close_date__lte=query.month_end)
        .values("account_id", "account__external_id", "account__name")
        # Count(close_date), never null here: the deals are then read from the covering index alone.
        .annotate(first=Min("close_date"), n=Count("close_date"), amount=Sum("amount_cents"))
        .order_by("first", "account__name", "account__external_id")
    )
    found, more = capped_rows(rows, limit)
    return Capped(
        [
            ClosingAccount(r["account__external_id"], r["account__name"], r["first"], r["n"], r["amount"] or 0)
            for r in found
        ],
        more,
    )


def revenue_by_month(query: OverviewQuery) -> list[MonthRevenue]:
    """Revenue of the overview's deals per close month, for the 12 months ending in as_of's (that month
    up to as_of). From the close-month aggregates of active accounts, less won deals closing after as_of
    in its month and won deals of active accounts created after as_of."""
    months = query.months
    totals: dict[date, int] = dict.fromkeys(months, 0)
    figures = (
        DealMonthFigures.objects.filter(
            workspace=query.workspace, month__in=months, account_active=True, state=Deal.State.WON
        )
        .values("month")
        .annotate(amount=Sum("amount_cents"))
        .order_by()
    )
    for row in figures:
        totals[row["month"]] += row["amount"] or 0
    active_won = visible_deals(query.workspace).filter(state=Deal.State.WON, account__status=Account.Status.ACTIVE)
    after = active_won.filter(close_date__gt=query.as_of, close_date__lte=query.month_end)
    totals[query.month] -= after.aggregate(amount=Sum("amount_cents"))["amount"] or 0
    later_accounts = (
        active_won.filter(account__created_on__gt=query.as_of, close_date__gte=months[0], close_date__lte=query.as_of)
        .values(close_month=TruncMonth("close_date"))
        .annotate(amount=Sum("amount_cents"))
        .order_by()
    )
    for late in later_accounts:
        totals[_as_date(late["close_month"])] -= late["amount"] or 0
    return [MonthRevenue(month, totals[month]) for month in months]


def acquisition(query: OverviewQuery) -> list[MonthAccounts]:
    """Overview accounts created per month, the 12 months ending in as_of's."""
    months = query.months
    counts: dict[date, int] = dict.fromkeys(months, 0)
    rows = (
        overview_accounts(query)
        .filter(created_on__gte=months[0])
        .values(created_month=TruncMonth("created_on"))
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[_as_date(row["created_month"])] += row["n"]
    return [MonthAccounts(month, counts[month]) for month in months]


def top_industries(query: OverviewQuery, limit: int = TOP_INDUSTRIES) -> list[IndustryCount]:
    """The industries with the most overview accounts (accounts without one left out); ties by name."""
    rows = overview_accounts(query).exclude(industry="").values("industry").annotate(n=Count("id")).order_by()
    result = [IndustryCount(r["industry"], r["n"]) for r in rows]
    result.sort(key=lambda r: (-r.accounts, r.industry))
    return result[:limit]


def product_figures(query: OverviewQuery, limit: int = TOP_PRODUCTS) -> Products:
    """Won line items of the overview's deals closing in the ``days`` to as_of (top: largest amount
    first) and the increase on the ``days`` before (rising: increase > 0, largest first); ties by
    product name, then external id. Deleted products are left out."""
    period = query.period
    previous = period.previous()
    current = Case(When(day__gte=period.start, then=Value(True)), default=Value(False), output_field=BooleanField())
    # From the won lines' figures per close day of active accounts; less, exactly, the lines of active
    # accounts created after as_of (the figures do not know creation dates), which are few or none.
    lines = (
        ProductDayFigures.objects.filter(
            workspace=query.workspace,
            account_active=True,
            day__gte=previous.start,
            day__lte=period.end,
            product__deleted=False,
        )
        .values("product_id", "product__external_id", "product__name", in_period=current)
        .annotate(lines=Sum("lines"), amount=Sum("amount_cents"), quantity=Sum("quantity"))
        .order_by()
    )
    late_accounts = visible_accounts(query.workspace).filter(
        status=Account.Status.ACTIVE, created_on__gt=query.as_of
    )  # none when as_of is today
    late = (
        DealLineItem.objects.filter(
            deal__in=visible_deals(query.workspace).filter(
                account__in=late_accounts,
                state=Deal.State.WON,
                close_date__gte=previous.start,
                close_date__lte=period.end,
            ),
            product__deleted=False,
        )
        .values("product_id", in_period=Case(
            When(deal__close_date__gte=period.start, then=Value(True)), default=Value(False),
            output_field=BooleanField()))
        .annotate(lines=Count("id"), amount=Sum("amount_cents"), quantity=Sum("quantity"))
        .order_by()
    )  # fmt: skip
    less = {(r["product_id"], r["in_period"]): r for r in late} if late_accounts.exists() else {}
    found: dict[int, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = [dict(row) for row in lines]
    for row in rows:
        minus = less.get((row["product_id"], row["in_period"]))
        if minus is not None:
            row = {**row, **{k: row[k] - minus[k] for k in ("lines", "amount", "quantity")}}
        if not row["lines"]:
            continue  # every line of it belongs to accounts created after as_of
        item = found.setdefault(
            row["product_id"],
            {"product": row["product__external_id"], "name": row["product__name"], "now": None, "before": None},
        )
        item["now" if row["in_period"] else "before"] = row
    figures = []
    for item in found.values():
        now, before = item["now"] or {}, item["before"] or {}
        figure = ProductFigure(
            item["product"],
            item["name"],
            now.get("amount") or 0,
            now.get("quantity") or 0,
            before.get("amount") or 0,
            before.get("quantity") or 0,
        )
        figures.append((figure, bool(now)))
    top = sorted((f for f, sold in figures if sold), key=lambda f: (-f.amount_cents, f.name, f.product))
    rising = sorted(
        (f for f, _sold in figures if f.increase_cents > 0), key=lambda f: (-f.increase_cents, f.name, f.product)
    )
    return Products(top[:limit], rising[:limit])


def overview(query: OverviewQuery, closing_limit: int | None = LIST_CAP) -> Overview:
    """Every figure of the overview (API ``accounts/overview``); the first ``closing_limit`` accounts
    closing this month (None: all)."""
    corrections = revenue_corrections(query)
    totals = account_totals(query)
    return Overview(
        kpis=overview_kpis(query, corrections, totals),
        top_accounts=top_accounts(query, corrections),
        closing_this_month=closing_this_month(query, closing_limit),
        revenue_by_month=revenue_by_month(query),
        acquisition=acquisition(query),
        top_industries=top_industries(query),
        revenue_bands=revenue_bands(query, corrections, totals),
        products=product_figures(query),
    )


# --- the account list ------------------------------------------------------------------------------------


def account_table(workspace: Workspace) -> QuerySet[Account]:
    """Accounts not deleted, with their figures (0 or None where the aggregates have no row yet)."""
    return (
        visible_accounts(workspace)
        .select_related("owner")
        .annotate(
            revenue_cents=Coalesce("figures__revenue_cents", 0),
            open_pipeline_cents=Coalesce("figures__open_pipeline_cents", 0),
            open_deal_count=Coalesce("figures__open_deals", 0),
            won_deal_count=Coalesce("figures__won_deals", 0),
            product_count=Coalesce("figures__products", 0),
            last_activity_on=F("figures__last_activity"),
            nps_value=F("figures__nps"),
            last_sentiment_value=Coalesce("figures__last_sentiment", Value("")),
        )
    )


def account_rows(query: ListQuery) -> QuerySet[Account]:
    """The accounts passing the query's filters, in its order (every one: paginate the result), each with
    ``churn_risk`` (the Churn risk rule, as of today)."""
    workspace = query.workspace
    risk = churn_risk_condition(workspace, workspace.today())
    table = account_table(workspace).annotate(
        churn_risk=Case(When(risk, then=Value(True)), default=Value(False), output_field=BooleanField())
    )
    return filter_accounts(workspace, table, query.filter_data())


# --- one account -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountProduct:
    product: str
    name: str
    quantity: int
    amount_cents: int


def account_find(workspace: Workspace, external_id: str) -> Account | None:
    """An account (not deleted) of the workspace with its figures, by external id."""
    if "\x00" in external_id:  # no stored id holds one (and PostgreSQL cannot compare it)
        return None
    account = account_table(workspace).select_related("figures").filter(external_id=external_id).first()
    if account is not None:
        today = workspace.today()
        falling = falling_owner_ids(workspace, today) if account.owner_id is not None else set()
        account.churn_reasons = churn_reasons(account, today, falling)  # type: ignore[attr-defined]
        account.churn_risk = bool(account.churn_reasons)  # type: ignore[attr-defined]
    return account


def account_contracts(account: Account) -> QuerySet[Contract]:
    """The account's contracts (not deleted), the latest end first."""
    return Contract.objects.filter(account=account, deleted=False).order_by("-end", "external_id")


def account_feedback(account: Account) -> QuerySet[Feedback]:
    """The account's feedback (not deleted), the newest first."""
    return Feedback.objects.filter(account=account, deleted=False).order_by("-received_at", "-id")


def account_deals(account: Account) -> QuerySet[Deal]:
    """Every counted deal of the account, newest first."""
    return (
        visible_deals(account.workspace)
        .filter(account=account)
        .select_related("owner")
        .order_by("-created_at", "external_id")
    )


def account_products(account: Account) -> list[AccountProduct]:
    """Products on the account's won lines (any close date), largest amount first; ties by name."""
    rows = (
        DealLineItem.objects.filter(
            deal__in=visible_deals(account.workspace).filter(account=account, state=Deal.State.WON),
            product__deleted=False,
        )
        .values("product__external_id", "product__name")
        .annotate(quantity=Sum("quantity"), amount=Sum("amount_cents"))
        .order_by()
    )
    result = [
        AccountProduct(r["product__external_id"], r["product__name"], r["quantity"] or 0, r["amount"] or 0)
        for r in rows
    ]
    result.sort(key=lambda p: (-p.amount_cents, p.name, p.product))
    return result


def account_activities(account: Account) -> QuerySet[Activity]:
    """The account's activities (completed or not), newest first."""
    return (
        Activity.objects.filter(workspace=account.workspace, account=account, deleted=False)
        .select_related("owner", "deal")
        .order_by("-occurred_at", "external_id")
    )


def account_revenue_by_month(account: Account) -> list[MonthRevenue]:
    """The account's won revenue per close month, every month from its first to its last won close
    month (the latest 36 at most)."""
    rows = (
        visible_deals(account.workspace)
        .filter(account=account, state=Deal.State.WON, close_date__isnull=False)
        .values(close_month=TruncMonth("close_date"))
        .annotate(amount=Sum("amount_cents"))
        .order_by()
    )
    totals = {_as_date(r["close_month"]): r["amount"] or 0 for r in rows}
    if not totals:
        return []
    months, month, last = [], min(totals), max(totals)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return [MonthRevenue(m, totals.get(m, 0)) for m in months[-ACCOUNT_MONTHS:]]


# --- suggested segments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    rule: Rule
    accounts: int


def suggested_segments(workspace: Workspace) -> list[Suggestion]:
    """Each suggested segment with its number of accounts (the list's ``suggested`` filter)."""
    table = account_table(workspace)
    return [Suggestion(rule, table.filter(rule_condition(workspace, rule.key)).count()) for rule in RULES]


def records_exist(workspace: Workspace) -> bool:
    """Whether the workspace has any account or deal (else the tab shows how to send them)."""
    return visible_accounts(workspace).exists()


# --- helpers -----------------------------------------------------------------------------------------


def _as_date(value: Any) -> date:
    """TruncMonth of a date column: a date (a datetime on some backends)."""
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def _chunks(keys: Iterable[int]) -> Iterable[list[int]]:
    items = sorted(keys)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
