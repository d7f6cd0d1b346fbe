from django.apps import AppConfig


class ProceduresConfig(AppConfig):
    """Online procedures: definitions, applications, workflow, messages, back office."""

    name = "ville.procedures"
    label = "procedures"
