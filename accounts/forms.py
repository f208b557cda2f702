"""The Accounts tab's forms. The toolbars only render (``core.forms``' rule): bound to the query's
canonical parameters, or to what was typed when the request was not valid, with the query's messages
(``accounts.queries`` validates, once). The account list's filters are not the usage tabs' user
filters (its ``country`` and ``status`` are the account's), so these forms do not add those."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import ErrorDict, ErrorList
from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.presenters import COLUMN_LABELS, ORDERING_LABELS, SENTIMENT_LABELS
from accounts.queries import COLUMNS
from accounts.rules import RULES
from core.forms import CheckboxListWidget, date_input, keep_unknown
from core.queries import Errors, split_list
from events.models import CrmUser
from records.models import Account
from records.selectors import visible_accounts
from tenancy.models import SavedConfig, Workspace
from tenancy.scoping import in_workspace

DAY_CHOICES = (7, 30, 90, 180, 365)
PARAMETER_LABELS: dict[str, Promise] = {
    "as_of": _("As of"),
    "days": _("Days"),
    "bands": _("Revenue bands"),
    "table": _("Table"),
    "page": _("Page"),
    "page_size": _("Rows per page"),
}


class ExactCheckboxWidget(CheckboxListWidget):
    """Checkboxes whose values are taken whole (an industry or an external id may hold a comma)."""

    def format_value(self, value: Any) -> list[str]:
        if value is None:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return [str(v) for v in values if str(v) != ""]


class RenderForm(forms.Form):
    """Inputs bound to ``data`` showing ``errors``; never validated (the query was)."""

    data: QueryDict

    def __init__(self, data: QueryDict, *, workspace: Workspace, errors: Errors | None = None) -> None:
        super().__init__(data)
        self.workspace = workspace
        self.setup()
        self._errors = ErrorDict(
            {key: ErrorList([str(m) for m in messages]) for key, messages in (errors or {}).items()}
        )

    def setup(self) -> None:
        """Subclasses set the options of their pickers here."""

    def full_clean(self) -> None:  # pragma: no cover - never called: the errors are the query's
        pass

    def error_lines(self) -> list[tuple[str, str]]:
        lines = []
        for key, messages in self.errors.items():
            label = str(self.fields[key].label) if key in self.fields else str(PARAMETER_LABELS.get(key, key))
            lines += [(label, str(message)) for message in messages]
        return lines


class OverviewForm(RenderForm):
    as_of = date_input(_("As of"), _("The overview's day, in the workspace's time zone."))
    days = forms.ChoiceField(
        label=_("Products over"), required=False, help_text=_("Top and rising products: the days ending on As of.")
    )

    def setup(self) -> None:
        asked = str(self.data.get("days") or "30")
        choices = [(str(n), _("%(n)s days") % {"n": n}) for n in DAY_CHOICES]
        field = self.fields["days"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = keep_unknown(choices, [asked])
        if not self.data.get("days"):
            self.data = self.data.copy()
            self.data["days"] = "30"


def _values(workspace: Workspace, name: str) -> list[tuple[str, str]]:
    values = visible_accounts(workspace).exclude(**{name: ""}).order_by(name).values_list(name, flat=True).distinct()
    return [(v, v) for v in values]


def _multiple(label: Any, widget: type[forms.Widget] = ExactCheckboxWidget) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(label=label, required=False, widget=widget)


class ListForm(RenderForm):
    search = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Part of a name"), "autocomplete": "off"}),
    )
    industry = _multiple(_("Industry"))
    country = _multiple(_("Country"), CheckboxListWidget)
    owner = _multiple(_("Owner"))
    status = _multiple(_("Status"), CheckboxListWidget)
    min_revenue = forms.CharField(
        label=_("Revenue from"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "0", "size": 10}),
    )
    max_revenue = forms.CharField(
        label=_("Revenue to"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
        help_text=_("All won deals; both inclusive."),
    )
    active_since = date_input(_("Activity since"), _("A completed activity on or after this day."))
    sentiment = _multiple(_("Last sentiment"), CheckboxListWidget)
    min_nps = forms.CharField(
        label=_("NPS from"), required=False, widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6})
    )
    max_nps = forms.CharField(
        label=_("NPS to"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}),
        help_text=_("Over all its responses, −100 to 100; both inclusive."),
    )
    suggested = forms.ChoiceField(label=_("Suggested segment"), required=False)
    ordering = forms.ChoiceField(label=_("Order by"), required=False)
    columns = _multiple(_("Columns"), CheckboxListWidget)

    def setup(self) -> None:
        workspace = self.workspace
        selected = {name: self.data.getlist(name) for name in ("industry", "owner")}
        selected.update({name: split_list(self.data.getlist(name)) for name in ("country", "status")})
        owners = (
            in_workspace(CrmUser, workspace)
            .filter(id__in=visible_accounts(workspace).filter(owner__isnull=False).values("owner_id"))
            .order_by("external_id")
        )
        self._choices("industry", keep_unknown(_values(workspace, "industry"), selected["industry"]))
        self._choices("country", keep_unknown(_values(workspace, "country"), selected["country"]))
        self._choices(
            "owner",
            keep_unknown(
                [(u.external_id, f"{u.name} ({u.external_id})" if u.name else u.external_id) for u in owners],
                selected["owner"],
            ),
        )
        self._choices("status", [(str(v), str(label)) for v, label in Account.Status.choices])
        self._choices("sentiment", [(key, str(label)) for key, label in SENTIMENT_LABELS.items()])
        self._choices("suggested", [("", _("None")), *[(r.key, r.name) for r in RULES]])
        orderings: list[tuple[str, Any]] = []
        for key, label in ORDERING_LABELS.items():
            orderings += [(key, _("%(label)s, ascending") % {"label": label})]
            orderings += [(f"-{key}", _("%(label)s, descending") % {"label": label})]
        self._choices("ordering", orderings)
        self._choices("columns", [(c, COLUMN_LABELS[c]) for c in COLUMNS])

    def _choices(self, name: str, choices: list[tuple[str, Any]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    @property
    def filter_fields(self) -> list[dict[str, Any]]:
        """The multi-valued filters with how many values each has ticked (for the dropdown badges)."""
        result = []
        for name in ("industry", "country", "owner", "status", "sentiment"):
            bound = self[name]
            result.append({"field": bound, "selected": len(bound.field.widget.format_value(bound.value()))})
        return result


class SegmentSaveForm(forms.Form):
    """The inputs of "save as a segment" (rendered only; ``SegmentSaveParams`` validates)."""

    name = forms.CharField(label=_("Segment name"), max_length=200)
    visibility = forms.ChoiceField(
        label=_("Visible to"),
        choices=[
            (SavedConfig.Visibility.PRIVATE, _("Only me")),
            (SavedConfig.Visibility.WORKSPACE, _("Every member of the workspace")),
        ],
        initial=SavedConfig.Visibility.PRIVATE,
    )
