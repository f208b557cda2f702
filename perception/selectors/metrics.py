"""Customer perception metrics (seed 004; API.md "Customer perception", docs/perception.md#metrics): NPS,
CES, CSAT, customer and revenue churn, renewal rate, retention cost and revenue per retained account.

One engine, ``figures_over``, computes every metric for a run of consecutive periods (the summary's
previous and current period, the trend's months) from three reads, each limited to the rows that touch
those periods:

- survey responses counted per period, kind and score by the database (index (workspace, kind,
  responded_on));
- the contracts in force in any of the periods (index (workspace, end): end ≥ the first day): those of
  accounts with a contract starting or ending inside the span row by row (five columns), churn worked
  out per account in Python; every other account is steady (at start and retained throughout), only
  counted and summed by the database (``ContractsRead``);
- retention spend summed per month by the database.

Money is kept exact: an amount spread over days is a whole number of cents plus, per month length
(28–31), a numerator of cents × days (``Spread``); it is divided by the retained accounts and rounded half
up to cents once, at the end. A contract's days in a period are counted in O(1) whatever their number,
and a contract's periods strictly inside its term (where its account is retained by definition) are
summed with a difference array, so a trend over two years costs about what a month costs.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Sum, Value, When

from events.periods import Period, change_pct, month_end, months_between
from perception.selectors.cached import METRIC_KINDS, period_cached
from records.figures import div_half_up, pct, ratio
from records.models import Account, Contract, RetentionSpend, SurveyResponse
from records.selectors import visible_accounts

if TYPE_CHECKING:  # the selectors take the queries; parsing a query may call a selector
    from perception.queries import BreakdownQuery, PerceptionAccountsQuery, PerceptionQuery, SummaryQuery, TrendQuery

METRICS = (
    "nps", "ces", "csat_pct", "customer_churn_pct", "revenue_churn_pct", "renewal_rate_pct", "retention_cost",
    "revenue_per_retained",
)  # fmt: skip
MONEY_METRICS = ("retention_cost", "revenue_per_retained")
# Decimals of each figure as answered (money: whole cents).
DECIMALS = {"ces": 2, "retention_cost": 0, "revenue_per_retained": 0}

Group = str | None  # a breakdown's group: an industry or an owner's external id; None: none


# --- exact money spread over days ------------------------------------------------------------------------


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month_days(day: date) -> int:
    if day.month == 2:
        year = day.year
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return _MONTH_DAYS[day.month]


@dataclass
class Spread:
    """A sum of amounts spread evenly over the days of their months, exact: ``whole`` cents plus
    ``parts[n] / n`` cents for each month length n."""

    whole: int = 0
    parts: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def add_days(self, cents: int, first: date, last: date) -> None:
        """A monthly amount over the days first–last: Σ per month cents × its days in them ÷ its days.
        With F(d) = month index of d + d.day ÷ its month's days, that is cents × (F(last) − F(first − 1))."""
        self.whole += cents * (_month_index(last) - _month_index(first))
        self.parts[_month_days(last)] += cents * last.day
        self.parts[_month_days(first)] -= cents * (first.day - 1)

    def value(self) -> Fraction:
        return self.whole + sum((Fraction(n, days) for days, n in self.parts.items() if n), Fraction(0))


def _overlap(first: date, last: date, period: Period) -> tuple[date, date] | None:
    start, end = max(first, period.start), min(last, period.end)
    return (start, end) if start <= end else None


# --- the figures of one period --------------------------------------------------------------------------------


