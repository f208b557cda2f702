"""The account list's filters and orderings (API.md "accounts/"), one django-filter FilterSet that the
API, the list page, a saved segment and the selectors share (docs/accounts.md#the-account-list).

``AccountFilterSet`` filters the account table of ``accounts.selectors.account_table`` (accounts not
deleted, with their figures as ``revenue_cents``, ``open_pipeline_cents``, ``open_deal_count`` and
``last_activity_on``). ``account_criteria`` validates a request's filter values through the same
FilterSet's form and returns them clean, or raises ``CriteriaInvalid`` naming each field at fault.

Lists: ``industry`` and ``owner`` are taken whole (repeat the parameter for several: an industry may hold
a comma); ``country`` and ``status`` may also be comma-separated.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import django_filters
from django import forms
from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.rules import RULES, rule_condition
from core.queries import DATE_MESSAGE
from events.filters import ExactListFilter, ListWidget, MultiValueFilter
from events.models import CrmUser
from events.periods import EARLIEST_DATE, LATEST_DATE
from records.models import Account
from records.validation import parse_cents
from tenancy.models import Workspace
from tenancy.scoping import in_workspace

MAX_SEARCH_LENGTH = 200
MAX_VALUES = 100
AMOUNT_MESSAGE = _("Enter an amount of 0 or more with at most 2 decimals, e.g. 1250.50.")

# Ordering keys (API.md: ``ordering``, ``-`` for descending) → the account table's expression.
ORDERING_FIELDS = {
    "name": "name",
    "external_id": "external_id",
    "industry": "industry",
    "country": "country",
    "owner": "owner__external_id",
    "status": "status",
    "revenue": "revenue_cents",
    "open_pipeline": "open_pipeline_cents",
    "open_deals": "open_deal_count",
    "last_activity": "last_activity_on",
    "created": "created_on",
    "nps": "nps_value",
    "sentiment": "last_sentiment_value",
}
ORDERINGS = [key for name in ORDERING_FIELDS for key in (name, f"-{name}")]
DEFAULT_ORDERING = "name"
LIST_FIELDS = (
    "search", "industry", "country", "owner", "status", "min_revenue", "max_revenue", "active_since", "suggested",
    "sentiment", "min_nps", "max_nps", "ordering",
)  # fmt: skip
SENTIMENTS = ("positive", "neutral", "negative")


class CriteriaInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class AmountField(forms.Field):
    """An amount in the base currency (number or string, ≥ 0, at most 2 decimals) as whole cents."""

    default_error_messages = {"invalid": AMOUNT_MESSAGE}

    def to_python(self, value: Any) -> int | None:
        if value in (None, "") or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parse_cents(value.strip() if isinstance(value, str) else value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class AmountFilter(django_filters.Filter):
    field_class = AmountField


class AccountFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(
        label=_("Search"), method="filter_search", max_length=MAX_SEARCH_LENGTH, strip=True
    )
    industry = ExactListFilter(label=_("Industry"), field_name="industry", widget=ListWidget)
    country = MultiValueFilter(label=_("Country"), field_name="country", widget=ListWidget)
    owner = ExactListFilter(label=_("Owner"), field_name="owner__external_id", widget=ListWidget)
    status = MultiValueFilter(label=_("Status"), field_name="status", widget=ListWidget)
    min_revenue = AmountFilter(label=_("Revenue at least"), field_name="revenue_cents", lookup_expr="gte")
    max_revenue = AmountFilter(label=_("Revenue at most"), field_name="revenue_cents", lookup_expr="lte")
    active_since = django_filters.DateFilter(
        label=_("Activity since"),
        field_name="last_activity_on",
        lookup_expr="gte",
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": DATE_MESSAGE},
    )
    sentiment = MultiValueFilter(label=_("Last sentiment"), field_name="last_sentiment_value", widget=ListWidget)
    min_nps = django_filters.NumberFilter(
        label=_("NPS at least"), field_name="nps_value", lookup_expr="gte", min_value=-100, max_value=100
    )
    max_nps = django_filters.NumberFilter(
        label=_("NPS at most"), field_name="nps_value", lookup_expr="lte", min_value=-100, max_value=100
    )
    suggested = django_filters.ChoiceFilter(
        label=_("Suggested segment"), choices=[(r.key, r.name) for r in RULES], method="filter_suggested"
    )
    ordering = django_filters.ChoiceFilter(
        label=_("Order by"), choices=[(key, key) for key in ORDERINGS], method="filter_ordering"
    )

    class Meta:
        model = Account
        fields: list[str] = []

    def __init__(self, data: Any = None, queryset: Any = None, *, workspace: Workspace) -> None:
        super().__init__(data=data, queryset=queryset)
        self.workspace = workspace

    def filter_search(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        return queryset.filter(name__icontains=value)

    def filter_suggested(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        return queryset.filter(rule_condition(self.workspace, value))

    def filter_ordering(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        return queryset.order_by(*ordering_expressions(value))


def ordering_expressions(ordering: str) -> list[Any]:
    """The table's order: the key (empty values last, either way), then external id."""
    descending = ordering.startswith("-")
    expression = F(ORDERING_FIELDS[ordering.lstrip("-")])
    first = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    return [first, "external_id", "pk"]


