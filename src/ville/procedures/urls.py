"""The procedures pages: each audience's module declares its own URL list."""

from ville.procedures.views import agent, citizen

app_name = "procedures"

urlpatterns = [*citizen.urlpatterns, *agent.urlpatterns]
