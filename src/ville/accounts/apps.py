from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Citizens, households, agents and helpers; login, MFA and profiles."""

    name = "ville.accounts"
    label = "accounts"
