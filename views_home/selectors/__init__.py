"""Reads of the Home, Activity, Trends and Hub tabs, one module per tab. Every figure on a page, in
the API and in CSV exports comes from these functions; each takes the insight's query object
(``views_home.queries``) and reads rollups only."""

from views_home.selectors.activity import DayValue, FeatureActivity, activity_features
from views_home.selectors.home import (
    DayCount,
    HomeSummary,
    Metric,
    TopUser,
    WeekCount,
    attendance_calendar,
    home_summary,
    scoped_users,
    top_users,
    user_days,
    weekly_interactions,
    weeks_period,
)
from views_home.selectors.hub import FeaturePopularity, FrequencyBucket, feature_frequency, feature_popularity
from views_home.selectors.trends import Measure, TrendPoint, TrendSeries, trend_series

__all__ = [
    "DayCount",
    "DayValue",
    "FeatureActivity",
    "FeaturePopularity",
    "FrequencyBucket",
    "HomeSummary",
    "Measure",
    "Metric",
    "TopUser",
    "TrendPoint",
    "TrendSeries",
    "WeekCount",
    "activity_features",
    "attendance_calendar",
    "feature_frequency",
    "feature_popularity",
    "home_summary",
    "scoped_users",
    "top_users",
    "trend_series",
    "user_days",
    "weekly_interactions",
    "weeks_period",
]
