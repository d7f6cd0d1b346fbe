from django.urls import path

from ville.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("conditions-utilisation/", views.terms, name="terms"),
]
