from django.urls import path

from views_home.api import views

urlpatterns = [
    path("home/summary", views.HomeSummaryView.as_view(), name="api-home-summary"),
    path("home/weekly-interactions", views.WeeklyInteractionsView.as_view(), name="api-home-weekly"),
    path("home/attendance-calendar", views.AttendanceCalendarView.as_view(), name="api-home-calendar"),
    path("home/top-users", views.TopUsersView.as_view(), name="api-home-top-users"),
    path("activity/features", views.ActivityFeaturesView.as_view(), name="api-activity-features"),
    path("trends", views.TrendsView.as_view(), name="api-trends"),
    path("hub/popularity", views.HubPopularityView.as_view(), name="api-hub-popularity"),
    path("hub/frequency", views.HubFrequencyView.as_view(), name="api-hub-frequency"),
]
