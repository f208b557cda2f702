"""The aggregates the Accounts and Sales tabs read (docs/records.md#aggregates), recomputed per key
that a batch marked dirty (``RecordsDirty``): per account, per close date, per close month, per
creation month, per activity day. Recompute-and-replace, so running one twice is harmless; one
refresh at a time per workspace (the workspace row is locked), so two never insert the same key.

A deal counts when neither it nor its account is deleted; a missing amount adds 0. Only completed,
undeleted activities count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

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
    Feedback,
    FeedbackDayFigures,
    FeedbackTerm,
    FeedbackTermDayFigures,
    FeedbackTermMonthFigures,
    OpenStageFigures,
    ProductDayFigures,
    RecordsDirty,
    RepDayActivity,
    SurveyResponse,
)
from records.versions import records_changed
from tenancy.models import Workspace

CHUNK = 900  # keys per IN (…): under SQLite's default variable limit with room for the other parameters
REFRESH_ALL = 50_000  # marked accounts or deals beyond which all of them are recomputed at once

AMOUNT = Coalesce(F("amount_cents"), Value(0))


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def visible_deals(workspace: Workspace) -> QuerySet[Deal]:
    """The deals every figure counts: not deleted, of an account not deleted."""
    return Deal.objects.filter(workspace=workspace, deleted=False, account__deleted=False)


def _chunks(keys: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(keys)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _months_q(field: str, months: list[date]) -> Q:
    q = Q()
    for month in months:
        q |= Q(**{f"{field}__gte": month, f"{field}__lt": next_month(month)})
    return q


# --- per kind: recompute the given keys (None: all) ------------------------------------------------------


def account_figures(workspace: Workspace, account_ids: Iterable[int] | None) -> None:
    if account_ids is None:
        AccountFigures.objects.filter(workspace=workspace).delete()
        _account_figures(workspace, None)
        return
    for chunk in _chunks(account_ids):
        AccountFigures.objects.filter(workspace=workspace, account_id__in=chunk).delete()
        _account_figures(workspace, chunk)


def _account_figures(workspace: Workspace, ids: list[int] | None) -> None:
    accounts = Account.objects.filter(workspace=workspace)
    deals = Deal.objects.filter(workspace=workspace, deleted=False)
    lines = DealLineItem.objects.filter(deal__workspace=workspace, deal__deleted=False, deal__state=Deal.State.WON)
    activities = Activity.objects.filter(workspace=workspace, deleted=False, completed=True, account__isnull=False)
    if ids is not None:
        accounts = accounts.filter(id__in=ids)
        deals = deals.filter(account_id__in=ids)
        lines = lines.filter(deal__account_id__in=ids)
        activities = activities.filter(account_id__in=ids)
    figures = {
        pk: AccountFigures(
            account_id=pk,
            workspace=workspace,
            account_active=status == Account.Status.ACTIVE and not deleted,
            created_on=created_on,
        )
        for pk, status, deleted, created_on in accounts.values_list("id", "status", "deleted", "created_on")
    }
    for row in deals.values("account_id", "state").annotate(n=Count("id"), amount=Sum(AMOUNT)).order_by():
        fig = figures.get(row["account_id"])
        if fig is None:
            continue
        if row["state"] == Deal.State.WON:
            fig.won_deals, fig.revenue_cents = row["n"], row["amount"] or 0
        elif row["state"] == Deal.State.LOST:
            fig.lost_deals = row["n"]
        else:
            fig.open_deals, fig.open_pipeline_cents = row["n"], row["amount"] or 0
    for account_id, products in (
        lines.values("deal__account_id")
        .annotate(n=Count("product_id", distinct=True))
        .values_list("deal__account_id", "n")
        .order_by()
    ):
        if account_id in figures:
            figures[account_id].products = products
    for account_id, last in (
        activities.values("account_id").annotate(last=Max("occurred_on")).values_list("account_id", "last").order_by()
    ):
        if account_id in figures:
            figures[account_id].last_activity = last
    _perception_figures(workspace, ids, figures)
    AccountFigures.objects.bulk_create(figures.values(), batch_size=1000)


# The negative trend compares the share of negative texts among the 3 latest labelled ones with the
# share among the (up to) 3 before those.
TREND_TEXTS = 3


def _perception_figures(workspace: Workspace, ids: list[int] | None, figures: dict[int, AccountFigures]) -> None:
    """What the account's customers say (docs/perception.md#on-the-account): NPS over all its responses and
    the latest score, the latest labelled feedback's sentiment and whether negatives rise, the latest end
    of its active contracts."""
    surveys = SurveyResponse.objects.filter(workspace=workspace, deleted=False, kind=SurveyResponse.Kind.NPS)
    feedback = Feedback.objects.filter(workspace=workspace, deleted=False, account__isnull=False).exclude(sentiment="")
    contracts = Contract.objects.filter(workspace=workspace, deleted=False, status=Contract.Status.ACTIVE)
    if ids is not None:
        surveys, feedback, contracts = (
            surveys.filter(account_id__in=ids),
            feedback.filter(account_id__in=ids),
            contracts.filter(account_id__in=ids),
        )
    counted = surveys.values("account_id").annotate(
        responses=Count("id"),
        promoters=Count("id", filter=Q(score__gte=9)),
        detractors=Count("id", filter=Q(score__lte=6)),
    )
    for row in counted.order_by():
        fig = figures.get(row["account_id"])
        if fig is not None:
            fig.nps_responses = row["responses"]
            fig.nps = round((row["promoters"] - row["detractors"]) * 100 / row["responses"], 1)
    # Latest first per account; each account's rows are read until its latest one is known.
    for account_id, score in surveys.order_by("account_id", "-responded_at", "-id").values_list("account_id", "score"):
        fig = figures.get(account_id)
        if fig is not None and fig.last_nps_score is None:
            fig.last_nps_score = score
    latest: dict[int, list[str]] = defaultdict(list)
    for account_id, sentiment in feedback.order_by("account_id", "-received_at", "-id").values_list(
        "account_id", "sentiment"
    ):
        texts = latest[account_id]
        if len(texts) < 2 * TREND_TEXTS:
            texts.append(sentiment)
    for account_id, texts in latest.items():
        fig = figures.get(account_id)
        if fig is not None:
            fig.last_sentiment = texts[0]
            recent, before = texts[:TREND_TEXTS], texts[TREND_TEXTS:]
            # Shares, as the two groups may differ in size (an account with 4 texts: 3 and 1).
            fig.negative_trend = bool(before) and (
                recent.count("negative") * len(before) > before.count("negative") * len(recent)
            )
    for account_id, end in contracts.values("account_id").annotate(end=Max("end")).values_list("account_id", "end"):
        fig = figures.get(account_id)
        if fig is not None:
            fig.contract_end = end


def close_day_figures(workspace: Workspace, days: Iterable[date] | None) -> None:
    def build(deals: QuerySet[Deal]) -> list[DealDayFigures]:
        rows = (
            deals.exclude(close_date=None)
            .values("close_date", "owner_id", "state")
            .annotate(n=Count("id"), amount=Sum(AMOUNT))
            .order_by("close_date")  # a day's rows together on disk (see activity_day_figures)
        )
        rows_: list[Any] = list(rows)
        return [
            DealDayFigures(workspace=workspace, day=r["close_date"], owner_id=r["owner_id"], state=r["state"],
                           deals=r["n"], amount_cents=r["amount"] or 0)
            for r in rows_
        ]  # fmt: skip

    _replace_close_days(DealDayFigures, workspace, days, build)


def _replace_close_days(model: Any, workspace: Workspace, days: Iterable[date] | None, build: Any) -> None:
    """Delete and rebuild the rows of a table keyed by close date (``day``) for ``days`` (None: all), from
    the visible deals closing on them."""
    if days is None:
        model.objects.filter(workspace=workspace).delete()
        model.objects.bulk_create(build(visible_deals(workspace)), batch_size=1000)
        return
    for chunk in _chunks(days):
        model.objects.filter(workspace=workspace, day__in=chunk).delete()
        model.objects.bulk_create(build(visible_deals(workspace).filter(close_date__in=chunk)), batch_size=1000)


def product_day_figures(workspace: Workspace, days: Iterable[date] | None) -> None:
    """Won line items per close date, product and account active; kept with the close-day marks (a
    deal's lines change only with the deal, an account's status flip marks its deals' close dates)."""
    active = ExpressionWrapper(Q(deal__account__status=Account.Status.ACTIVE), output_field=BooleanField())

    def build(deals: QuerySet[Deal]) -> list[ProductDayFigures]:
        rows = (
            DealLineItem.objects.filter(deal__in=deals.filter(state=Deal.State.WON).exclude(close_date=None))
            .values("deal__close_date", "product_id", account_active=active)
            .annotate(lines=Count("id"), amount=Sum("amount_cents"), quantity=Sum("quantity"))
            .order_by("deal__close_date")  # a day's rows together on disk (see activity_day_figures)
        )
        rows_: list[Any] = list(rows)  # the close date is never None here (excluded above)
        return [
            ProductDayFigures(workspace=workspace, day=r["deal__close_date"], product_id=r["product_id"],
                              account_active=r["account_active"], lines=r["lines"], amount_cents=r["amount"],
                              quantity=r["quantity"])
            for r in rows_
        ]  # fmt: skip

    _replace_close_days(ProductDayFigures, workspace, days, build)


def close_month_figures(workspace: Workspace, months: Iterable[date] | None) -> None:
    active = ExpressionWrapper(Q(account__status=Account.Status.ACTIVE), output_field=BooleanField())

    def build(deals: QuerySet[Deal]) -> list[DealMonthFigures]:
        rows = (
            deals.exclude(close_date=None)
            .values("owner_id", "state", "forecast_category", month=TruncMonth("close_date"), active=active)
            .annotate(n=Count("id"), amount=Sum(AMOUNT), weighted=Sum(AMOUNT * F("probability")))
            .order_by()
        )  # fmt: skip
        return [
            DealMonthFigures(workspace=workspace, month=r["month"], owner_id=r["owner_id"], state=r["state"],
                             forecast_category=r["forecast_category"], account_active=bool(r["active"]), deals=r["n"],
                             amount_cents=r["amount"] or 0, weighted=r["weighted"] or 0)
            for r in rows
        ]  # fmt: skip

    if months is None:
        DealMonthFigures.objects.filter(workspace=workspace).delete()
        DealMonthFigures.objects.bulk_create(build(visible_deals(workspace)), batch_size=1000)
        return
    for chunk in _chunks(months):
        DealMonthFigures.objects.filter(workspace=workspace, month__in=chunk).delete()
        deals = visible_deals(workspace).filter(_months_q("close_date", chunk))
        DealMonthFigures.objects.bulk_create(build(deals), batch_size=1000)


def created_month_figures(workspace: Workspace, months: Iterable[date] | None) -> None:
    def build(deals: QuerySet[Deal]) -> list[CreatedMonthFigures]:
        rows = (
            deals.values("owner_id", month=TruncMonth("created_on"))
            .annotate(n=Count("id"), amount=Sum(AMOUNT))
            .order_by()
        )
        return [
            CreatedMonthFigures(workspace=workspace, month=r["month"], owner_id=r["owner_id"], deals=r["n"],
                                amount_cents=r["amount"] or 0)
            for r in rows
        ]  # fmt: skip

    if months is None:
        CreatedMonthFigures.objects.filter(workspace=workspace).delete()
        CreatedMonthFigures.objects.bulk_create(build(visible_deals(workspace)), batch_size=1000)
        return
    for chunk in _chunks(months):
        CreatedMonthFigures.objects.filter(workspace=workspace, month__in=chunk).delete()
        deals = visible_deals(workspace).filter(_months_q("created_on", chunk))
        CreatedMonthFigures.objects.bulk_create(build(deals), batch_size=1000)


def open_stage_figures(workspace: Workspace, days: Iterable[date | None] | None) -> None:
    """Open deals per stage and close date; ``None`` in ``days`` stands for the deals without one."""

    def build(deals: QuerySet[Deal]) -> list[OpenStageFigures]:
        rows = (
            deals.filter(state=Deal.State.OPEN)
            .values("stage", "close_date")
            .annotate(n=Count("id"), amount=Sum(AMOUNT), weighted=Sum(AMOUNT * F("probability")))
            .order_by()
        )
        return [
            OpenStageFigures(workspace=workspace, stage=r["stage"], close_date=r["close_date"], deals=r["n"],
                             amount_cents=r["amount"] or 0, weighted=r["weighted"] or 0)
            for r in rows
        ]  # fmt: skip

    if days is None:
        OpenStageFigures.objects.filter(workspace=workspace).delete()
        OpenStageFigures.objects.bulk_create(build(visible_deals(workspace)), batch_size=1000)
        return
    dated = [d for d in days if d is not None]
    if len(dated) < len(list(days)):
        OpenStageFigures.objects.filter(workspace=workspace, close_date=None).delete()
        OpenStageFigures.objects.bulk_create(build(visible_deals(workspace).filter(close_date=None)), batch_size=1000)
    for chunk in _chunks(dated):
        OpenStageFigures.objects.filter(workspace=workspace, close_date__in=chunk).delete()
        OpenStageFigures.objects.bulk_create(
            build(visible_deals(workspace).filter(close_date__in=chunk)), batch_size=1000
        )


def deal_last_activity(workspace: Workspace, deal_ids: Iterable[int] | None) -> None:
    """``Deal.last_activity_on``: the local date of the deal's latest completed, undeleted activity
    (one probe of the (deal, occurred_on) index per deal)."""
    latest = Subquery(
        Activity.objects.filter(deal=OuterRef("pk"), deleted=False, completed=True)
        .order_by("-occurred_on")
        .values("occurred_on")[:1]
    )
    deals = Deal.objects.filter(workspace=workspace)
    if deal_ids is None:
        deals.update(last_activity_on=latest)
        return
    for chunk in _chunks(deal_ids):
        deals.filter(id__in=chunk).update(last_activity_on=latest)


def activity_day_figures(workspace: Workspace, days: Iterable[date] | None) -> None:
    def build(activities: QuerySet[Activity]) -> list[RepDayActivity]:
        by_kind = {column: Count("id", filter=Q(kind=kind)) for kind, column in RepDayActivity.KIND_COLUMNS.items()}
        # In day order, so that a day's rows lie together on disk and a month is read from few pages.
        rows: list[Any] = list(
            activities.values("occurred_on", "owner_id").annotate(n=Count("id"), **by_kind).order_by("occurred_on")
        )
        return [
            RepDayActivity(workspace=workspace, day=r["occurred_on"], owner_id=r["owner_id"], activities=r["n"],
                           **{column: r[column] for column in by_kind})
            for r in rows
        ]  # fmt: skip

    counted = Activity.objects.filter(workspace=workspace, deleted=False, completed=True)
    if days is None:
        RepDayActivity.objects.filter(workspace=workspace).delete()
        RepDayActivity.objects.bulk_create(build(counted), batch_size=1000)
        return
    for chunk in _chunks(days):
        RepDayActivity.objects.filter(workspace=workspace, day__in=chunk).delete()
        RepDayActivity.objects.bulk_create(build(counted.filter(occurred_on__in=chunk)), batch_size=1000)


def voice_feedback(workspace: Workspace) -> QuerySet[Feedback]:
    """The feedback the voice counts: labelled, not deleted, of no account or one not deleted."""
    deleted_accounts = Account.objects.filter(workspace=workspace, deleted=True).values("id")
    return (
        Feedback.objects.filter(workspace=workspace, deleted=False)
        .exclude(sentiment="")
        .exclude(account_id__in=deleted_accounts)
    )


def voice_terms(workspace: Workspace) -> QuerySet[FeedbackTerm]:
    """The terms of that feedback, read from the terms alone (they carry its day, channel, sentiment,
    account and deleted flag; only labelled feedback has terms)."""
    deleted_accounts = Account.objects.filter(workspace=workspace, deleted=True).values("id")
    return FeedbackTerm.objects.filter(workspace=workspace, deleted=False).exclude(account_id__in=deleted_accounts)


def _insert_select(model: Any, workspace: Workspace, columns: dict[str, str], rows: QuerySet[Any]) -> None:
    """Insert the grouped ``rows`` (``columns``: the model field of each of their names) with one ``INSERT
    … SELECT``: a year of terms is about two million aggregate rows, which need not travel through Python."""
    sql, params = rows.query.sql_with_params()
    # The statement's columns: its fields, then its annotations (Django's order).
    names = [*rows.query.values_select, *rows.query.annotation_select]
    fields = ["workspace", *(columns[name] for name in names)]
    quoted = ", ".join(connection.ops.quote_name(model._meta.get_field(f).column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({quoted}) SELECT %s, q.* FROM ({sql}) q", [workspace.pk, *params])


def feedback_day_figures(workspace: Workspace, days: Iterable[date] | None) -> None:
    """``FeedbackDayFigures`` and ``FeedbackTermDayFigures`` of ``days`` (None: all): the voice's counts
    by responses, per received day."""

    def build(feedback: QuerySet[Feedback], terms: QuerySet[FeedbackTerm]) -> None:
        # In day order, so that a day's rows lie together on disk (see activity_day_figures).
        _insert_select(
            FeedbackDayFigures,
            workspace,
            {"received_on": "day", "channel": "channel", "sentiment": "sentiment", "n": "items"},
            feedback.values("received_on", "channel", "sentiment").annotate(n=Count("id")).order_by("received_on"),
        )
        _insert_select(
            FeedbackTermDayFigures,
            workspace,
            {"received_on": "day", "channel": "channel", "sentiment": "sentiment", "kind": "kind", "term": "term",
             "n": "items"},
            terms.exclude(received_on=None)
            .values("received_on", "channel", "sentiment", "kind", "term")
            .annotate(n=Count("id"))
            .order_by("received_on"),
        )  # fmt: skip

    if days is None:
        FeedbackDayFigures.objects.filter(workspace=workspace).delete()
        FeedbackTermDayFigures.objects.filter(workspace=workspace).delete()
        build(voice_feedback(workspace), voice_terms(workspace))
        feedback_term_month_figures(workspace, None)
        return
    for chunk in _chunks(days):
        FeedbackDayFigures.objects.filter(workspace=workspace, day__in=chunk).delete()
        FeedbackTermDayFigures.objects.filter(workspace=workspace, day__in=chunk).delete()
        build(
            voice_feedback(workspace).filter(received_on__in=chunk),
            voice_terms(workspace).filter(received_on__in=chunk),
        )
    feedback_term_month_figures(workspace, {day.replace(day=1) for day in days})


def feedback_term_month_figures(workspace: Workspace, months: Iterable[date] | None) -> None:
    """``FeedbackTermMonthFigures`` of ``months`` (None: all), summed from the day rows (refreshed first)."""

    def build(rows: QuerySet[FeedbackTermDayFigures]) -> None:
        _insert_select(
            FeedbackTermMonthFigures,
            workspace,
            {"month": "month", "channel": "channel", "sentiment": "sentiment", "kind": "kind", "term": "term",
             "n": "items"},
            rows.values("channel", "sentiment", "kind", "term", month=TruncMonth("day"))
            .annotate(n=Sum("items"))
            .order_by("month"),
        )  # fmt: skip

    days = FeedbackTermDayFigures.objects.filter(workspace=workspace)
    if months is None:
        FeedbackTermMonthFigures.objects.filter(workspace=workspace).delete()
        build(days)
        return
    for chunk in _chunks(months):
        FeedbackTermMonthFigures.objects.filter(workspace=workspace, month__in=chunk).delete()
        build(days.filter(_months_q("day", chunk)))


def marked_ids(model: type[Account | Deal], workspace: Workspace, keys: Iterable[str]) -> set[int] | None:
    """The ids of the workspace's accounts or deals inside the marked ranges (``"17"``, ``"1024-2047"``;
    ``records.services.id_ranges``); None (recompute them all) when that is more than ``REFRESH_ALL``
    of them: one statement over the table then costs less than thousands over parts of it."""
    ids: set[int] = set()
    ranges: list[tuple[int, int]] = []
    for key in keys:
        low, _, high = key.partition("-")
        if high:
            ranges.append((int(low), int(high)))
        else:
            ids.add(int(low))
    rows = model._default_manager.filter(workspace=workspace)
    for start in range(0, len(ranges), 50):
        within = Q()
        for first, last in ranges[start : start + 50]:
            within |= Q(id__gte=first, id__lte=last)
        ids.update(rows.filter(within).values_list("id", flat=True)[: REFRESH_ALL + 1])
        if len(ids) > REFRESH_ALL:
            return None
    return ids


# --- entry points -------------------------------------------------------------------------------------------


def figures_refresh_dirty(*, workspace: Workspace) -> int:
    """Recompute every key marked dirty and clear those marks; the number of keys done."""
    with transaction.atomic():
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()  # one refresh at a time
        marks = list(RecordsDirty.objects.filter(workspace=workspace).values_list("id", "kind", "key"))
        if not marks:
            return 0
        keys: dict[str, set[str]] = {}
        for _id, kind, key in marks:
            keys.setdefault(kind, set()).add(key)
        Kind = RecordsDirty.Kind
        if Kind.ACCOUNT in keys:
            account_figures(workspace, marked_ids(Account, workspace, keys[Kind.ACCOUNT]))
        if Kind.CLOSE_DAY in keys:
            close_days = {date.fromisoformat(k) for k in keys[Kind.CLOSE_DAY]}
            close_day_figures(workspace, close_days)
            product_day_figures(workspace, close_days)
        if Kind.CLOSE_MONTH in keys:
            close_month_figures(workspace, {date.fromisoformat(k) for k in keys[Kind.CLOSE_MONTH]})
        if Kind.CREATED_MONTH in keys:
            created_month_figures(workspace, {date.fromisoformat(k) for k in keys[Kind.CREATED_MONTH]})
        if Kind.ACTIVITY_DAY in keys:
            activity_day_figures(workspace, {date.fromisoformat(k) for k in keys[Kind.ACTIVITY_DAY]})
        if Kind.OPEN_STAGE in keys:
            open_stage_figures(workspace, {None if k == "-" else date.fromisoformat(k) for k in keys[Kind.OPEN_STAGE]})
        if Kind.DEAL in keys:
            deal_last_activity(workspace, marked_ids(Deal, workspace, keys[Kind.DEAL]))
        if Kind.FEEDBACK_DAY in keys:
            feedback_day_figures(workspace, {date.fromisoformat(k) for k in keys[Kind.FEEDBACK_DAY]})
        for chunk in _chunks([mark_id for mark_id, _k, _key in marks]):
            RecordsDirty.objects.filter(id__in=chunk).delete()
    return len(marks)


def figures_rebuild(*, workspace: Workspace) -> None:
    """Every aggregate of the workspace from scratch (``refresh_records --full``, the benchmark)."""
    with transaction.atomic():
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        RecordsDirty.objects.filter(workspace=workspace).delete()
        account_figures(workspace, None)
        close_day_figures(workspace, None)
        product_day_figures(workspace, None)
        close_month_figures(workspace, None)
        created_month_figures(workspace, None)
        activity_day_figures(workspace, None)
        open_stage_figures(workspace, None)
        deal_last_activity(workspace, None)
        feedback_day_figures(workspace, None)


def local_dates_recompute(*, workspace: Workspace) -> None:
    """The stored local dates (``created_on``, ``occurred_on``, ``responded_on``, ``received_on``) in the
    workspace's current time zone."""
    tz = workspace.tzinfo
    models: tuple[tuple[Any, str, str], ...] = ((Account, "created_at", "created_on"), (Deal, "created_at", "created_on"),
                               (Activity, "occurred_at", "occurred_on"), (SurveyResponse, "responded_at", "responded_on"),
                               (Feedback, "received_at", "received_on"))  # fmt: skip
    for model, moment, day in models:
        changed: list[Any] = []
        for obj in model.objects.filter(workspace=workspace).only("id", moment, day).iterator(chunk_size=2000):
            local = getattr(obj, moment).astimezone(tz).date()
            if getattr(obj, day) != local:
                setattr(obj, day, local)
                changed.append(obj)
            if len(changed) >= 2000:
                _save_local_dates(model, changed, day)
                changed = []
        _save_local_dates(model, changed, day)
    records_changed(workspace.pk)


def _save_local_dates(model: Any, changed: list[Any], day: str) -> None:
    model.objects.bulk_update(changed, [day])
    if model is Feedback and changed:  # the terms carry their feedback's day
        own_day = Subquery(Feedback.objects.filter(pk=OuterRef("feedback_id")).values("received_on")[:1])
        FeedbackTerm.objects.filter(feedback_id__in=[obj.pk for obj in changed]).update(received_on=own_day)


def figures_pending(*, workspace: Workspace) -> bool:
    """Whether a batch is not yet reflected in the aggregates (the tabs say so)."""
    return RecordsDirty.objects.filter(workspace=workspace).exists()
