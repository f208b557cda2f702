"""The filter-set builder: its condition rows (two formsets) ↔ a definition, and a definition ↔ the
builder's GET parameters (docs/api.md#saved-filter-sets).

The builder runs with GET (the definition is in the URL, so a result can be bookmarked, shared and
downloaded as CSV without a POST) and saves with POST; ``templates/useranalysis/filter_set.html``
says how the CSRF token travels with the Save button only. The rows are read as typed and judged by
the definition's Params (``useranalysis.queries``), so the page shows the messages
``filter-sets/query`` would answer, each next to the row at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from django.forms import BaseFormSet
from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework import serializers

from core.queries import Errors, QueryInvalid
from events.filters import STATIC_USERS_FIELD, USER_FILTER_FIELDS
from events.selectors import CatalogFeature, feature_catalog
from tenancy.models import Workspace
from useranalysis.forms import (
    ACTIVITY_PREFIX,
    FEATURES_PREFIX,
    MAX_CONDITIONS,
    ActivityFormSet,
    ConditionForm,
    FeatureFormSet,
    FilterSetForm,
)
from useranalysis.presenters import number_text
from useranalysis.queries import Definition, FilterSetParams, FilterSetQuery

PARTS = (ACTIVITY_PREFIX, FEATURES_PREFIX)
BLANK_ROWS = {
    ACTIVITY_PREFIX: {"metric": "", "op": ">", "value": ""},
    FEATURES_PREFIX: {"feature": "", "action": "", "used": True, "min_count": 1},
}


# Names the saved filter set whose fixed list of users the builder's fields stand for: links carry
# this, never the ids (``useranalysis.views.filter_sets.with_static_users`` puts them back).
STATIC_OF = "static_of"


class BuilderParams(FilterSetParams):
    filters_are_conditions = True

    static_of = serializers.IntegerField(required=False, allow_null=True, min_value=1)


@dataclass(frozen=True, kw_only=True)
class BuilderQuery(FilterSetQuery):
    """A filter set's query as the builder page writes it: the definition as condition rows, its
    user-attribute conditions as the user filters of every tab."""

    Params: ClassVar[type[serializers.Serializer]] = BuilderParams

    static_of: int | None = None

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), **definition_params(self.definition), STATIC_OF: self.static_of}


def definition_params(definition: Definition, *, blank_rows: bool = False) -> dict[str, Any]:
    """The definition's group-by and condition rows as the builder's GET parameters (``blank_rows``:
    one empty row where a list has none, to fill in). The user-attribute conditions are the filters."""
    params: dict[str, Any] = {"group_by": definition.group_by}
    for part in PARTS:
        rows = list(definition.conditions.get(part) or []) or ([BLANK_ROWS[part]] if blank_rows else [])
        params[f"{part}-TOTAL_FORMS"], params[f"{part}-INITIAL_FORMS"] = len(rows), 0
        for index, row in enumerate(rows):
            for key, value in row.items():
                text = ("true" if value else "false") if isinstance(value, bool) else number_text(value)
                params[f"{part}-{index}-{key}"] = text
    return params


def definition_query(definition: Definition, *, blank_rows: bool = False, **extra: Any) -> QueryDict:
    """A definition as the builder's GET parameters, with ``extra`` ones (name, visibility, period)."""
    query = QueryDict(mutable=True)
    values = {**extra, **definition_params(definition, blank_rows=blank_rows)}
    for key, value in values.items():
        if value not in ("", None):
            query[key] = str(value)
    for name, attribute_values in (definition.conditions.get("users") or {}).items():
        if name != STATIC_USERS_FIELD:  # a fixed list of users is read from its saved set (``with_static_users``)
            query.setlist(name, [str(v) for v in attribute_values])
    return query


def with_added_row(data: QueryDict) -> tuple[QueryDict, bool]:
    """Without JavaScript, "Add a condition" submits the builder with ``add=<part>``: one more row."""
    part = data.get("add")
    if part not in PARTS:
        return data, False
    data = data.copy()
    data.pop("add")
    key = f"{part}-TOTAL_FORMS"
    total = data.get(key, "0")
    if total.isdigit() and int(total) < MAX_CONDITIONS:
        data[key] = str(int(total) + 1)
    return data, True


def is_builder_query(data: QueryDict) -> bool:
    return any(f"{part}-TOTAL_FORMS" in data for part in PARTS)


# --- reading the builder -----------------------------------------------------------------------------


