from django.urls import path

from ville.territory import views

app_name = "territory"

urlpatterns = [
    path("adresses/", views.address_search_view, name="address_search"),
]
