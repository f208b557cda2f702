"""Which way do people go through the CRM (docs/metrics.md#paths): the sessions that start in the
period, each as the path of its events' features (or feature·actions), as nodes per step and edges
between consecutive steps.

The sessions come from their rollup (``Session``: who, from when to when, by the workspace's session
rule); their events are read once, in (user, time, id) order, and matched to them. This reads raw
events, like funnels: a path needs every event of its session in order."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from itertools import groupby
from typing import TYPE_CHECKING

from django.db.models import Max

from events.filters import crm_user_condition
from events.models import CrmUser, Event, Feature, Session
from events.streams import EpochMicroseconds, epoch_us, stream_rows
from tenancy.scoping import in_workspace

LOGOUT = "logout"  # the action that ends a session (docs/metrics.md#the-session-rule)

if TYPE_CHECKING:  # the selectors take the queries; parsing a query may call a selector
    from behaviour.queries import PathsQuery


@dataclass(frozen=True)
class PathNode:
    step: int  # from 1
    node: str
    sessions: int
    dropoff: int  # sessions whose path ends here


@dataclass(frozen=True)
class PathEdge:
    step: int  # the source's step; the target is at step + 1
    source: str
    target: str
    sessions: int


@dataclass(frozen=True)
class PathReport:
    sessions: int
    nodes: list[PathNode]
    edges: list[PathEdge]  # the ``limit`` edges with the most sessions


def session_paths(query: PathsQuery) -> list[list[str]]:
    """Each counted session's path (see ``user_paths``)."""
    return [path for _user_id, path in user_paths(query)]


def user_paths(query: PathsQuery) -> list[tuple[int, list[str]]]:
    """Each counted session's path: its nodes in time order (ties by id), excluded nodes dropped,
    consecutive repeats collapsed, from the start point to the end point, cut to ``steps`` nodes.

    The sessions are cut here by the session rule (docs/metrics.md#the-session-rule) from the events
    of the period, read from one timeout before it (so that a session already running when the
    period starts is seen to start before it) to the end of the last session that starts in it
    (``Session``, the rollup, says where). Matching events to the rollup's sessions by time would
    be wrong at a logout followed by an event in the same instant."""
    workspace, period = query.workspace, query.period
    sessions = in_workspace(Session, workspace).filter(day__range=(period.start, period.end))
    condition = crm_user_condition(workspace, query.filters)
    if condition is not None:
        sessions = sessions.filter(condition)
    last = sessions.aggregate(last=Max("ended_at"))["last"]
    if last is None:
        return []
    timeout = timedelta(minutes=workspace.session_timeout_minutes)
    events = in_workspace(Event, workspace).filter(occurred_at__gte=period.start_utc - timeout, occurred_at__lte=last)
    if condition is not None:
        events = events.filter(condition)
    # Times as integer microseconds and features as ids (their keys looked up once), read through a
    # plain cursor: hundreds of thousands of rows load several times faster than as aware datetimes
    # joined to the feature key and passed through the ORM's converters.
    rows = (
        events.annotate(at_us=EpochMicroseconds("occurred_at"))
        .order_by("crm_user_id", "occurred_at", "id")
        .values_list("crm_user_id", "at_us", "feature_id", "action")
    )
    keys = dict(in_workspace(Feature, workspace).values_list("id", "key"))
    with_action = query.node == "feature_action"
    names: dict[tuple[int, str], str] = {}  # (feature id, action) → node name
    start, end = epoch_us(period.start_utc), epoch_us(period.end_utc)
    gap = timeout // timedelta(microseconds=1)
    paths: list[tuple[int, list[str]]] = []
    user, previous = 0, start  # no user has id 0; ``previous`` is compared for the same user only
    ended = counted = False
    nodes: list[str] = []
    for user_id, moment, feature_id, action in stream_rows(rows):
        if user_id != user or ended or moment - previous > gap:
            if counted and nodes:
                paths.append((user, nodes))
            counted, nodes = start <= moment < end, []
        if counted:
            name = names.get((feature_id, action))
            if name is None:
                key = keys[feature_id]
                name = names[(feature_id, action)] = f"{key}/{action}" if with_action else key
            if not nodes or nodes[-1] != name:  # repeats collapse (before or after exclusions alike)
                nodes.append(name)
        user, previous, ended = user_id, moment, action == LOGOUT
    if counted and nodes:
        paths.append((user, nodes))
    shaped = ((user_id, _shape(nodes, query)) for user_id, nodes in paths)
    return [(user_id, path) for user_id, path in shaped if path]


def _excluded(node: str, exclude: list[str]) -> bool:
    return any(node == item or node.startswith(item + "/") for item in exclude)


def _shape(nodes: list[str], query: PathsQuery) -> list[str]:
    path = nodes
    if query.exclude:
        path = [node for node, _run in groupby(n for n in nodes if not _excluded(n, query.exclude))]
    if query.start_point:
        if query.start_point not in path:
            return []
        path = path[path.index(query.start_point) :]
    if query.end_point:
        after = 1 if query.start_point else 0
        if query.end_point not in path[after:]:
            return []
        path = path[: path.index(query.end_point, after) + 1]
    return path[: query.steps]


def paths(query: PathsQuery) -> PathReport:
    node_counts: Counter[tuple[int, str]] = Counter()
    dropoffs: Counter[tuple[int, str]] = Counter()
    edge_counts: Counter[tuple[int, str, str]] = Counter()
    counted = session_paths(query)
    for path in counted:
        for step, node in enumerate(path, start=1):
            node_counts[(step, node)] += 1
            if step < len(path):
                edge_counts[(step, node, path[step])] += 1
        dropoffs[(len(path), path[-1])] += 1
    nodes = [
        PathNode(step, node, n, dropoffs[(step, node)])
        for (step, node), n in sorted(node_counts.items(), key=lambda item: (item[0][0], -item[1], item[0][1]))
    ]
    edges = [
        PathEdge(step, source, target, n)
        for (step, source, target), n in sorted(edge_counts.items(), key=lambda item: (-item[1], *item[0]))
    ][: query.limit]
    return PathReport(len(counted), nodes, edges)


@dataclass(frozen=True)
class PathUser:
    external_id: str
    name: str
    email: str
    sessions: int  # of the user's sessions, those behind the node or edge


def path_users(query: PathsQuery, step: int, node: str, target: str = "") -> list[PathUser]:
    """The users behind a node (``node`` at ``step``) or an edge (then ``target`` at ``step`` + 1):
    the same sessions the node's or edge's figure counts; most sessions first."""
    counts: Counter[int] = Counter()
    for user_id, path in user_paths(query):
        if len(path) >= step and path[step - 1] == node and (not target or (len(path) > step and path[step] == target)):
            counts[user_id] += 1
    users = {u.pk: u for u in in_workspace(CrmUser, query.workspace).filter(pk__in=list(counts))}
    found = [PathUser(users[pk].external_id, users[pk].name, users[pk].email, n) for pk, n in counts.items()]
    return sorted(found, key=lambda u: (-u.sessions, u.external_id))
