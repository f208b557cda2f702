"""The Perception tab's toolbars (inputs only, ``core.forms``; ``perception.voice_queries`` says what the
values mean) and the vocabulary's form, which the settings page validates with the API's rules."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import PeriodForm
from perception.voice_queries import VOICE_UNITS
from records.models import Feedback
from records.segments import segments_for
from records.validation import parse_perception_settings

SEGMENT_CHOICES = 200  # the picker lists at most this many segments, by name


def unit_choices() -> list[tuple[str, Any]]:
    labels = {"responses": _("Responses"), "contacts": _("Contacts"), "accounts": _("Accounts")}
    return [(unit, labels[unit]) for unit in VOICE_UNITS]


class SegmentPicker(PeriodForm):
    """A period form with the ``segment`` picker: the saved segments the viewer may use, by name."""

    segment = forms.ChoiceField(label=_("Segment"), required=False)

    def setup(self) -> None:
        refs = segments_for(self.workspace, self.viewer, limit=SEGMENT_CHOICES)
        choices = [("", _("All accounts")), *((str(ref.pk), ref.name) for ref in refs)]
        self.fields["segment"].choices = choices  # type: ignore[attr-defined]


class VoiceForm(SegmentPicker):
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All channels")), *Feedback.Channel.choices]
    )
    account = forms.CharField(label=_("Account"), required=False, help_text=_("An account's external id."))
    by = forms.ChoiceField(label=_("Count"), required=False, choices=unit_choices)


class PerceptionForm(SegmentPicker):
    industry = forms.CharField(label=_("Industry"), required=False, help_text=_("Only accounts of this industry."))
    owner = forms.CharField(label=_("Owner"), required=False, help_text=_("A CRM user's external id."))
    account = forms.CharField(label=_("Account"), required=False, help_text=_("An account's external id."))
    by = forms.ChoiceField(
        label=_("Break down by"),
        required=False,
        choices=[("industry", _("Industry")), ("owner", _("Owner")), ("segment", _("Segment"))],
    )


def _where(key: str) -> str:
    """What an API error key (``intents.NAME``, ``competitors[N].name``) is about, for a person."""
    if match := re.match(r"competitors\[(\d+)\]", key):
        return str(_("Competitor %(number)s") % {"number": int(match[1]) + 1})
    return key.partition(".")[2]


def _lines(value: str) -> list[tuple[str, list[str]]]:
    """``name: term, term`` per line (``，`` and ``：`` as Chinese keyboards type them)."""
    rows = []
    for line in value.replace("：", ":").replace("，", ",").splitlines():
        if not line.strip():
            continue
        name, _sep, terms = line.partition(":")
        rows.append((name.strip(), [term.strip() for term in terms.split(",") if term.strip()]))
    return rows


class VocabularyForm(forms.Form):
    """The vocabulary as text: one intent or competitor a line, ``name: keyword, keyword``."""

    intents = forms.CharField(
        label=_("Intents"),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        required=False,
        help_text=_("One intent a line: its name, a colon, then its keywords separated by commas."),
    )
    competitors = forms.CharField(
        label=_("Competitors"),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        required=False,
        help_text=_("One competitor a line: its name, then optionally a colon and its aliases separated by commas."),
    )

    @staticmethod
    def initial_from(settings: dict[str, Any]) -> dict[str, str]:
        return {
            "intents": "\n".join(f"{name}: {', '.join(terms)}" for name, terms in settings["intents"].items()),
            "competitors": "\n".join(
                f"{item['name']}: {', '.join(item['aliases'])}" if item["aliases"] else item["name"]
                for item in settings["competitors"]
            ),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        raw = {
            "intents": dict(_lines(cleaned.get("intents", ""))),
            "competitors": [{"name": n, "aliases": a} for n, a in _lines(cleaned.get("competitors", ""))],
        }
        vocabulary, errors = parse_perception_settings(raw)
        if vocabulary is None:
            for key, messages in errors.items():
                field = "intents" if key.startswith("intents") else "competitors"
                self.add_error(field, [f"{_where(key)}: {m}" if _where(key) else m for m in messages])
            return cleaned
        cleaned["vocabulary"] = vocabulary
        return cleaned
