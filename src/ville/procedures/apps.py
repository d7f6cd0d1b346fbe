from django.apps import AppConfig


class ProceduresConfig(AppConfig):
    """Online procedures: definitions, applications, workflow, messages, back office."""

    name = "ville.procedures"
    label = "procedures"

    def ready(self) -> None:
        from ville.core.scheduler import register_job

        # The "My applications" card of the personal space registers itself on import.
        from ville.procedures import providers  # noqa: F401

        # Periodic jobs run by `ville scheduler` (dotted paths: imported when they run).
        register_job(
            "procedures.deliver_webhooks",
            every_seconds=30,
            func="ville.procedures.webhooks.outbox_deliver_due",
        )
        # "Silence vaut accord / refus": decisions due when a deadline passes.
        register_job(
            "procedures.apply_deadlines",
            every_seconds=300,
            func="ville.procedures.services.applications_apply_silence",
        )
