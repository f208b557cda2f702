"""A user funnel's step bars open the users who reached or dropped at the step on the drill-down
page (docs/drilldown.md; ``source=funnels/results&funnel=<id>&people=k:reached|k:dropped``):
registered with ``core.people`` when the app is ready."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from core.people import NotAFigure, Source, register_source
from core.queries import QueryInvalid
from funnels.definition import step_labels
from funnels.models import Funnel, Unit
from funnels.queries import FunnelResultsQuery
from funnels.selectors import funnel_people
from tenancy.scoping import WorkspaceScope


def parse(scope: WorkspaceScope, viewer: Any, data: QueryDict) -> FunnelResultsQuery:
    """The saved funnel (``funnel``: its id, one the viewer may see, else a 404) over the page's range."""
    text = str(data.get("funnel", ""))
    if not text.isdigit():
        raise QueryInvalid({"funnel": [_("Give the id of a saved funnel.")]})
    funnel = scope.get_saved(Funnel, int(text))
    return FunnelResultsQuery.parse(data, workspace=scope.workspace, viewer=viewer, funnel=funnel)


def step_people(query: FunnelResultsQuery) -> list[int]:
    if query.people is None:
        raise NotAFigure("", "k:reached | k:dropped")
    if query.funnel.unit != Unit.USER:  # its units are records, not users
        raise NotAFigure(query.people.encode())
    return [p.user_id for p in funnel_people(query.computation()) if p.user_id is not None]


def step_title(query: FunnelResultsQuery) -> str:
    assert query.people is not None
    step = query.people.step
    labels = step_labels(query.funnel.steps)
    values = {"step": step, "funnel": query.funnel.name, "label": labels[step - 1] if step <= len(labels) else ""}
    if query.people.status == "dropped":
        return _("Dropped before step %(step)s (%(label)s) of %(funnel)s") % values
    return _("Reached step %(step)s (%(label)s) of %(funnel)s") % values


def register() -> None:
    register_source(Source("funnels/results", parse, step_people, step_title))
