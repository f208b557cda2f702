"""The customer-perception metrics' queries (API.md "Customer perception", docs/perception.md#metrics): a
period asked for as ``start`` + ``end`` (the 30 days ending today by default, as every tab) and the account
filters ``industry``, ``owner``, ``account`` and ``segment`` (a saved segment of the Accounts tab the
viewer may see: its accounts now), resolved once here (an unknown owner, account or segment is a 400
naming the field). Each endpoint adds its own parameters: ``by`` (breakdown), ``status`` and the page
(the accounts list).

The user filters (language, country…) are checked as on every endpoint but do not narrow these figures:
they describe CRM users, and a perception figure is about accounts (as in the Sales tab). On
``perception/accounts``, ``status`` is the account's status in the period, not the user filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.queries import ChoiceParam, PeriodParams, PeriodQuery, TextParam, WholeNumberParam
from events.models import CrmUser
from records.models import Account
from records.segments import SegmentRef, segment_param, segments_for
from records.selectors import visible_accounts
from tenancy.scoping import in_workspace

BREAKDOWNS = ["industry", "owner", "segment"]
ACCOUNT_STATUSES = ["at_start", "churned", "retained"]
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class PerceptionParams(PeriodParams):
    """The period and the account filters; every filter given must hold."""

    default_days = 30
    period_style = "range"

    industry = TextParam(max_length=100, help_text="Only accounts of this industry (exact).")
    owner = TextParam(max_length=128, help_text="Only accounts owned by this CRM user (external id).")
    account = TextParam(max_length=128, help_text="Only this account (external id).")
    segment = WholeNumberParam(min_value=1, help_text="Only the accounts of this saved segment (its id).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["segment"] = segment_param(self.workspace, self.context.get("viewer"), attrs.get("segment"))
        owner_id = attrs.get("owner") or ""
        attrs["owner"] = None
        if owner_id:
            attrs["owner"] = in_workspace(CrmUser, self.workspace).filter(external_id=owner_id).first()
            if attrs["owner"] is None:
                message = _("No CRM user has the external ID %(ids)s.") % {"ids": repr(owner_id)}
                raise serializers.ValidationError({"owner": [message]})
        account_id = attrs.get("account") or ""
        attrs["account"] = None
        if account_id:  # a deleted account counts nowhere: as if it did not exist
            attrs["account"] = visible_accounts(self.workspace).filter(external_id=account_id).first()
            if attrs["account"] is None:
                message = _("No account has the external ID %(id)s in this workspace.") % {"id": repr(account_id)}
                raise serializers.ValidationError({"account": [message]})
        attrs["industry"] = attrs.get("industry") or ""
        return attrs


@dataclass(frozen=True, kw_only=True)
class PerceptionQuery(PeriodQuery):
    """The metrics over a period, for the accounts the filters leave (all of them without a filter)."""

    Params: ClassVar[type[serializers.Serializer]] = PerceptionParams

    industry: str = ""  # "": any
    owner: CrmUser | None = None
    account: Account | None = None
    segment: SegmentRef | None = None
    # Not a parameter: the breakdown's group when it is by segment (within ``segment``, when one is given).
    group_segment: SegmentRef | None = None

    @property
    def narrowed(self) -> bool:
        """True when a filter leaves out some accounts: then only retention spend on an account counts."""
        return bool(self.industry or self.owner or self.account or self.segment or self.group_segment)

    def account_filter(self, prefix: str = "account__") -> Q:
        """The filters as a condition on the accounts (``prefix``: the path from the rows read to their account)."""
        condition = Q()
        if self.industry:
            condition &= Q(**{f"{prefix}industry": self.industry})
        if self.owner is not None:
            condition &= Q(**{f"{prefix}owner": self.owner})
        if self.account is not None:
            condition &= Q(**{(f"{prefix}pk" if prefix else "pk"): self.account.pk})
        for segment in (self.segment, self.group_segment):
            if segment is not None:
                condition &= Q(**{(f"{prefix}pk__in" if prefix else "pk__in"): segment.account_ids})
        return condition

    def encode(self) -> dict[str, Any]:
        return {
            **super().encode(),
            "industry": self.industry,
            "owner": self.owner,
            "account": self.account,
            "segment": self.segment.pk if self.segment else None,
        }


@dataclass(frozen=True, kw_only=True)
class SummaryQuery(PerceptionQuery):
    """Every metric over the period beside the previous period of as many days."""


@dataclass(frozen=True, kw_only=True)
class TrendQuery(PerceptionQuery):
    """Every metric per month of the period (each month cut to the period)."""


class BreakdownParams(PerceptionParams):
    by = ChoiceParam(
        BREAKDOWNS,
        default="industry",
        help_text="Group the accounts by industry (default), owner, or saved segment (those you can see, by name).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["segments"] = ()
        if attrs.get("by") == "segment":  # an account may be in several: each segment is a group of its own
            # A segment whose filters no longer hold (its owner filter names a removed user) is left out.
            found = segments_for(self.workspace, self.context.get("viewer"))
            attrs["segments"] = tuple(ref for ref in found if not ref.problem)
        return attrs


@dataclass(frozen=True, kw_only=True)
class BreakdownQuery(PerceptionQuery):
    """Every metric over the period per industry, owner or segment of the accounts."""

    Params: ClassVar[type[serializers.Serializer]] = BreakdownParams

    by: str = "industry"
    segments: tuple[SegmentRef, ...] = ()  # by segment: the groups

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "by": self.by}


class PerceptionAccountsParams(PerceptionParams):
    # Replaces the user filter of the same name: here the account's standing in the period.
    status = ChoiceParam(  # type: ignore[assignment]
        ACCOUNT_STATUSES,
        default="at_start",
        help_text="at_start (default): a contract in force on the first day; churned; retained.",
    )
    page = WholeNumberParam(min_value=1, default=1)
    page_size = WholeNumberParam(min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        status = attrs.pop("status", "at_start")
        attrs = super().validate(attrs)
        attrs["status"] = status
        return attrs


@dataclass(frozen=True, kw_only=True)
class PerceptionAccountsQuery(PerceptionQuery):
    """The accounts at start, churned or retained in the period, by name."""

    Params: ClassVar[type[serializers.Serializer]] = PerceptionAccountsParams

    status: str = "at_start"
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def encode(self) -> dict[str, Any]:
        return {
            **super().encode(),
            "status": self.status,
            "page": self.page if self.page > 1 else None,
            "page_size": self.page_size if self.page_size != DEFAULT_PAGE_SIZE else None,
        }
