"""Reads of the User analysis tab: one row of metrics per CRM user, a user's page, filter-set results.
Every figure on its pages, in its API and in its CSV exports comes from these functions; each takes the
insight's query object (``useranalysis.queries``) and reads rollups only."""

from useranalysis.selectors.filter_sets import FilterSetResult, GroupResult, filter_set_result
from useranalysis.selectors.user_page import (
    features_of_user,
    user_daily_activity,
    user_events,
    user_row,
    user_sessions,
)
from useranalysis.selectors.users import UserRow, can_defer, sort_rows, user_rows, user_rows_complete

__all__ = [
    "FilterSetResult",
    "GroupResult",
    "UserRow",
    "can_defer",
    "features_of_user",
    "filter_set_result",
    "sort_rows",
    "user_daily_activity",
    "user_events",
    "user_row",
    "user_rows",
    "user_rows_complete",
    "user_sessions",
]
