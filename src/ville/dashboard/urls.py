from django.urls import path

from ville.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard_view, name="home"),
]
