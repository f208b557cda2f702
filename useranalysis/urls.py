"""Pages of the User analysis tab. The name ``users-tab`` enables the tab in the tab bar.

The filter-set and chart routes come before a user's page, whose external id may hold any character
(``@``, ``.``, ``/``): an external id that is exactly ``filter-sets…`` is shadowed by them.
"""

from django.urls import URLPattern, URLResolver, path, re_path

from useranalysis import charts, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("w/<slug:slug>/users/", views.users_tab, name="users-tab"),
    path("w/<slug:slug>/people/", views.people_page, name="people"),
    path("w/<slug:slug>/users/filter-sets/", views.filter_sets, name="users-filter-sets"),
    path("w/<slug:slug>/users/filter-sets/new/", views.filter_set_new, name="users-filter-set-new"),
    path(
        "w/<slug:slug>/users/filter-sets/from-users/", views.filter_set_from_users, name="users-filter-set-from-users"
    ),
    re_path(
        r"^w/(?P<slug>[-a-zA-Z0-9_]+)/users/filter-sets/(?P<table>users|groups)\.csv$",
        views.filter_set_csv,
        name="users-filter-set-csv",
    ),
    path("w/<slug:slug>/users/filter-sets/<int:pk>/", views.filter_set_page, name="users-filter-set"),
    path("w/<slug:slug>/users/filter-sets/<int:pk>/delete/", views.filter_set_delete, name="users-filter-set-delete"),
    path(
        "w/<slug:slug>/charts/user-activity.json",
        charts.UserDailyActivityChart.as_view(),
        name="users-chart-daily-activity",
    ),
    path("w/<slug:slug>/users/<path:external_id>/", views.user_detail, name="users-detail"),
]
