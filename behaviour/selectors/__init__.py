"""Reads of the Behaviour tab; each takes its insight's query object (``behaviour.queries``) and reads
rollups (the user filters of the failure figures excepted: see ``failures``)."""

from behaviour.selectors.activity import EventSpec
from behaviour.selectors.anomalies import (
    Anomaly,
    Judgement,
    SeriesDay,
    anomalies,
    anomaly_series,
    daily_values,
    judge_series,
)
from behaviour.selectors.cohorts import (
    Cohort,
    LifecycleBucket,
    RetentionValue,
    Stickiness,
    lifecycle,
    retention,
    stickiness,
)
from behaviour.selectors.failures import (
    FailureReport,
    FeatureFailures,
    HeatmapCell,
    failures_by_feature,
    hour_heatmap,
)
from behaviour.selectors.paths import PathEdge, PathNode, PathReport, PathUser, path_users, paths, session_paths
from behaviour.selectors.quality import DataQuality, Finding, data_quality

__all__ = [
    "PathEdge",
    "PathNode",
    "PathReport",
    "PathUser",
    "path_users",
    "paths",
    "session_paths",
    "DataQuality",
    "Finding",
    "data_quality",
    "Anomaly",
    "Judgement",
    "SeriesDay",
    "anomaly_series",
    "anomalies",
    "daily_values",
    "judge_series",
    "Cohort",
    "EventSpec",
    "FailureReport",
    "FeatureFailures",
    "HeatmapCell",
    "LifecycleBucket",
    "RetentionValue",
    "Stickiness",
    "failures_by_feature",
    "hour_heatmap",
    "lifecycle",
    "retention",
    "stickiness",
]
