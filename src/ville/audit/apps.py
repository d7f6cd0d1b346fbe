from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Append-only audit trail with a hash chain, and security events for the SOC."""

    name = "ville.audit"
    label = "audit"