@dataclass
class Builder:
    """The builder's fields as sent, and the query they make (None while they do not make one).

    ``rows`` are the condition rows sent (blank and removed rows left out), in the order of the
    definition's lists, so the definition's errors (by list index) land on the right row."""

    form: FilterSetForm
    formsets: dict[str, BaseFormSet]
    catalog: list[CatalogFeature]
    rows: dict[str, list[ConditionForm]]
    query: BuilderQuery | None

    @property
    def valid(self) -> bool:
        return self.query is not None

    @property
    def activity(self) -> BaseFormSet:
        return self.formsets[ACTIVITY_PREFIX]

    @property
    def features(self) -> BaseFormSet:
        return self.formsets[FEATURES_PREFIX]

    @property
    def errors(self) -> dict[str, Any]:
        """Every message, for the CSV view's 400."""
        found: dict[str, Any] = {k: list(v) for k, v in self.form.errors.items()}
        for part, formset in self.formsets.items():
            rows = {i: {k: list(v) for k, v in f.errors.items()} for i, f in enumerate(self.rows.get(part, []))}
            if any(rows.values()):
                found[part] = {i: e for i, e in rows.items() if e}
            if formset.non_form_errors():
                found[f"{part}_rows"] = list(formset.non_form_errors())
        return found

    def error_lines(self) -> list[tuple[str, str]]:
        """Every message with what it is about, for the summary above the builder."""
        lines = self.form.error_lines()
        titles = {ACTIVITY_PREFIX: _("Activity conditions"), FEATURES_PREFIX: _("Feature usage")}
        row_labels = {ACTIVITY_PREFIX: _("Activity condition %(n)d"), FEATURES_PREFIX: _("Feature condition %(n)d")}
        for part, formset in self.formsets.items():
            lines += [(titles[part], str(e)) for e in formset.non_form_errors()]
            for row in self.rows.get(part, []):
                label = row_labels[part] % {"n": formset.forms.index(row) + 1}
                lines += [(label, str(e)) for e in row.non_field_errors()]
                lines += [(f"{label}, {str(f.label).lower()}", str(e)) for f in row for e in f.errors]
        return lines

    def attach(self, errors: Any) -> None:
        """Put the definition's errors (``conditions``: by list, then by index) next to their rows."""
        for part, part_errors in (errors if isinstance(errors, dict) else {"": errors}).items():
            rows = self.rows.get(part)
            if rows is None or not isinstance(part_errors, dict):
                messages = QueryInvalid({part: part_errors}).errors[part]
                self.form.add_messages({"non_field_errors": [f"{part}: {m}" if part else m for m in messages]})
                continue
            for index, row_errors in part_errors.items():
                if isinstance(index, int) and index < len(rows) and row_errors:
                    row = rows[index]
                    by_field = row_errors if isinstance(row_errors, dict) else {"non_field_errors": row_errors}
                    for name, messages in QueryInvalid(by_field).errors.items():
                        row.add_error(name if name in row.fields else None, messages)


def _rows(formsets: dict[str, BaseFormSet]) -> dict[str, list[ConditionForm]]:
    """The rows that count, per part; none while a formset is not valid (tampered, too many)."""
    if not all(formset.is_valid() for formset in formsets.values()):
        return {}
    return {
        part: [f for f in formset.forms if not f.cleaned_data.get("DELETE") and not f.is_blank()]
        for part, formset in formsets.items()
    }


def _query_data(data: QueryDict, rows: dict[str, list[ConditionForm]]) -> dict[str, Any]:
    plain: dict[str, Any] = {key: data.getlist(key) if key in USER_FILTER_FIELDS else data.get(key) for key in data}
    plain["conditions"] = {part: [f.as_condition() for f in forms] for part, forms in rows.items() if forms}
    static = data.getlist(STATIC_USERS_FIELD)
    if static:
        plain["conditions"]["users"] = {STATIC_USERS_FIELD: static}
    return plain


def _shown(data: QueryDict, query: BuilderQuery | None) -> QueryDict:
    """What the form shows: the fields as sent, the period in force as From–To."""
    if query is None:
        return data
    shown = data.copy()
    shown["start"], shown["end"] = query.period.start.isoformat(), query.period.end.isoformat()
    return shown


def builder_from(data: QueryDict, workspace: Workspace, *, default_days: int | None = None) -> Builder:
    """Read the builder's fields from ``data`` and check the definition as ``filter-sets/query`` does;
    ``default_days`` is a saved filter set's (its period when none is asked)."""
    catalog = feature_catalog(workspace=workspace)
    formsets: dict[str, BaseFormSet] = {
        ACTIVITY_PREFIX: ActivityFormSet(data, prefix=ACTIVITY_PREFIX),
        FEATURES_PREFIX: FeatureFormSet(data, prefix=FEATURES_PREFIX, form_kwargs={"catalog": catalog}),
    }
    rows = _rows(formsets)
    query: BuilderQuery | None = None
    errors: Errors = {}
    nested: Any = None
    try:
        query = BuilderQuery.parse(_query_data(data, rows), workspace=workspace, default_days=default_days)
    except QueryInvalid as exc:
        errors = {key: messages for key, messages in exc.errors.items() if key != "conditions"}
        nested = exc.detail.get("conditions")
    form = FilterSetForm(_shown(data, query), workspace=workspace, errors=errors)
    builder = Builder(form, formsets, catalog, rows, query if rows else None)  # no rows: a formset is not valid
    if nested is not None:
        builder.attach(nested)
    return builder
