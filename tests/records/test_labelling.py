"""Labelling feedback (records.labelling, docs/perception.md#voice): the worker's labels and terms are
stored per text, in its own workspace's vocabulary; a text changed, or a vocabulary saved, while a batch
is being labelled keeps the text waiting; the batch endpoint and the sweep enqueue it."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from records import labelling
from records.labelling import feedback_label_pending
from records.models import Feedback, FeedbackTerm, PerceptionSettings
from records.services import perception_settings_replace
from records.tasks import label_feedback_task, sweep_unlabelled_feedback_task
from records.text_analysis import label_many
from tests.conftest import crm_records

pytestmark = pytest.mark.django_db

VOCABULARY = {
    "intents": {"complaint": ["slow", "太慢"], "renewal": ["renew", "续约"]},
    "competitors": [{"name": "HubSpot", "aliases": []}, {"name": "纷享销客", "aliases": ["Fxiaoke"]}],
}
TEXTS = {
    "F1": "The dashboard is too slow, we might move to HubSpot.",
    "F2": "仪表盘太慢了，纷享销客的报价更便宜。",
    "F3": "Happy to renew, the support team was great!",
}


@pytest.fixture
def two(make_workspace):
    """Two workspaces with the same texts under the same external ids, and different vocabularies."""
    (acme, key), (other, _) = make_workspace("acme"), make_workspace("other")
    for workspace in (acme, other):
        crm_records(
            workspace,
            "feedback",
            [{"external_id": k, "channel": "email", "text": t, "received_at": "2026-03-02T10:00:00+00:00"}
             for k, t in TEXTS.items()],
        )  # fmt: skip
    PerceptionSettings.objects.create(workspace=acme, **VOCABULARY)
    PerceptionSettings.objects.create(workspace=other, intents={"other": ["dashboard"]}, competitors=[])
    return acme, key, other


def labels_of(workspace):
    return {
        f.external_id: (f.language, f.sentiment, f.intents, f.competitors)
        for f in Feedback.objects.filter(workspace=workspace)
    }


def test_each_text_gets_its_workspace_s_labels_and_terms(two):
    acme, _key, other = two
    assert feedback_label_pending(workspace=acme) == 3
    assert labels_of(acme) == {
        "F1": ("en", "negative", ["complaint"], ["HubSpot"]),
        "F2": ("zh", "negative", ["complaint"], ["纷享销客"]),
        "F3": ("en", "positive", ["renewal"], []),
    }
    f2 = Feedback.objects.get(workspace=acme, external_id="F2")
    terms = set(FeedbackTerm.objects.filter(feedback=f2).values_list("kind", "term"))
    assert {("intent", "complaint"), ("competitor", "纷享销客")} <= terms
    assert {term for kind, term in terms if kind == "keyword"} == set(f2.keywords) and f2.keywords
    assert not Feedback.objects.filter(workspace=other, labelled_at__isnull=False).exists()  # not touched
    assert feedback_label_pending(workspace=acme) == 0  # nothing waits any more
    assert feedback_label_pending(workspace=other) == 3
    assert {k: v[2] for k, v in labels_of(other).items()} == {"F1": ["other"], "F2": [], "F3": []}


def test_labels_and_terms_match_the_analysis_of_the_text(two):
    acme, *_ = two
    feedback_label_pending(workspace=acme)
    vocabulary = labelling.vocabulary_for(acme)
    for item in Feedback.objects.filter(workspace=acme):
        expected = label_many([item.text], vocabulary)[0]
        assert (item.language, item.sentiment, item.intents, item.competitors, item.keywords) == (
            expected.language, expected.sentiment, expected.intents, expected.competitors, expected.keywords
        )  # fmt: skip
        stored = sorted(FeedbackTerm.objects.filter(feedback=item).values_list("kind", "term"))
        assert stored == sorted(
            [("intent", t) for t in expected.intents]
            + [("competitor", t) for t in expected.competitors]
            + [("keyword", t) for t in expected.keywords]
        )


def test_a_text_changed_while_being_labelled_keeps_waiting(two, monkeypatch):
    acme, *_ = two
    real = label_many
    changed = []

    def label_and_edit(texts, vocabulary):
        result = real(texts, vocabulary)
        if not changed:  # the CRM sends a new text for F1 while the first batch is labelled
            Feedback.objects.filter(workspace=acme, external_id="F1").update(text="Now it is fast, thanks!")
            changed.append(True)
        return result

    monkeypatch.setattr("records.text_analysis.label_many", label_and_edit)
    monkeypatch.setattr(labelling, "MAX_PASSES", 1)
    assert feedback_label_pending(workspace=acme) == 2
    f1 = Feedback.objects.get(workspace=acme, external_id="F1")
    assert f1.labelled_at is None and not FeedbackTerm.objects.filter(feedback=f1).exists()
    monkeypatch.setattr(labelling, "MAX_PASSES", 5)
    assert feedback_label_pending(workspace=acme) == 1
    assert Feedback.objects.get(workspace=acme, external_id="F1").sentiment == "positive"


def test_a_vocabulary_saved_while_labelling_stops_the_stores_and_the_next_pass_uses_it(two, monkeypatch):
    acme, *_ = two
    real = label_many
    calls = []

    def label_then_save(texts, vocabulary):
        result = real(texts, vocabulary)
        if not calls:
            perception_settings_replace(workspace=acme, intents={"praise": ["great"]}, competitors=[])
        calls.append(dict(vocabulary.intents))
        return result

    monkeypatch.setattr("records.text_analysis.label_many", label_then_save)
    assert feedback_label_pending(workspace=acme) == 3  # the first pass stored nothing, the second all
    assert calls == [VOCABULARY["intents"], {"praise": ["great"]}]
    assert {k: v[2] for k, v in labels_of(acme).items()} == {"F1": [], "F2": [], "F3": ["praise"]}


def test_the_batch_endpoint_enqueues_the_labelling_and_the_sweep_finds_what_waits(
    two, django_capture_on_commit_callbacks
):
    acme, key, other = two
    item = {"external_id": "F9", "channel": "chat", "text": "How do I renew?", "received_at": "2026-03-03"}
    with django_capture_on_commit_callbacks(execute=True):
        answer = Client().post(
            "/api/v1/records/feedback/batch",
            json.dumps({"items": [item]}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
    assert answer.json()["created"] == 1
    # The in-process worker (tests run tasks eagerly) labelled every text of acme, none of other.
    assert not Feedback.objects.filter(workspace=acme, labelled_at__isnull=True).exists()
    assert Feedback.objects.get(workspace=acme, external_id="F9").intents == ["renewal"]
    assert Feedback.objects.filter(workspace=other, labelled_at__isnull=True).count() == 3
    assert sweep_unlabelled_feedback_task.delay().get() == 1  # other's
    assert not Feedback.objects.filter(labelled_at__isnull=True).exists()
    assert label_feedback_task.delay(999_999).get() == 0  # a workspace deleted meanwhile
