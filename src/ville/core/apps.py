from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Cross-cutting pieces: layout, errors, API root, commands that run the platform."""

    name = "ville.core"
    label = "core"
