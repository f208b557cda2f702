"""Labelling feedback (docs/perception.md#labels): each text's language, sentiment, intents, competitors
and keywords, by ``records.text_analysis`` with the workspace's vocabulary.

A text waits for its labels while ``labelled_at`` is null: when it arrives, when it changes, and when
the workspace's vocabulary changes (every text again). A worker labels the waiting texts in batches;
the batch endpoint and ``import_records`` only enqueue it, and a periodic sweep finds texts whose
enqueue was lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from records.marks import DirtyMarks
from records.models import Feedback, FeedbackTerm, PerceptionSettings
from records.versions import records_changed
from records.vocabulary import DEFAULT_COMPETITORS, DEFAULT_INTENTS, Labels, Vocabulary
from tenancy.models import Workspace

BATCH_SIZE = 2000
MAX_PASSES = 5


def vocabulary_for(workspace: Workspace) -> Vocabulary:
    """The workspace's intents and competitors; the defaults until an admin edits them."""
    return _vocabulary_and_stamp(workspace)[0]


def _vocabulary_and_stamp(workspace: Workspace) -> tuple[Vocabulary, datetime | None]:
    """The vocabulary and when it was last saved (None: the defaults): labels are stored only while
    that is still the vocabulary's stamp."""
    settings = PerceptionSettings.objects.filter(workspace=workspace).first()
    if settings is None:
        return Vocabulary(intents=DEFAULT_INTENTS, competitors=DEFAULT_COMPETITORS), None
    vocabulary = Vocabulary(
        intents=settings.intents,
        competitors=[(item["name"], item.get("aliases", [])) for item in settings.competitors],
    )
    return vocabulary, settings.updated_at


def _stamp(workspace: Workspace) -> datetime | None:
    return PerceptionSettings.objects.filter(workspace=workspace).values_list("updated_at", flat=True).first()


def configured_terms(workspace: Workspace) -> tuple[list[str], list[str]]:
    """The names of the workspace's intents and competitors, as configured (the voice lists them all)."""
    vocabulary = vocabulary_for(workspace)
    return list(vocabulary.intents), [name for name, _aliases in vocabulary.competitors]


def settings_as_json(workspace: Workspace) -> dict[str, Any]:
    """The vocabulary as the settings endpoint shows it: ``{intents: {NAME: [keyword]}, competitors:
    [{name, aliases}]}``."""
    vocabulary = vocabulary_for(workspace)
    return {
        "intents": {name: list(keywords) for name, keywords in vocabulary.intents.items()},
        "competitors": [{"name": name, "aliases": list(aliases)} for name, aliases in vocabulary.competitors],
    }


# pg_try_advisory_lock key of a workspace's labelling ("labl" in ASCII, then the workspace id).
_LOCK = 0x6C61626C << 32


def feedback_label_pending(*, workspace: Workspace, batch_size: int = BATCH_SIZE) -> int:
    """Label the workspace's waiting texts in batches, in id order, until none waits; the number labelled.
    The accounts of the texts labelled are marked for the aggregates' refresh (the caller's to run).

    A label is stored only if the text is still the one labelled: a text changed meanwhile keeps
    waiting for the next pass. On PostgreSQL one worker labels a workspace at a time: a second task
    (the sweep's, a retry) finds the lock taken and leaves, as the first goes on until none waits."""
    if connection.vendor != "postgresql":
        return _label_passes(workspace, batch_size)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK + workspace.pk])
        if not cursor.fetchone()[0]:
            return 0
        try:
            return _label_passes(workspace, batch_size)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK + workspace.pk])


def _label_passes(workspace: Workspace, batch_size: int) -> int:
    # Imported here: the analysis loads jieba's tables (about a second), which only a worker needs.
    from records.text_analysis import label_many

    labelled = 0
    # A pass over the waiting texts; another if some started waiting behind it. Bounded: texts that
    # keep changing under the labelling are left to the next task (the sweep).
    for _pass in range(MAX_PASSES):
        # Read again each pass: a vocabulary saved during a pass stops its stores (``_store_labels``).
        vocabulary, stamp = _vocabulary_and_stamp(workspace)
        after, found = 0, 0
        while True:
            rows = list(
                Feedback.objects.filter(workspace=workspace, labelled_at__isnull=True, id__gt=after)
                .order_by("id")
                .values_list("id", "text", "account_id")[:batch_size]
            )
            if not rows:
                break
            labels = label_many([text for _id, text, _account in rows], vocabulary)
            labelled += _store_labels(workspace, stamp, rows, labels)
            found += len(rows)
            after = rows[-1][0]
        if not found:
            break
    return labelled


