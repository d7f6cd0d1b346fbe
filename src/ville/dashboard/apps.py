from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The personal space: cards assembled from independent providers."""

    name = "ville.dashboard"
    label = "dashboard"
