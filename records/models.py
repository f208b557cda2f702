"""The CRM's own business records (docs/records.md): accounts, products, deals with their line items
and stage history, activities and targets, per workspace, upserted by external id.

Amounts are whole cents (``*_cents``) in the workspace's base currency, so sums are exact on every
backend (SQLite has no decimal arithmetic). Local dates (``created_on``, ``occurred_on``) are stored
beside the moments they come from: every tab groups by the workspace's calendar, and grouping by a
stored date needs no time-zone arithmetic in SQL.

Records are snapshots: the last upsert decides. ``deleted`` hides a record everywhere.

The ``*Figures`` models below are the aggregates the tabs read (``records.aggregates``): kept current
after each batch by a Celery task, never edited by hand.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from events.models import CrmUser
from tenancy.models import Workspace


class Account(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DORMANT = "dormant", _("Dormant")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=128)
    name = models.CharField(max_length=300)
    # The name reduced for spotting duplicates (records.names.duplicate_key); kept on save.
    name_key = models.CharField(max_length=300, db_index=False, editable=False, default="")
    industry = models.CharField(max_length=100, blank=True, default="")
    country = models.CharField(max_length=64, blank=True, default="")
    owner = models.ForeignKey(CrmUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    created_on = models.DateField(editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    deleted = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "external_id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "external_id"], name="account_unique_external_id")]
        indexes = [
            models.Index(fields=["workspace", "created_on"], name="account_created"),
            models.Index(fields=["workspace", "name_key"], name="account_name_key"),
            models.Index(fields=["workspace", "owner"], name="account_owner"),
            # The deleted accounts, whose feedback the voice leaves out: a few ids, not a scan of all.
            models.Index(fields=["workspace"], name="account_deleted", condition=models.Q(deleted=True)),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        same_workspace(self, "owner")


class Product(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=128)
    name = models.CharField(max_length=300)
    category = models.CharField(max_length=100, blank=True, default="")
    deleted = models.BooleanField(default=False)

    class Meta:
        ordering = ["name", "external_id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "external_id"], name="product_unique_external_id")]

    def __str__(self) -> str:
        return self.name


class Deal(models.Model):
    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("deal state", "Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    class ForecastCategory(models.TextChoices):
        # In DESIGN.md section 6's order, which the forecast keeps.
        PIPELINE = "pipeline", _("Pipeline")
        BEST_CASE = "best_case", _("Best case")
        COMMIT = "commit", _("Commit")
        OMITTED = "omitted", _("Omitted")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=128)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="deals")
    name = models.CharField(max_length=300)
    owner = models.ForeignKey(CrmUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    amount_cents = models.BigIntegerField(null=True, blank=True, help_text=_("Empty: the amount is missing."))
    stage = models.CharField(max_length=100)
    probability = models.PositiveSmallIntegerField(default=0)
    forecast_category = models.CharField(
        max_length=16, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )
    created_at = models.DateTimeField()
    created_on = models.DateField(editable=False)
    close_date = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=8, choices=State.choices)
    # When the deal entered its current stage: the latest stage-history entry, else created_at.
    stage_entered_at = models.DateTimeField(editable=False)
    # The local date of the deal's latest completed activity (kept by records.aggregates): idle deals.
    last_activity_on = models.DateField(null=True, blank=True, editable=False)
    deleted = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "external_id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "external_id"], name="deal_unique_external_id")]
        indexes = [
            # Covering (PostgreSQL): the lists by close date (closing this month, past due, revenue
            # beyond as_of) read the index alone, not a heap page per deal.
            models.Index(
                fields=["workspace", "state", "close_date"],
                include=["account", "amount_cents", "deleted"],
                name="deal_state_close_cover",
            ),
            models.Index(fields=["workspace", "created_on"], name="deal_created"),
            models.Index(fields=["workspace", "close_date"], name="deal_close"),
            models.Index(fields=["workspace", "amount_cents"], name="deal_amount"),
            models.Index(fields=["account", "state"], name="deal_account_state"),
            models.Index(fields=["workspace", "state", "stage_entered_at"], name="deal_state_stage_since"),
            models.Index(fields=["workspace", "state", "last_activity_on"], name="deal_state_last_activity"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        same_workspace(self, "account", "owner")


class DealLineItem(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="line_items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    amount_cents = models.BigIntegerField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["deal", "position"]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.quantity} × {self.product_id}"

    def clean(self) -> None:
        """The deal's workspace's products only (the admin's inline takes any product's id)."""
        deal = Deal.objects.filter(pk=self.deal_id).only("workspace_id").first()
        if deal is None or self.product_id is None:
            return
        if not Product.objects.filter(pk=self.product_id, workspace_id=deal.workspace_id).exists():
            raise ValidationError({"product": OTHER_WORKSPACE})


class DealStageChange(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_history")
    stage = models.CharField(max_length=100)
    entered_at = models.DateTimeField()

    class Meta:
        ordering = ["deal", "entered_at", "id"]

    def __str__(self) -> str:
        return f"{self.stage} from {self.entered_at:%Y-%m-%d}"


class Activity(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        EMAIL = "email", pgettext_lazy("activity kind", "Email")
        MEETING = "meeting", _("Meeting")
        MESSAGE = "message", _("Message")
        TASK = "task", _("Task")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=128)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    owner = models.ForeignKey(CrmUser, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    occurred_at = models.DateTimeField()
    occurred_on = models.DateField(editable=False)
    completed = models.BooleanField(default=True)
    deleted = models.BooleanField(default=False)

    class Meta:
        ordering = ["-occurred_at", "external_id"]
        verbose_name_plural = _("activities")
        constraints = [models.UniqueConstraint(fields=["workspace", "external_id"], name="activity_unique_external_id")]
        indexes = [
            models.Index(fields=["workspace", "occurred_on"], name="activity_occurred"),
            models.Index(fields=["deal", "occurred_on"], name="activity_deal"),
            models.Index(fields=["account", "occurred_on"], name="activity_account"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"

    def clean(self) -> None:
        same_workspace(self, "owner", "account", "deal")


class Target(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=128)
    owner = models.ForeignKey(
        CrmUser, null=True, blank=True, on_delete=models.CASCADE, related_name="+", help_text=_("Empty: the team.")
    )
    month = models.DateField(help_text=_("The month's first day."))
    pipeline_target_cents = models.BigIntegerField(null=True, blank=True)
    revenue_quota_cents = models.BigIntegerField(null=True, blank=True)
    deleted = models.BooleanField(default=False)

    class Meta:
        ordering = ["month", "external_id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "external_id"], name="target_unique_external_id")]
        indexes = [models.Index(fields=["workspace", "month"], name="target_month")]

    # --- aggregates (records.aggregates keeps them) ------------------------------------------------------

    def __str__(self) -> str:
        return f"{self.external_id} {self.month:%Y-%m}"

    def clean(self) -> None:
        same_workspace(self, "owner")


# --- customer perception (DESIGN.md section 7; docs/perception.md) ----------------------------------------


def same_workspace(record: models.Model, *names: str) -> None:
    """The records ``record`` refers to by ``names`` (accounts, CRM users, deals, products) must be of its
    own workspace: the admin's raw id fields take any row's id. The batch API resolves references within
    the workspace itself (records.services)."""
    workspace_id = getattr(record, "workspace_id", None)
    for name in names:
        related_id = getattr(record, f"{name}_id", None)
        if related_id is None or workspace_id is None:
            continue
        related: Any = record._meta.get_field(name).related_model
        if not related._default_manager.filter(pk=related_id, workspace_id=workspace_id).exists():
            message = _("Choose an account of the same workspace.") if name == "account" else OTHER_WORKSPACE
            raise ValidationError({name: message})


OTHER_WORKSPACE = _("Choose one of the same workspace.")


class SurveyResponse(models.Model):
    class Kind(models.TextChoices):
        NPS = "nps", _("NPS")
        CES = "ces", _("CES")
        CSAT = "csat", _("CSAT")

    # Each kind's scale, inclusive.
    SCALES = {"nps": (0, 10), "ces": (1, 7), "csat": (1, 5)}

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=128)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="survey_responses")
    contact = models.CharField(max_length=128, blank=True, default="", help_text=_("A contact's external id."))
    kind = models.CharField(max_length=4, choices=Kind.choices)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, default="")
    responded_at = models.DateTimeField()
    responded_on = models.DateField(editable=False)
    deleted = models.BooleanField(default=False)

    class Meta:
        ordering = ["-responded_at", "external_id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "external_id"], name="survey_unique_external_id")]
        indexes = [
            models.Index(fields=["workspace", "kind", "responded_on"], name="survey_kind_day"),
            models.Index(fields=["account", "responded_on"], name="survey_account"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.score} ({self.external_id})"

    def clean(self) -> None:
        """The admin's checks (the batch API has its own, records.validation): the score on its kind's scale,
        and an account of the same workspace."""
        same_workspace(self, "account")
        low, high = self.SCALES.get(self.kind, (0, 10))
        if self.score is not None and not low <= self.score <= high:
            raise ValidationError({"score": _("A %(kind)s score must be between %(low)s and %(high)s.")
                                   % {"kind": self.kind, "low": low, "high": high}})  # fmt: skip


class Contract(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RENEWED = "renewed", _("Renewed")
        CHURNED = "churned", _("Churned")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=128)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contracts")
    start = models.DateField()
    end = models.DateField()
    monthly_value_cents = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices)
    deleted = models.BooleanField(default=False)

    class Meta:
        ordering = ["-end", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="contract_unique_external_id"),
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="contract_end_after_start"),
        ]
        indexes = [
            models.Index(fields=["workspace", "end"], name="contract_end"),
            models.Index(fields=["account", "end"], name="contract_account"),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.start}–{self.end}"

    def clean(self) -> None:
        same_workspace(self, "account")


class RetentionSpend(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=128)
    period = models.DateField(help_text=_("The month's first day."))
    amount_cents = models.BigIntegerField()
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="+", help_text=_("Empty: all accounts.")
    )
    deleted = models.BooleanField(default=False)

    class Meta:
        ordering = ["period", "external_id"]
        verbose_name_plural = _("retention spend")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="retentionspend_unique_external_id")
        ]
        indexes = [models.Index(fields=["workspace", "period"], name="retentionspend_period")]

    def __str__(self) -> str:
        return f"{self.external_id} {self.period:%Y-%m}"

    def clean(self) -> None:
        same_workspace(self, "account")


class Feedback(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", pgettext_lazy("feedback channel", "Email")
        SURVEY = "survey", _("Survey")
        CASE = "case", _("Case")
        CALL = "call", pgettext_lazy("feedback channel", "Call")
        CHAT = "chat", _("Chat")
        NOTE = "note", _("Note")

    class Sentiment(models.TextChoices):
        POSITIVE = "positive", _("Positive")
        NEUTRAL = "neutral", _("Neutral")
        NEGATIVE = "negative", _("Negative")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=128)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback")
    contact = models.CharField(max_length=128, blank=True, default="", help_text=_("A contact's external id."))
    channel = models.CharField(max_length=8, choices=Channel.choices)
    text = models.TextField()
    received_at = models.DateTimeField()
    received_on = models.DateField(editable=False)
    deleted = models.BooleanField(default=False)
    # The labels (records.text_analysis), set by a worker after the text arrives or the workspace's
    # vocabulary changes; ``labelled_at`` null: waiting for one.
    language = models.CharField(max_length=2, blank=True, default="", editable=False)
    sentiment = models.CharField(max_length=8, blank=True, default="", choices=Sentiment.choices, editable=False)
    intents = models.JSONField(default=list, blank=True, editable=False)
    competitors = models.JSONField(default=list, blank=True, editable=False)
    keywords = models.JSONField(default=list, blank=True, editable=False)
    labelled_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-received_at", "external_id"]
        verbose_name_plural = _("feedback")
        constraints = [models.UniqueConstraint(fields=["workspace", "external_id"], name="feedback_unique_external_id")]
        indexes = [
            # Covering (PostgreSQL): the voice's distinct contacts or accounts read a period from the index.
            models.Index(
                fields=["workspace", "received_on"],
                include=["sentiment", "channel", "contact", "account", "deleted"],
                name="feedback_day_cover",
            ),
            # The feedback list, newest first: its first page reads the newest entries of this index.
            models.Index(fields=["workspace", "-received_at", "-id"], name="feedback_newest"),
            models.Index(fields=["account", "received_on"], name="feedback_account"),
            models.Index(
                fields=["workspace", "id"], name="feedback_unlabelled", condition=models.Q(labelled_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.external_id}"

    def clean(self) -> None:
        same_workspace(self, "account")


class FeedbackTerm(models.Model):
    """One label of a feedback text as a row (an intent, a competitor or a keyword), so the voice of the
    customer filters and counts by term in SQL on every backend; rewritten with the labels.

    The feedback's fields the voice filters and counts by are copied here (``records.labelling`` keeps
    them in step when the feedback changes), so counting a period's terms reads this table alone: at a
    million texts, joining eight million terms to their feedback took two seconds."""

    class Kind(models.TextChoices):
        INTENT = "intent", _("Intent")
        COMPETITOR = "competitor", _("Competitor")
        KEYWORD = "keyword", _("Keyword")

    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="terms")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    term = models.CharField(max_length=100)
    # Copied from the feedback (and its labels):
    received_on = models.DateField(null=True)
    channel = models.CharField(max_length=8, blank=True, default="")
    sentiment = models.CharField(max_length=8, blank=True, default="")
    contact = models.CharField(max_length=128, blank=True, default="")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    deleted = models.BooleanField(default=False)

    class Meta:
        indexes = [
            # A term's feedback in a period (the feedback list by intent or competitor): at a million
            # texts, (workspace, kind, term) alone read a year of "complaint" to keep a month.
            models.Index(fields=["workspace", "kind", "term", "received_on"], name="feedbackterm_term_day"),
            models.Index(fields=["feedback"], name="feedbackterm_feedback"),
            # A period's terms of a kind; on PostgreSQL the counts (items, distinct contacts or accounts)
            # read the index alone.
            models.Index(
                fields=["workspace", "kind", "received_on"],
                include=["term", "channel", "sentiment", "deleted", "contact", "account"],
                name="feedbackterm_day_cover",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.term}"


class PerceptionSettings(models.Model):
    """A workspace's vocabulary for labelling feedback: intents by keyword, competitors by name and alias.
    Changing it relabels the workspace's feedback."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, primary_key=True, related_name="+")
    intents = models.JSONField(default=dict, blank=True, help_text=_("Intent name → keywords."))
    competitors = models.JSONField(default=list, blank=True, help_text=_("[{name, aliases}]"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = _("perception settings")

    def __str__(self) -> str:
        return f"perception settings of workspace {self.workspace_id}"


class AccountFigures(models.Model):
    """Per account, over all time: what the account list sorts and filters on."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, primary_key=True, related_name="figures")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    revenue_cents = models.BigIntegerField(default=0)  # won deals, any close date
    won_deals = models.PositiveIntegerField(default=0)
    lost_deals = models.PositiveIntegerField(default=0)
    open_deals = models.PositiveIntegerField(default=0)
    open_pipeline_cents = models.BigIntegerField(default=0)
    products = models.PositiveIntegerField(default=0)  # distinct products on won lines
    last_activity = models.DateField(null=True)  # latest completed activity's local date
    # The account's own, copied: the overview's totals (accounts, revenue, bands as of a day) then read
    # this table alone instead of joining 100,000 accounts to it.
    account_active = models.BooleanField(default=False)  # active and not deleted
    created_on = models.DateField(null=True)
    # What its customers say (docs/perception.md#on-the-account), over all its records not deleted:
    nps = models.FloatField(null=True)  # over every NPS response; 1 decimal; None: no response
    nps_responses = models.PositiveIntegerField(default=0)
    last_nps_score = models.PositiveSmallIntegerField(null=True)  # the latest NPS response's
    last_sentiment = models.CharField(max_length=8, blank=True, default="")  # the latest labelled feedback's
    # A larger share of negative texts among its 3 latest labelled ones than among the 3 before those.
    negative_trend = models.BooleanField(default=False)
    contract_end = models.DateField(null=True)  # the latest end of its active contracts

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "revenue_cents"], name="accountfig_revenue"),
            models.Index(fields=["workspace", "last_activity"], name="accountfig_activity"),
            models.Index(fields=["workspace", "nps"], name="accountfig_nps"),
        ]

    def __str__(self) -> str:
        return f"figures of account {self.account_id}"


class DealDayFigures(models.Model):
    """Deals per close date, owner and state: revenue, wins and losses over any period."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    owner = models.ForeignKey(CrmUser, null=True, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=8)
    deals = models.PositiveIntegerField()
    amount_cents = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["workspace", "day"], name="dealday_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.state}"


class ProductDayFigures(models.Model):
    """Won line items per close date of their deal, product and whether the deal's account is active:
    the overview's top and rising products without reading the deals (a month of a million deals is
    20,000 won deals and 40,000 lines)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    account_active = models.BooleanField()
    lines = models.PositiveIntegerField()
    amount_cents = models.BigIntegerField()
    quantity = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["workspace", "day"], name="productday_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.product_id}"


class DealMonthFigures(models.Model):
    """Deals per close month, owner, state, forecast category and whether the account is active (the
    overview counts active accounts only). ``weighted`` is Σ cents × probability (divide by 100)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    owner = models.ForeignKey(CrmUser, null=True, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=8)
    forecast_category = models.CharField(max_length=16)
    account_active = models.BooleanField()
    deals = models.PositiveIntegerField()
    amount_cents = models.BigIntegerField()
    weighted = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "month"], name="dealmonth_month"),  # the refresh's deletes
            # Covering (PostgreSQL): a year of revenue reads the index alone.
            models.Index(
                fields=["workspace", "state", "month"],
                include=["account_active", "amount_cents"],
                name="dealmonth_state_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.state}"


class OpenStageFigures(models.Model):
    """Open deals per stage and close date (empty: none): the pipeline by stage, over any close range.
    ``weighted`` is Σ cents × probability (divide by 100)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=100)
    close_date = models.DateField(null=True)
    deals = models.PositiveIntegerField()
    amount_cents = models.BigIntegerField()
    weighted = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["workspace", "close_date"], name="openstage_close")]

    def __str__(self) -> str:
        return f"{self.stage} {self.close_date}"


class CreatedMonthFigures(models.Model):
    """Deals of any state per month of creation and owner: pipeline generated."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    owner = models.ForeignKey(CrmUser, null=True, on_delete=models.CASCADE, related_name="+")
    deals = models.PositiveIntegerField()
    amount_cents = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["workspace", "month"], name="createdmonth_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class RepDayActivity(models.Model):
    """Completed activities per owner and local day: all of them, and each kind's. One row per rep and
    day rather than per kind: a month of 2,000 reps is 60,000 rows to sum, not 300,000."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    owner = models.ForeignKey(CrmUser, on_delete=models.CASCADE, related_name="+")
    activities = models.PositiveIntegerField()
    calls = models.PositiveIntegerField(default=0)
    emails = models.PositiveIntegerField(default=0)
    meetings = models.PositiveIntegerField(default=0)
    messages = models.PositiveIntegerField(default=0)
    tasks = models.PositiveIntegerField(default=0)

    # The column of each activity kind.
    KIND_COLUMNS = {"call": "calls", "email": "emails", "meeting": "meetings", "message": "messages", "task": "tasks"}

    class Meta:
        indexes = [models.Index(fields=["workspace", "day"], name="repday_day")]

    def __str__(self) -> str:
        return f"{self.day}: {self.activities}"


class FeedbackDayFigures(models.Model):
    """Labelled feedback per received day, channel and sentiment: what the voice counts by responses
    (deleted feedback and deleted accounts' left out, as ``perception.selectors.voice`` does)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    channel = models.CharField(max_length=8)
    sentiment = models.CharField(max_length=8)
    items = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["workspace", "day"], name="feedbackday_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} {self.sentiment}: {self.items}"


class FeedbackTermDayFigures(models.Model):
    """The terms of the feedback ``FeedbackDayFigures`` counts, per received day, channel, sentiment, kind
    and term: the items listing each intent, competitor and keyword."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    channel = models.CharField(max_length=8)
    sentiment = models.CharField(max_length=8)
    kind = models.CharField(max_length=10)
    term = models.CharField(max_length=100)
    items = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "day"], name="feedbacktermday_day"),  # the refresh's deletes
            # Covering (PostgreSQL): a period's terms of a kind read the index alone.
            models.Index(
                fields=["workspace", "kind", "day"],
                include=["term", "channel", "sentiment", "items"],
                name="feedbacktermday_kind_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.term}: {self.items}"


class FeedbackTermMonthFigures(models.Model):
    """``FeedbackTermDayFigures`` summed per month (refreshed with its days): a month of a million texts
    is a few thousand rows here against some 140,000 per day, so a period reads its whole months here
    and only its other days there."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    channel = models.CharField(max_length=8)
    sentiment = models.CharField(max_length=8)
    kind = models.CharField(max_length=10)
    term = models.CharField(max_length=100)
    items = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace", "kind", "month"],
                include=["term", "channel", "sentiment", "items"],
                name="feedbacktermmonth_kind_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.kind} {self.term}: {self.items}"


class RecordsDirty(models.Model):
    """What a batch changed and the aggregates have not caught up with: an account (its figures), a
    close date, a close month, a creation month, an activity day, a feedback day. Written in the batch's transaction,
    cleared by the refresh task (``records.tasks``)."""

    class Kind(models.TextChoices):
        ACCOUNT = "account"
        CLOSE_DAY = "close_day"
        CLOSE_MONTH = "close_month"
        CREATED_MONTH = "created_month"
        ACTIVITY_DAY = "activity_day"
        OPEN_STAGE = "open_stage"  # a close date, or "-" for deals without one
        DEAL = "deal"  # a deal id: its last activity
        FEEDBACK_DAY = "feedback_day"  # a received day: its labelled feedback and terms

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=32)  # an account id or an ISO date

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "kind", "key"], name="recordsdirty_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class RecordsVersion(models.Model):
    """The version of one kind of a workspace's records (accounts, contracts, feedback…): a new value in
    every transaction that writes some (``records.versions.records_changed``). An answer cached under the
    versions of the kinds it reads is never served after a write to one of them, and stays served after
    a write to another kind (a deal leaves the perception figures cached)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32)
    version = models.UUIDField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "kind"], name="recordsversion_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.version}"


class StageThreshold(models.Model):
    """How many days an open deal may stay in a stage before it counts as stuck (DESIGN.md section 6);
    a stage without a row uses ``DEFAULT_STUCK_DAYS``. Set in the admin."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=100)
    days = models.PositiveIntegerField(help_text=_("Open deals longer than this many days in the stage are stuck."))

    class Meta:
        ordering = ["stage"]
        constraints = [models.UniqueConstraint(fields=["workspace", "stage"], name="stagethreshold_unique")]

    def __str__(self) -> str:
        return f"{self.stage}: {self.days} days"


DEFAULT_STUCK_DAYS = 30
