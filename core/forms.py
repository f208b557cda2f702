"""Forms that only render: the inputs of a tab's toolbar, filled from the query object (or, when the
request was not valid, from what was typed) with the query's messages next to their fields.

Validation is never done here: ``core.queries`` parsed the request once. A form is bound to the
query's canonical parameters so its inputs show the values in force, and ``errors`` are put on it
as given, so ``{{ field.errors }}``, ``aria-invalid`` and the error summary work as in any form.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import ErrorDict, ErrorList
from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.attributes import attribute_value_label, attribute_values
from core.queries import DATE_MESSAGE, Errors, split_list
from events.filters import USER_FILTER_FIELDS
from events.models import CrmUser
from tenancy.models import Workspace

Choices = list[tuple[str, Any]]  # (value, label), the label maybe a lazy translation

# Labels of the parameters that have no input of their own on a page (shown in the error summary).
PARAMETER_LABELS: dict[str, Promise] = {
    "as_of": _("As of"),
    "days": _("Days"),
    "period": _("Period"),
    "user": _("User"),
}


class CheckboxListWidget(forms.CheckboxSelectMultiple):
    """Checkboxes that read repeated parameters (``country=CN&country=IN``)."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if hasattr(data, "getlist"):
            return data.getlist(name)
        return data.get(name)

    def format_value(self, value: Any) -> list[str]:
        # Comma-separated values (``country=CN,IN``) tick every box they name.
        return split_list(super().format_value(value))


def date_input(label: Any, help_text: Any = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=help_text,
        error_messages={"invalid": DATE_MESSAGE},
    )


def keep_unknown(choices: Choices, values: list[str]) -> Choices:
    """A value in the URL that is not an option (yet) stays visible and selected instead of vanishing."""
    known = {value for value, _label in choices}
    return choices + [(value, value) for value in values if value not in known]


def attribute_choices(workspace: Workspace, name: str, selected: list[str]) -> Choices:
    """The options of a user-attribute filter: the values the workspace's CRM users have."""
    if name == "status":
        choices: Choices = [(str(value), str(label)) for value, label in CrmUser.Status.choices]
    else:
        choices = [(value, attribute_value_label(name, value)) for value in attribute_values(workspace, name)]
    return keep_unknown(choices, selected)


class QueryForm(forms.Form):
    """The inputs of a query: the user filters, and what subclasses declare. Bound to ``data`` (the
    query's parameters), showing ``errors``; never validated."""

    data: QueryDict

    def __init__(
        self, data: QueryDict, *, workspace: Workspace, errors: Errors | None = None, viewer: Any = None
    ) -> None:
        super().__init__(data)
        self.workspace = workspace
        self.viewer = viewer  # who asks: pickers of saved configurations list only what they may use
        for name in USER_FILTER_FIELDS:
            label = {"language": _("Language"), "country": _("Country"), "timezone": _("Time zone")}.get(
                name, _("Status")
            )
            self.fields[name] = forms.MultipleChoiceField(
                label=label,
                required=False,
                choices=attribute_choices(workspace, name, split_list(data.getlist(name))),
                widget=CheckboxListWidget,
            )
        self.setup()
        # The query's messages, as they are: Django never validates this form.
        self._errors = ErrorDict(
            {key: ErrorList([str(m) for m in messages]) for key, messages in (errors or {}).items()}
        )

    def setup(self) -> None:
        """Subclasses set the options of their pickers here (they depend on the workspace)."""

    def full_clean(self) -> None:  # pragma: no cover - never called: the errors are the query's
        pass

    def messages_of(self, *names: str) -> list[str]:
        return [str(m) for name in names for m in self.errors.get(name, [])]

    def error_lines(self) -> list[tuple[str, str]]:
        """Every message with what it is about, for the summary above the figures."""
        lines = []
        for key, messages in self.errors.items():
            label = str(self.fields[key].label) if key in self.fields else str(PARAMETER_LABELS.get(key, ""))
            lines += [(label, str(message)) for message in messages]
        return lines

    @property
    def filter_fields(self) -> list[dict[str, Any]]:
        """The user-filter fields with how many values each has ticked (for the dropdown badges)."""
        result = []
        for name in USER_FILTER_FIELDS:
            bound = self[name]
            result.append({"field": bound, "selected": len(bound.field.widget.format_value(bound.value()))})
        return result


class PeriodForm(QueryForm):
    """The one period picker (from–to, the presets being links beside it) and the user filters.

    A request that asked for ``as_of`` + ``days`` shows their messages on the To and From inputs."""

    start = date_input(_("From"), _("First day, in the workspace's time zone."))
    end = date_input(_("To"), _("Last day, inclusive."))

    @property
    def start_errors(self) -> list[str]:
        return self.messages_of("start") + self.labelled("days")

    @property
    def end_errors(self) -> list[str]:
        return self.messages_of("end") + self.labelled("as_of", "period")

    def labelled(self, *names: str) -> list[str]:
        """The messages of parameters without an input of their own, saying which they are about."""
        return [f"{PARAMETER_LABELS[name]}: {message}" for name in names for message in self.messages_of(name)]
