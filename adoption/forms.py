"""The page's toolbar: inputs only (``core.forms``); ``adoption.queries`` says what the values mean
and whether they are valid."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from adoption.queries import FIGURE_LABELS, USAGE_FIGURES
from core.forms import PeriodForm


class AdoptionForm(PeriodForm):
    # Chosen by the links above the chart; kept when the toolbar applies another period.
    figure = forms.ChoiceField(
        label=_("Usage figure"),
        required=False,
        choices=[(name, FIGURE_LABELS[name]) for name in USAGE_FIGURES],
        widget=forms.HiddenInput,
    )
    rep = forms.CharField(
        label=_("Highlight rep"),
        required=False,
        max_length=254,
        help_text=_("External ID or email."),
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
