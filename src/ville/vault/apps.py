from django.apps import AppConfig


class VaultConfig(AppConfig):
    """ "Dites-le nous une fois": what the administration already knows, with provenance."""

    name = "ville.vault"
    label = "vault"
