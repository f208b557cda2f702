from django.urls import path

from views_home import views

urlpatterns = [
    path("", views.index, name="home"),
]
