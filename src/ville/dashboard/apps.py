"""The personal space app: the card registry, its providers, the page and the API."""

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The personal space: cards assembled from independent providers."""

    name = "ville.dashboard"
    label = "dashboard"

    def ready(self) -> None:
        # Registers this app's card providers; other apps import their own in ready().
        from ville.dashboard import providers  # noqa: F401