def account_criteria(workspace: Workspace, data: Any) -> dict[str, Any]:
    """The list's filter values in ``data`` (a QueryDict or a dict), validated by ``AccountFilterSet``'s
    form: ``{field: value}`` with lists, cents and dates; ``CriteriaInvalid`` naming each field at fault."""
    form = AccountFilterSet(data=data, queryset=Account.objects.none(), workspace=workspace).form
    valid = form.is_valid()
    errors: dict[str, list[str]] = {} if valid else {key: [str(m) for m in ms] for key, ms in form.errors.items()}
    cleaned: dict[str, Any] = dict(getattr(form, "cleaned_data", {}))
    for name in ("industry", "country", "owner", "status"):
        values = cleaned.get(name) or []
        if len(values) > MAX_VALUES:
            errors.setdefault(name, []).append(str(_("At most %(n)d values.") % {"n": MAX_VALUES}))
        elif any("\x00" in value or len(value) > 300 for value in values):
            errors.setdefault(name, []).append(str(_("Enter values without null characters, each of at most 300.")))
    wrong = [value for value in cleaned.get("sentiment") or [] if value not in SENTIMENTS]
    if wrong:
        errors["sentiment"] = [
            str(_("Unknown sentiment: %(bad)s. Use one of: %(choices)s."))
            % {"bad": ", ".join(wrong[:10]), "choices": ", ".join(SENTIMENTS)}
        ]
    low_nps, high_nps = cleaned.get("min_nps"), cleaned.get("max_nps")
    if low_nps is not None and high_nps is not None and low_nps > high_nps and "max_nps" not in errors:
        errors["max_nps"] = [str(_("Must not be less than min_nps."))]
    bad = [value for value in cleaned.get("status") or [] if value not in Account.Status.values]
    if bad and "status" not in errors:
        errors["status"] = [
            str(_("Unknown status: %(bad)s. Use one of: %(choices)s."))
            % {"bad": ", ".join(bad), "choices": ", ".join(Account.Status.values)}
        ]
    low, high = cleaned.get("min_revenue"), cleaned.get("max_revenue")
    if low is not None and high is not None and low > high and "max_revenue" not in errors:
        errors["max_revenue"] = [str(_("Must not be less than min_revenue."))]
    since: date | None = cleaned.get("active_since")
    if since is not None and not EARLIEST_DATE <= since <= LATEST_DATE:
        message = _("Choose a date between %(first)s and %(last)s.") % {"first": EARLIEST_DATE, "last": LATEST_DATE}
        errors["active_since"] = [str(message)]
    owners = cleaned.get("owner") or []
    if owners and "owner" not in errors:
        known = set(
            in_workspace(CrmUser, workspace).filter(external_id__in=owners).values_list("external_id", flat=True)
        )
        unknown = [owner for owner in owners if owner not in known]
        if unknown:
            errors["owner"] = [
                str(_("No CRM user has the external ID %(ids)s.")) % {"ids": ", ".join(repr(u) for u in unknown)}
            ]
    if errors:
        raise CriteriaInvalid(errors)
    return {
        "search": cleaned.get("search") or "",
        "industry": tuple(dict.fromkeys(cleaned.get("industry") or [])),
        "country": tuple(dict.fromkeys(cleaned.get("country") or [])),
        "owner": tuple(dict.fromkeys(owners)),
        "status": tuple(dict.fromkeys(cleaned.get("status") or [])),
        "min_revenue": low,
        "max_revenue": high,
        "active_since": since,
        "suggested": cleaned.get("suggested") or "",
        "sentiment": tuple(dict.fromkeys(cleaned.get("sentiment") or [])),
        "min_nps": None if low_nps is None else float(low_nps),
        "max_nps": None if high_nps is None else float(high_nps),
        "ordering": cleaned.get("ordering") or DEFAULT_ORDERING,
    }


def filter_accounts(workspace: Workspace, table: QuerySet[Account], data: dict[str, Any]) -> QuerySet[Account]:
    """``table`` narrowed and ordered by valid filter values (``data`` as ``ListQuery.filter_data`` gives them)."""
    return AccountFilterSet(data=data, queryset=table, workspace=workspace).qs
