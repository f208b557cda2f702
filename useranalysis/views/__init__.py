"""Pages of the User analysis tab (docs/metrics.md#user-analysis): the users table and a user's page
(``views.users``), the saved filter sets and their builder (``views.filter_sets``)."""

from useranalysis.views.filter_sets import (
    filter_set_csv,
    filter_set_delete,
    filter_set_from_users,
    filter_set_new,
    filter_set_page,
    filter_sets,
)
from useranalysis.views.people import people_page
from useranalysis.views.users import user_detail, users_tab

__all__ = [
    "filter_set_csv",
    "filter_set_delete",
    "filter_set_from_users",
    "filter_set_new",
    "filter_set_page",
    "filter_sets",
    "people_page",
    "user_detail",
    "users_tab",
]
