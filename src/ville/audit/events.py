"""One small function per audit event type, called explicitly by the services.

from ville.audit import events as audit
audit.record_login(request=request, user=user)
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ville.audit.models import AuditEvent
from ville.audit.services import audit_record

SECURITY = AuditEvent.Category.SECURITY


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record_login(*, request: HttpRequest | None, user: Any, method: str = "password") -> AuditEvent:
    return audit_record(
        action="login",
        category=SECURITY,
        actor=user,
        subject_id=user.pk,
        ip=client_ip(request),
        data={"method": method},
    )


def record_login_failed(*, request: HttpRequest | None, email: str, reason: str) -> AuditEvent:
    return audit_record(
        action="login_failed",
        category=SECURITY,
        actor_label=email[:254],
        ip=client_ip(request),
        data={"reason": reason},
    )


def record_lockout(*, request: HttpRequest | None, email: str) -> AuditEvent:
    return audit_record(
        action="login_locked_out",
        category=SECURITY,
        actor_label=email[:254],
        ip=client_ip(request),
    )


def record_logout(*, request: HttpRequest | None, user: Any) -> AuditEvent:
    return audit_record(
        action="logout", category=SECURITY, actor=user, subject_id=user.pk, ip=client_ip(request)
    )


def record_signup(*, request: HttpRequest | None, user: Any) -> AuditEvent:
    return audit_record(
        action="signup", category=SECURITY, actor=user, subject_id=user.pk, ip=client_ip(request)
    )


def record_email_verified(*, request: HttpRequest | None, user: Any) -> AuditEvent:
    return audit_record(
        action="email_verified",
        category=SECURITY,
        actor=user,
        subject_id=user.pk,
        ip=client_ip(request),
    )


def record_password_changed(*, request: HttpRequest | None, user: Any, how: str) -> AuditEvent:
    return audit_record(
        action="password_changed",
        category=SECURITY,
        actor=user,
        subject_id=user.pk,
        ip=client_ip(request),
        data={"how": how},
    )


def record_password_reset_requested(*, request: HttpRequest | None, email: str) -> AuditEvent:
    return audit_record(
        action="password_reset_requested",
        category=SECURITY,
        actor_label=email[:254],
        ip=client_ip(request),
    )


def record_mfa_enrolled(*, request: HttpRequest | None, user: Any) -> AuditEvent:
    return audit_record(
        action="mfa_enrolled",
        category=SECURITY,
        actor=user,
        subject_id=user.pk,
        ip=client_ip(request),
    )


def record_mfa_failed(*, request: HttpRequest | None, user: Any) -> AuditEvent:
    return audit_record(
        action="mfa_failed",
        category=SECURITY,
        actor=user,
        subject_id=user.pk,
        ip=client_ip(request),
    )


def record_profile_updated(
    *, request: HttpRequest | None, actor: Any, subject: Any, fields: list[str]
) -> AuditEvent:
    return audit_record(
        action="profile_updated",
        actor=actor,
        subject_id=subject.pk,
        target_type="user",
        target_id=str(subject.pk),
        ip=client_ip(request),
        data={"fields": sorted(fields)},
    )


def record_household_changed(
    *,
    request: HttpRequest | None,
    actor: Any,
    subject: Any,
    change: str,
    member_id: Any = None,
    fields: list[str] | None = None,
) -> AuditEvent:
    """`change` is one of: member_added, member_updated, member_removed."""
    return audit_record(
        action=f"household_{change}",
        actor=actor,
        subject_id=subject.pk,
        target_type="household_member",
        target_id=str(member_id or ""),
        ip=client_ip(request),
        data={"fields": sorted(fields or [])},
    )


def record_citizen_record_viewed(
    *, request: HttpRequest | None, actor: Any, subject: Any, reason: str = ""
) -> AuditEvent:
    """An agent, helper or administrator read a citizen's record."""
    return audit_record(
        action="citizen_record_viewed",
        actor=actor,
        subject_id=subject.pk,
        target_type="user",
        target_id=str(subject.pk),
        ip=client_ip(request),
        data={"reason": reason},
    )


# --- procedures: applications -------------------------------------------------------------


def _on_application(
    action: str,
    *,
    request: HttpRequest | None,
    actor: Any,
    application: Any,
    actor_label: str = "",
    **extra: Any,
) -> AuditEvent:
    """What every application event records: who, whose application, which one."""
    return audit_record(
        action=action,
        actor=actor,
        actor_label=actor_label,
        subject_id=application.citizen_id,
        target_type="application",
        target_id=str(application.pk),
        ip=client_ip(request),
        data={
            "procedure": application.procedure.slug,
            "tracking_code": application.tracking_code or "",
            **extra,
        },
    )


def record_application_started_for(
    *, request: HttpRequest | None, actor: Any, application: Any
) -> AuditEvent:
    """An agent started an application on a citizen's behalf (counter or phone)."""
    return _on_application(
        "application_started_for",
        request=request,
        actor=actor,
        application=application,
        channel=application.channel,
    )


def record_application_submitted(
    *, request: HttpRequest | None, actor: Any, application: Any
) -> AuditEvent:
    return _on_application(
        "application_submitted",
        request=request,
        actor=actor,
        application=application,
        state=application.state,
        channel=application.channel,
    )


def record_application_transition(
    *,
    request: HttpRequest | None,
    actor: Any,
    application: Any,
    transition: str,
    from_state: str,
    to_state: str,
) -> AuditEvent:
    return _on_application(
        "application_transition",
        request=request,
        actor=actor,
        application=application,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
    )


def record_application_auto_decided(
    *, application: Any, from_state: str, to_state: str
) -> AuditEvent:
    """The deadline passed with no decision: silence decided ("silence vaut accord")."""
    return _on_application(
        "application_auto_decided",
        request=None,
        actor=None,
        actor_label="system",
        application=application,
        from_state=from_state,
        to_state=to_state,
    )


def record_application_viewed(
    *, request: HttpRequest | None, actor: Any, application: Any
) -> AuditEvent:
    """An agent opened a citizen's application."""
    return _on_application(
        "application_viewed", request=request, actor=actor, application=application
    )


def record_application_assigned(
    *, request: HttpRequest | None, actor: Any, application: Any, assignee: Any
) -> AuditEvent:
    return _on_application(
        "application_assigned",
        request=request,
        actor=actor,
        application=application,
        assignee=str(assignee.pk) if assignee is not None else None,
    )


def record_attachment_downloaded(
    *, request: HttpRequest | None, actor: Any, attachment: Any
) -> AuditEvent:
    """An agent opened a document a citizen gave."""
    return audit_record(
        action="attachment_downloaded",
        actor=actor,
        subject_id=attachment.application.citizen_id,
        target_type="attachment",
        target_id=str(attachment.pk),
        ip=client_ip(request),
        data={"application": str(attachment.application_id), "sha256": attachment.sha256},
    )


def record_attachment_verified(
    *, request: HttpRequest | None, actor: Any, attachment: Any
) -> AuditEvent:
    """An agent checked a document: the platform will not ask for it again."""
    return audit_record(
        action="attachment_verified",
        actor=actor,
        subject_id=attachment.application.citizen_id,
        target_type="attachment",
        target_id=str(attachment.pk),
        ip=client_ip(request),
        data={
            "application": str(attachment.application_id),
            "field": attachment.field_name,
            "sha256": attachment.sha256,
        },
    )
