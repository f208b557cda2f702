"""One row of metrics per CRM user (docs/metrics.md#the-user-table), for the users table, a user's
page and a filter set's matched users.

Every figure comes from the rollups, read at the coarsest grain that answers it: the UserMonth bits
for attendance, month totals plus the fewest UserDay rows for sessions and interactions, the
UserFeatureMonth bits for features used. One grouped query per metric for the whole workspace, so the
cost follows the number of users and months, not the number of events.
"""

from __future__ import annotations

from core.people import UserRow, can_defer, rows_of, sort_rows, user_rows_complete
from events.filters import filter_crm_users
from events.models import CrmUser
from events.selectors import crm_users_matching
from tenancy.scoping import in_workspace
from useranalysis.queries import UsersQuery

__all__ = ["UserRow", "can_defer", "rows_of", "sort_rows", "user_rows", "user_rows_complete"]


def user_rows(query: UsersQuery, *, defer: bool = False) -> list[UserRow]:
    """Every CRM user of the workspace (whatever their status or registration), narrowed by the user
    filters and the search, with their metrics for the period, by external id."""
    users = in_workspace(CrmUser, query.workspace)
    if query.search:  # the same match as the ``users`` endpoint's (docs/api.md#users-table)
        users = crm_users_matching(users, query.search)
    return rows_of(
        query, filter_crm_users(users, query.filters), subset=bool(query.search or query.filters), defer=defer
    )