@dataclass
class Figures:
    """What the metrics of one period are computed from (counts, cents), unrounded."""

    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    ces_sum: int = 0
    ces_responses: int = 0
    csat_satisfied: int = 0
    csat_responses: int = 0
    at_start: int = 0
    churned: int = 0
    value_at_start: int = 0  # cents a month
    value_lost: int = 0
    ending: int = 0
    renewed: int = 0
    spend: Spread = field(default_factory=Spread)
    revenue: Spread = field(default_factory=Spread)  # retained accounts' contracts

    @property
    def retained(self) -> int:
        return self.at_start - self.churned

    @property
    def nps_responses(self) -> int:
        return self.promoters + self.passives + self.detractors

    def exact(self) -> dict[str, float | Fraction | None]:
        """Every metric unrounded (money in cents, as a Fraction); None on a 0 divisor."""
        responses, retained = self.nps_responses, self.retained

        def share(part: int, whole: int) -> float | None:
            return part / whole * 100 if whole else None

        return {
            "nps": share(self.promoters - self.detractors, responses),
            "ces": self.ces_sum / self.ces_responses if self.ces_responses else None,
            "csat_pct": share(self.csat_satisfied, self.csat_responses),
            "customer_churn_pct": share(self.churned, self.at_start),
            "revenue_churn_pct": share(self.value_lost, self.value_at_start),
            "renewal_rate_pct": share(self.renewed, self.ending),
            "retention_cost": self.spend.value() / retained if retained else None,
            "revenue_per_retained": self.revenue.value() / retained if retained else None,
        }

    def rounded(self) -> dict[str, float | int | None]:
        """Every metric as answered: percentages 1 decimal (Python's round, docs/metrics.md), CES 2
        decimals, money in whole cents rounded half up; None on a 0 divisor."""
        retained = self.retained
        spend, revenue = self.spend.value(), self.revenue.value()
        return {
            "nps": pct(self.promoters - self.detractors, self.nps_responses),
            "ces": ratio(self.ces_sum, self.ces_responses),
            "csat_pct": pct(self.csat_satisfied, self.csat_responses),
            "customer_churn_pct": pct(self.churned, self.at_start),
            "revenue_churn_pct": pct(self.value_lost, self.value_at_start),
            "renewal_rate_pct": pct(self.renewed, self.ending),
            "retention_cost": div_half_up(spend.numerator, spend.denominator * retained) if retained else None,
            "revenue_per_retained": (
                div_half_up(revenue.numerator, revenue.denominator * retained) if retained else None
            ),
        }


# --- reads ---------------------------------------------------------------------------------------------------

ContractRow = tuple[int, date, date, int, bool]  # account id, start, end, cents a month, renewed


def _group_path(by: str | None) -> str | None:
    return {"industry": "account__industry", "owner": "account__owner__external_id"}.get(by or "")


def _group(value: Any) -> Group:
    return value or None  # no industry ("") and no owner (None) are the same null group


@dataclass
class ContractsRead:
    """The contracts in force some day of a span, per account kind. *Moving* accounts have a contract
    starting or ending inside the span: their contracts are read row by row. Every other account's
    contracts cover the whole span (in force on every first day, none ends): such a *steady* account is
    at start and retained in every period, so the database only counts them and sums their values."""

    moving: list[ContractRow] = field(default_factory=list)
    steady_accounts: int = 0
    steady_cents: int = 0  # a month


def _of_visible_accounts(query: PerceptionQuery) -> Q:
    """Rows (contracts, responses) of accounts not deleted and in the query's filters. Without a filter,
    as "not one of the few deleted accounts" (no join with every account); with one, through the join."""
    if query.narrowed:
        return query.account_filter() & Q(account__deleted=False)
    deleted = Account.objects.filter(workspace=query.workspace, deleted=True).values("pk")
    return ~Q(account_id__in=deleted)


def contracts_in_force(
    query: PerceptionQuery, first: date, last: date, by: str | None = None
) -> dict[Group, ContractsRead]:
    """The contracts in force some day of first–last (of accounts not deleted, in the query's filters),
    per group (a single None group without ``by``)."""
    rows = Contract.objects.filter(
        _of_visible_accounts(query),
        workspace=query.workspace,
        deleted=False,
        end__gte=first,
        start__lte=last,
    ).order_by()
    moves = Exists(
        Contract.objects.filter(account=OuterRef("account"), deleted=False, end__gte=first, start__lte=last).filter(
            Q(start__gt=first) | Q(end__lte=last)
        )
    )
    path = _group_path(by)
    extra = [path] if path else []
    result: dict[Group, ContractsRead] = defaultdict(ContractsRead)
    renewed = Contract.Status.RENEWED
    for row in rows.filter(moves).values_list("account_id", "start", "end", "monthly_value_cents", "status", *extra):
        result[_group(row[5]) if path else None].moving.append((row[0], row[1], row[2], row[3], row[4] == renewed))
    # Steady accounts: all of them less the moving ones (one plain aggregate: cheaper than an anti-join).
    totals = {"n": Count("account_id", distinct=True), "cents": Sum("monthly_value_cents")}
    for total in rows.values(path).annotate(**totals) if path else [rows.aggregate(**totals)]:
        read = result[_group(total[path]) if path else None]
        moving_accounts = len({row[0] for row in read.moving})
        read.steady_accounts = total["n"] - moving_accounts
        read.steady_cents = (total["cents"] or 0) - sum(row[3] for row in read.moving)
    return result


