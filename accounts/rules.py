"""The suggested segments of the Accounts tab (docs/accounts.md#suggested-segments): two stated rules,
each a condition on the account table that the list filter ``suggested`` applies, so a suggestion's
count, its accounts in the list, its CSV and a segment saved from it are the same accounts.

- **Expansion**: active accounts whose revenue (all won deals) is in the top quartile — at least the
  ⌈n/4⌉-th highest revenue among the n active accounts, and more than 0 — and who bought at most one
  distinct product (on won lines).
- **At risk**: active accounts with an open deal that is idle (no completed activity on the deal in the
  14 days to today) and whose owner's CRM usage is falling (attendance days in the 30 days to today
  fewer than in the 30 days before).
- **Churn risk** (what its customers say, docs/perception.md#on-the-account): active accounts with at least
  one of four signs: the latest NPS response is a detractor's (0–6); the share of negative feedback rose
  (among the 3 latest labelled texts against the 3 before); an active contract ends within the next 60
  days and none runs longer; the owner's CRM usage is falling (as above).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from events.periods import Period
from events.selectors import active_days_by_user
from records.models import Account, Activity, Deal
from records.selectors import visible_accounts, visible_deals
from tenancy.models import Workspace

IDLE_DAYS = 14
USAGE_DAYS = 30
MAX_PRODUCTS = 1


@dataclass(frozen=True)
class Rule:
    key: str
    name: Promise
    rule: Promise


EXPANSION = Rule(
    "expansion",
    _("Expansion"),
    _(
        "Active accounts whose revenue (all won deals) is in the top quartile — at least the ⌈n/4⌉-th highest "
        "of the n active accounts, and above 0 — and who bought at most one distinct product."
    ),
)
AT_RISK = Rule(
    "at_risk",
    _("At risk"),
    _(
        "Active accounts with an open deal without any completed activity on it in the last 14 days, whose "
        "owner's CRM usage is falling: fewer attendance days in the last 30 days than in the 30 days before."
    ),
)
CHURN_RISK = Rule(
    "churn_risk",
    _("Churn risk"),
    _(
        "Active accounts with at least one sign: the latest NPS response is a detractor's (0–6); more of the "
        "latest feedback is negative (the 3 latest labelled texts against the 3 before); an active contract "
        "ends within 60 days and none runs longer; the owner's CRM usage is falling."
    ),
)
RULES = (EXPANSION, AT_RISK, CHURN_RISK)
CONTRACT_ENDING_DAYS = 60
DETRACTOR_MAX = 6
RULE_KEYS = tuple(rule.key for rule in RULES)


def rule_of(key: str) -> Rule:
    return next(rule for rule in RULES if rule.key == key)


def revenue_threshold(workspace: Workspace) -> int | None:
    """The top quartile's lower bound: the ⌈n/4⌉-th highest revenue (cents) of the n active accounts;
    None without active accounts."""
    active = visible_accounts(workspace).filter(status=Account.Status.ACTIVE)
    n = active.count()
    if not n:
        return None
    k = math.ceil(n / 4)
    revenues = active.annotate(rule_revenue=Coalesce("figures__revenue_cents", 0)).order_by("-rule_revenue")
    return int(revenues.values_list("rule_revenue", flat=True)[k - 1])


def expansion_condition(workspace: Workspace) -> Q:
    """A condition on accounts: the Expansion rule."""
    threshold = revenue_threshold(workspace)
    if threshold is None:
        return Q(pk__in=[])
    return Q(
        status=Account.Status.ACTIVE,
        figures__revenue_cents__gte=max(threshold, 1),
        figures__products__lte=MAX_PRODUCTS,
    )


def falling_owner_ids(workspace: Workspace, today: date) -> set[int]:
    """Owners of active accounts with fewer attendance days in the 30 days to ``today`` than in the
    30 days before (from the usage rollups)."""
    owners = set(
        visible_accounts(workspace)
        .filter(status=Account.Status.ACTIVE, owner__isnull=False)
        .values_list("owner_id", flat=True)
        .distinct()
    )
    if not owners:
        return set()
    tz = workspace.tzinfo
    last = Period.ending(today, USAGE_DAYS, tz)
    before = Period.ending(today - timedelta(days=USAGE_DAYS), USAGE_DAYS, tz)
    now, earlier = active_days_by_user(workspace=workspace, periods=[last, before], narrow=Q(crm_user_id__in=owners))
    return {owner for owner in owners if now.get(owner, 0) < earlier.get(owner, 0)}


def idle_deals(workspace: Workspace, today: date) -> Q:
    """A condition on deals: open, with no completed activity on the deal in the 14 days to ``today``."""
    recent = Activity.objects.filter(
        workspace=workspace,
        deleted=False,
        completed=True,
        deal__isnull=False,
        occurred_on__gte=today - timedelta(days=IDLE_DAYS - 1),
        occurred_on__lte=today,
    ).values("deal_id")
    return Q(state=Deal.State.OPEN) & ~Q(id__in=recent)


def at_risk_condition(workspace: Workspace, today: date) -> Q:
    """A condition on accounts: the At risk rule, as of ``today``."""
    falling = falling_owner_ids(workspace, today)
    if not falling:
        return Q(pk__in=[])
    idle = visible_deals(workspace).filter(idle_deals(workspace, today), account=OuterRef("pk"))
    return Q(status=Account.Status.ACTIVE, owner_id__in=sorted(falling)) & Q(Exists(idle))


def churn_signs(today: date, falling: set[int]) -> dict[str, Q]:
    """Each sign of the Churn risk rule as a condition on accounts (their figures), by name."""
    return {
        "detractor": Q(figures__last_nps_score__lte=DETRACTOR_MAX),
        "negative_trend": Q(figures__negative_trend=True),
        "contract_ending": Q(
            figures__contract_end__gte=today, figures__contract_end__lte=today + timedelta(days=CONTRACT_ENDING_DAYS)
        ),
        "usage_falling": Q(owner_id__in=sorted(falling)),
    }


def churn_risk_condition(workspace: Workspace, today: date) -> Q:
    """A condition on accounts: the Churn risk rule, as of ``today``."""
    any_sign = Q(pk__in=[])
    for sign in churn_signs(today, falling_owner_ids(workspace, today)).values():
        any_sign |= sign
    return Q(status=Account.Status.ACTIVE) & any_sign


def churn_reasons(account: Account, today: date, falling: set[int]) -> list[str]:
    """The signs of churn risk an account shows (``account.figures`` read), by name, in the rule's order."""
    figures = getattr(account, "figures", None)
    if account.status != Account.Status.ACTIVE or figures is None and account.owner_id not in falling:
        return []
    reasons = []
    if figures is not None and figures.last_nps_score is not None and figures.last_nps_score <= DETRACTOR_MAX:
        reasons.append("detractor")
    if figures is not None and figures.negative_trend:
        reasons.append("negative_trend")
    ending = figures.contract_end if figures is not None else None
    if ending is not None and today <= ending <= today + timedelta(days=CONTRACT_ENDING_DAYS):
        reasons.append("contract_ending")
    if account.owner_id in falling:
        reasons.append("usage_falling")
    return reasons


def rule_condition(workspace: Workspace, key: str) -> Q:
    if key == EXPANSION.key:
        return expansion_condition(workspace)
    if key == CHURN_RISK.key:
        return churn_risk_condition(workspace, workspace.today())
    return at_risk_condition(workspace, workspace.today())
