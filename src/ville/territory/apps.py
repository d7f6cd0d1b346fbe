from django.apps import AppConfig


class TerritoryConfig(AppConfig):
    """Authorities, districts, services, schools and the address table."""

    name = "ville.territory"
    label = "territory"