def _store_labels(
    workspace: Workspace,
    stamp: datetime | None,
    rows: Sequence[tuple[int, str, int | None]],
    labels: Sequence[Labels],
) -> int:
    """Store the labels of ``rows`` (id, text labelled, account), and their terms, where the text is
    unchanged and the vocabulary is still the one stamped ``stamp``; the accounts of the texts stored are
    marked (their figures read the latest sentiment). The number stored."""
    now = timezone.now()
    by_id = {row_id: label for (row_id, _text, _account), label in zip(rows, labels, strict=True)}
    texts = [(row_id, text) for row_id, text, _account in rows]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            stored = _update_labels_postgresql(workspace, stamp, texts, labels, now)
        else:
            stored = _update_labels(workspace, stamp, texts, labels, now)
        # The terms copy the feedback as the update left it (its row is locked until the commit, so a
        # batch changing its channel or account meanwhile waits, then brings the terms along).
        copied = {row[0]: row[1:] for row in Feedback.objects.filter(id__in=stored).values_list("id", *COPIED)}
        marks = DirtyMarks()
        # The days the old terms counted on (a text changed with its day in the admin kept its terms
        # where they were until now).
        for day in FeedbackTerm.objects.filter(feedback_id__in=stored).values_list("received_on", flat=True).distinct():
            marks.feedback_day(day)
        FeedbackTerm.objects.filter(feedback_id__in=stored).delete()
        FeedbackTerm.objects.bulk_create(
            [
                FeedbackTerm(
                    feedback_id=row_id,
                    workspace_id=workspace.pk,
                    kind=kind,
                    term=term[:TERM_LENGTH],
                    sentiment=by_id[row_id].sentiment,
                    **dict(zip(COPIED, copied[row_id], strict=True)),
                )
                for row_id in stored
                for kind, terms in _terms_of(by_id[row_id])
                for term in dict.fromkeys(term[:TERM_LENGTH] for term in terms)
            ],
            batch_size=2000,
        )
        for row_id in stored:
            marks.account(copied[row_id][COPIED.index("account_id")])
            marks.feedback_day(copied[row_id][COPIED.index("received_on")])
        marks.save(workspace)
        if stored:  # the voice's cached answers counted the old labels
            records_changed(workspace.pk, ["feedback"])
    return len(stored)


# The feedback's fields its terms carry (``FeedbackTerm``), besides the labels' sentiment.
COPIED = ("received_on", "channel", "contact", "account_id", "deleted")


def terms_follow(feedback: Sequence[Feedback]) -> None:
    """After ``feedback`` changed (its channel, account, contact, day or deleted flag, not its text): its
    terms take the new values, so the voice counts them where the feedback now is."""
    for item in feedback:
        FeedbackTerm.objects.filter(feedback_id=item.pk).update(**{name: getattr(item, name) for name in COPIED})


def labels_store(workspace: Workspace, labelled: Sequence[tuple[int, Labels]]) -> int:
    """Store labels worked out elsewhere for feedback ids (as the worker stores its own: labels, terms,
    marks), for the workspace's current vocabulary; the number stored."""
    texts = dict(
        Feedback.objects.filter(workspace=workspace, id__in=[i for i, _l in labelled]).values_list("id", "text")
    )
    rows = [(row_id, texts[row_id], None) for row_id, _label in labelled if row_id in texts]
    labels = [label for row_id, label in labelled if row_id in texts]
    return _store_labels(workspace, _vocabulary_and_stamp(workspace)[1], rows, labels)


TERM_LENGTH = FeedbackTerm._meta.get_field("term").max_length or 100


def _terms_of(label: Labels) -> tuple[tuple[str, list[str]], ...]:
    return (
        (FeedbackTerm.Kind.INTENT, label.intents),
        (FeedbackTerm.Kind.COMPETITOR, label.competitors),
        (FeedbackTerm.Kind.KEYWORD, label.keywords),
    )


def _update_labels_postgresql(
    workspace: Workspace,
    stamp: datetime | None,
    rows: Sequence[tuple[int, str]],
    labels: Sequence[Labels],
    now: datetime,
) -> list[int]:
    import json

    # One statement per batch; the text is compared so a label never lands on a newer text.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Feedback._meta.db_table} AS f
            SET language = v.language, sentiment = v.sentiment, intents = v.intents::jsonb,
                competitors = v.competitors::jsonb, keywords = v.keywords::jsonb, labelled_at = %s
            FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])
                AS v(id, text, language, sentiment, intents, competitors, keywords)
            WHERE f.id = v.id AND f.text = v.text
                AND (SELECT updated_at FROM {PerceptionSettings._meta.db_table} WHERE workspace_id = %s)
                    IS NOT DISTINCT FROM %s::timestamptz
            RETURNING f.id
            """,
            [
                now,
                [row_id for row_id, _text in rows],
                [text for _id, text in rows],
                [label.language for label in labels],
                [label.sentiment for label in labels],
                [json.dumps(label.intents, ensure_ascii=False) for label in labels],
                [json.dumps(label.competitors, ensure_ascii=False) for label in labels],
                [json.dumps(label.keywords, ensure_ascii=False) for label in labels],
                workspace.pk,
                stamp,
            ],
        )
        return [row_id for (row_id,) in cursor.fetchall()]


def _update_labels(
    workspace: Workspace,
    stamp: datetime | None,
    rows: Sequence[tuple[int, str]],
    labels: Sequence[Labels],
    now: datetime,
) -> list[int]:
    if _stamp(workspace) != stamp:
        return []
    stored = []
    for (row_id, text), label in zip(rows, labels, strict=True):
        if Feedback.objects.filter(id=row_id, text=text).update(
            language=label.language,
            sentiment=label.sentiment,
            intents=label.intents,
            competitors=label.competitors,
            keywords=label.keywords,
            labelled_at=now,
        ):
            stored.append(row_id)
    return stored


def workspaces_with_unlabelled_feedback() -> list[int]:
    return list(
        Feedback.objects.filter(labelled_at__isnull=True).values_list("workspace_id", flat=True).distinct().order_by()
    )