SurveyCounts = dict[tuple[int, Group], list[tuple[str, int, int]]]  # (period, group) → (kind, score, count)


def survey_counts(query: PerceptionQuery, periods: list[Period], by: str | None = None) -> SurveyCounts:
    """Responses per period (index in ``periods``, consecutive), group, kind and score, counted by the database."""
    bucket = Case(
        *(When(responded_on__lte=p.end, then=Value(i)) for i, p in enumerate(periods)), output_field=IntegerField()
    )
    path = _group_path(by)
    rows = (
        SurveyResponse.objects.filter(
            _of_visible_accounts(query),
            workspace=query.workspace,
            kind__in=list(SurveyResponse.SCALES),
            responded_on__gte=periods[0].start,
            responded_on__lte=periods[-1].end,
            deleted=False,
        )
        .annotate(bucket=bucket)
        .values("bucket", "kind", "score", *([path] if path else []))
        .annotate(n=Count("id"))
        .order_by()
    )
    result: SurveyCounts = defaultdict(list)
    for row in rows:
        result[(row["bucket"], _group(row[path]) if path else None)].append((row["kind"], row["score"], row["n"]))
    return result


def spend_by_month(
    query: PerceptionQuery, first: date, last: date, by: str | None = None
) -> dict[Group, dict[date, int]]:
    """Retention spend (cents) per month touching first–last, per group. Without a filter every spend
    counts, on an account or not; with one (or per group) only spend on the accounts it leaves."""
    rows = RetentionSpend.objects.filter(
        workspace=query.workspace, deleted=False, period__gte=first.replace(day=1), period__lte=last
    )
    path = _group_path(by)
    if query.narrowed or path:
        rows = rows.filter(query.account_filter(), account__isnull=False, account__deleted=False)
    else:
        rows = rows.filter(Q(account__isnull=True) | Q(account__deleted=False))
    result: dict[Group, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows.values("period", *([path] if path else [])).annotate(cents=Sum("amount_cents")).order_by():
        result[_group(row[path]) if path else None][row["period"]] += row["cents"]
    return result


# --- the engine ----------------------------------------------------------------------------------------------


def figures_over(
    periods: list[Period],
    contracts: ContractsRead,
    surveys: Iterable[list[tuple[str, int, int]]],
    spend: dict[date, int],
) -> list[Figures]:
    """The figures of each of ``periods`` (consecutive: each starts the day after the one before) from
    the contracts in force in them, the survey counts of each (same order) and the spend per month.

    Per period P (first day S, last day E), per API.md: an account is *at start* with a contract in
    force on S; *churned* when at start and every one of its contracts in force in P ends in P
    unrenewed; *retained* otherwise. A contract in force on S that ends in P unrenewed loses its
    monthly value; a contract ending in P counts for the renewal rate."""
    n = len(periods)
    starts = [p.start for p in periods]
    ends = [p.end for p in periods]
    first, last = starts[0], ends[-1]
    figures = [Figures() for _ in periods]
    _count_surveys(figures, surveys)

    # Per period, by difference arrays: accounts at start, cents a month in force on the first day,
    # and cents a month of contracts covering the period whole (their accounts are retained there).
    at_start_diff = [0] * (n + 1)
    value_diff = [0] * (n + 1)
    covered_diff = [0] * (n + 1)
    at_start_diff[0] += contracts.steady_accounts
    at_start_diff[n] -= contracts.steady_accounts
    for diff in (value_diff, covered_diff):
        diff[0] += contracts.steady_cents
        diff[n] -= contracts.steady_cents

    ending, renewals, lost, churned_count = [0] * n, [0] * n, [0] * n, [0] * n
    revenue = [figure.revenue for figure in figures]
    by_account: dict[int, list[ContractRow]] = defaultdict(list)
    for row in contracts.moving:
        by_account[row[0]].append(row)

    for rows in by_account.values():
        if len(rows) == 1:  # most accounts: one contract in force in the span
            _account, start, end, cents, renewed = rows[0]
            lo, hi = bisect_left(starts, start), bisect_right(starts, end) - 1
            churned_in = -1
            if lo <= hi:
                value_diff[lo] += cents
                value_diff[hi + 1] -= cents
                at_start_diff[lo] += 1
                at_start_diff[hi + 1] -= 1
            if end <= last:
                j = hi  # the period it ends in
                ending[j] += 1
                if renewed:
                    renewals[j] += 1
                elif lo <= j:  # in force on that period's first day, and nothing keeps the account
                    lost[j] += cents
                    churned_count[j] += 1
                    churned_in = j
            a = bisect_right(starts, start) - 1 if start > first else 0
            b = hi if end < last else n - 1
            if b > a + 1:
                covered_diff[a + 1] += cents
                covered_diff[b] -= cents
            for i in (a, b) if a != b else (a,):
                if lo <= i <= hi and i != churned_in:
                    revenue[i].add_days(cents, max(start, starts[i]), min(end, ends[i]))
            continue
        lows: list[int] = []
        highs: list[int] = []
        ending_in: list[int | None] = []
        for _account, start, end, cents, renewed in rows:
            # In force on the first day of periods lo…hi; ends in period ends_at (None: after the span).
            lo, hi = bisect_left(starts, start), bisect_right(starts, end) - 1
            ends_at = hi if end <= last else None
            lows.append(lo)
            highs.append(hi)
            ending_in.append(ends_at)
            if lo <= hi:
                value_diff[lo] += cents
                value_diff[hi + 1] -= cents
            if ends_at is not None:
                ending[ends_at] += 1
                if renewed:
                    renewals[ends_at] += 1
                elif lo <= ends_at:  # in force on the period's first day
                    lost[ends_at] += cents
        at_start = _merged(sorted(zip(lows, highs, strict=True)))
        for lo, hi in at_start:
            at_start_diff[lo] += 1
            at_start_diff[hi + 1] -= 1
        # Churned: only in a period where one of its contracts ends.
        churned: set[int] = set()
        for j in {k for k in ending_in if k is not None}:
            if not any(lo <= j <= hi for lo, hi in at_start):
                continue
            s, e = starts[j], ends[j]
            if all(end <= e and not renewed for _a, start, end, _c, renewed in rows if start <= e and end >= s):
                churned.add(j)
                churned_count[j] += 1
        # Revenue of the retained: a contract's periods strictly inside its term are covered whole (and
        # its account is retained there); the first and the last are counted day by day.
        for _account, start, end, cents, _renewed in rows:
            a = bisect_right(starts, start) - 1 if start > first else 0
            b = bisect_right(starts, end) - 1 if end < last else n - 1
            if b > a + 1:
                covered_diff[a + 1] += cents
                covered_diff[b] -= cents
            for i in (a, b) if a != b else (a,):
                if i not in churned and any(lo <= i <= hi for lo, hi in at_start):
                    revenue[i].add_days(cents, max(start, starts[i]), min(end, ends[i]))

    for i, figure in enumerate(figures):
        figure.ending, figure.renewed, figure.value_lost, figure.churned = (
            ending[i],
            renewals[i],
            lost[i],
            churned_count[i],
        )
    at_start_count = value = covered = 0
    for i, figure in enumerate(figures):
        at_start_count += at_start_diff[i]
        value += value_diff[i]
        covered += covered_diff[i]
        figure.at_start, figure.value_at_start = at_start_count, value
        if covered:
            figure.revenue.add_days(covered, starts[i], ends[i])

    for month, cents in spend.items():
        month_last = month_end(month)
        for i in range(max(bisect_right(starts, month) - 1, 0), bisect_right(starts, min(month_last, last))):
            days = _overlap(month, month_last, periods[i])
            if days is not None:
                figures[i].spend.add_days(cents, *days)
    return figures


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted index ranges (empty ones, lo > hi, included) merged into disjoint ones."""
    merged: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if lo > hi:
            continue
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _count_surveys(figures: list[Figures], surveys: Iterable[list[tuple[str, int, int]]]) -> None:
    for figure, counts in zip(figures, surveys, strict=True):
        for kind, score, count in counts:
            if kind == "nps":
                if score >= 9:
                    figure.promoters += count
                elif score >= 7:
                    figure.passives += count
                else:
                    figure.detractors += count
            elif kind == "ces":
                figure.ces_sum += score * count
                figure.ces_responses += count
            elif kind == "csat":
                figure.csat_satisfied += count if score >= 4 else 0
                figure.csat_responses += count


def _figures(query: PerceptionQuery, periods: list[Period]) -> list[Figures]:
    first, last = periods[0].start, periods[-1].end
    contracts = contracts_in_force(query, first, last).get(None, ContractsRead())
    counts = survey_counts(query, periods)
    spend = spend_by_month(query, first, last).get(None, {})
    return figures_over(periods, contracts, [counts.get((i, None), []) for i in range(len(periods))], spend)


# --- summary, trend, breakdown ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """A metric of the period beside the previous period's: ``value``/``previous`` as answered (money in
    cents), ``change`` = value − previous (as answered), ``change_pct`` from the unrounded figures."""

    value: float | int | None
    previous: float | int | None
    change: float | int | None
    change_pct: float | None


@dataclass(frozen=True)
class Summary:
    period: Period
    previous: Period
    metrics: dict[str, Metric]
    promoters: int
    passives: int
    detractors: int


def _metrics(now: Figures, before: Figures) -> dict[str, Metric]:
    values, previous = now.rounded(), before.rounded()
    exact_now, exact_before = now.exact(), before.exact()
    result = {}
    for name in METRICS:
        value, old = values[name], previous[name]
        change = None if value is None or old is None else round(value - old, DECIMALS.get(name, 1))
        unrounded, old_unrounded = exact_now[name], exact_before[name]
        change_ratio = (
            None if unrounded is None or old_unrounded is None else change_pct(float(unrounded), float(old_unrounded))
        )
        result[name] = Metric(value, old, change, change_ratio)
    return result


def _cached[T](name: str, query: PerceptionQuery, compute: Callable[[], T], *extra: Any) -> T:
    """``compute()``, cached until the accounts, contracts, surveys or retention spend change
    (``records.versions``; a deal or a feedback text leaves it cached), keyed on all
    the answer depends on: the period, its time zone and the filters. A segment's accounts depend on the
    aggregates too (revenue, NPS, rules): with one, every read is computed."""
    if query.segment is not None or query.group_segment is not None:
        return compute()
    owner = query.owner.pk if query.owner else None
    return period_cached(f"perception-{name}", METRIC_KINDS, query, compute, query.industry, owner, *extra)


def summary(query: SummaryQuery) -> Summary:
    return _cached("summary", query, lambda: _summary(query))


def _summary(query: SummaryQuery) -> Summary:
    previous = query.period.previous()
    before, now = _figures(query, [previous, query.period])
    return Summary(query.period, previous, _metrics(now, before), now.promoters, now.passives, now.detractors)


def month_periods(period: Period) -> list[Period]:
    """Each month the period touches, cut to it, oldest first."""
    return [
        Period(max(month, period.start), min(month_end(month), period.end), period.tz)
        for month in months_between(period.start, period.end)
    ]


@dataclass(frozen=True)
class MonthRow:
    month: date
    values: dict[str, float | int | None]


def trend(query: TrendQuery) -> list[MonthRow]:
    return _cached("trend", query, lambda: _trend(query))


def _trend(query: TrendQuery) -> list[MonthRow]:
    periods = month_periods(query.period)
    return [
        MonthRow(p.start.replace(day=1), f.rounded()) for p, f in zip(periods, _figures(query, periods), strict=True)
    ]


@dataclass(frozen=True)
class GroupRow:
    group: Group
    values: dict[str, float | int | None]
    segment: int | None = None  # by segment: its id


def breakdown(query: BreakdownQuery) -> list[GroupRow]:
    """Each group with something to count in the period (a contract in force, a response, spend on its
    accounts), by name, the null group last; each computed as if filtered to it. By segment: every
    segment the viewer may use (``query.segments``), by name, each counted on its own (an account may be
    in several), those with nothing to count included."""
    if query.by == "segment":
        return [
            GroupRow(ref.name, _figures(replace(query, group_segment=ref), [query.period])[0].rounded(), ref.pk)
            for ref in query.segments
        ]
    return _cached("breakdown", query, lambda: _breakdown(query), query.by)


def _breakdown(query: BreakdownQuery) -> list[GroupRow]:
    period, by = query.period, query.by
    contracts = contracts_in_force(query, period.start, period.end, by)
    counts = survey_counts(query, [period], by)
    spend = spend_by_month(query, period.start, period.end, by)
    groups = set(contracts) | {g for _i, g in counts} | set(spend)
    ordered = sorted(groups, key=lambda g: (g is None, (g or "").casefold(), g or ""))
    return [
        GroupRow(
            g,
            figures_over([period], contracts.get(g, ContractsRead()), [counts.get((0, g), [])], spend.get(g, {}))[
                0
            ].rounded(),
        )
        for g in ordered
    ]


# --- the accounts at start, churned, retained --------------------------------------------------------------


def perception_accounts(query: PerceptionAccountsQuery) -> QuerySet[Account]:
    """The accounts of ``query.status`` in the period (API.md's definitions, as conditions on each
    account's contracts), by name then external id."""
    first, last = query.period.start, query.period.end
    own = Contract.objects.filter(account=OuterRef("pk"), deleted=False)
    at_start = Exists(own.filter(start__lte=first, end__gte=first))
    # A contract in force in the period that does not end in it, or is renewed, keeps the account.
    keeps = Exists(
        own.filter(start__lte=last, end__gte=first).filter(Q(end__gt=last) | Q(status=Contract.Status.RENEWED))
    )
    accounts = visible_accounts(query.workspace).filter(query.account_filter(prefix=""), at_start)
    if query.status == "churned":
        # A churned account's contract in force on the first day ends in the period unrenewed: the few
        # accounts with one (index (workspace, end)) first, rather than both tests on every account.
        ending = Contract.objects.filter(
            workspace=query.workspace, deleted=False, end__gte=first, end__lte=last, start__lte=first
        ).exclude(status=Contract.Status.RENEWED)
        accounts = accounts.filter(~keeps, pk__in=ending.values("account_id"))
    elif query.status == "retained":
        accounts = accounts.filter(keeps)
    return accounts.select_related("owner").order_by("name", "external_id")


@dataclass(frozen=True)
class AccountFigures:
    """An account's contracts in the period: how many are in force some day of it, their monthly value
    on its first day, the latest end, and their value spread over their days in it (cents)."""

    contracts: int = 0
    monthly_value: int = 0
    last_end: date | None = None
    revenue: int = 0


def account_figures(query: PerceptionQuery, account_ids: list[int]) -> dict[int, AccountFigures]:
    first, last = query.period.start, query.period.end
    rows = (
        Contract.objects.filter(account_id__in=account_ids, deleted=False, end__gte=first, start__lte=last)
        .values_list("account_id", "start", "end", "monthly_value_cents")
        .order_by()
    )
    by_account: dict[int, list[tuple[date, date, int]]] = defaultdict(list)
    for account_id, start, end, cents in rows:
        by_account[account_id].append((start, end, cents))
    result = {}
    for account_id, contracts in by_account.items():
        spread = Spread()
        for start, end, cents in contracts:
            spread.add_days(cents, max(start, first), min(end, last))
        revenue = spread.value()
        result[account_id] = AccountFigures(
            contracts=len(contracts),
            monthly_value=sum(c for s, e, c in contracts if s <= first <= e),
            last_end=max(e for _s, e, _c in contracts),
            revenue=div_half_up(revenue.numerator, revenue.denominator),
        )
    return result
