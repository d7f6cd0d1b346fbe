"""What staff see of procedures in the admin site: webhook endpoints (secret write-only),
the outbox and its delivery log (read-only), procedures and applications (read-mostly)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ville.accounts.admin_site import admin_site
from ville.procedures.models import (
    Application,
    OutboxEvent,
    Procedure,
    ProcedureVersion,
    WebhookAttempt,
    WebhookEndpoint,
)

MIN_SECRET_LENGTH = 32


class ReadOnlyMixin:
    """Rows written by services (loader, workflow, delivery), never by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _pretty_json(value: Any) -> str:
    return format_html(
        "<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    )


# --- Webhooks ----------------------------------------------------------------------------


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    # Write-only: the stored secret is never sent back to the browser.
    secret = forms.CharField(
        label=_("Shared secret"),
        required=False,
        strip=True,
        min_length=MIN_SECRET_LENGTH,
        max_length=128,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "At least 32 characters, given to the receiving system to check signatures. "
            "It is never shown again; leave empty to keep the current one."
        ),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["service", "url", "secret", "is_active"]

    def clean_secret(self) -> str:
        secret: str = self.cleaned_data.get("secret") or ""
        if secret:
            return secret
        if not self.instance._state.adding and self.instance.secret:
            # Empty means "unchanged": keep the stored value the form did not show.
            return self.instance.secret
        raise forms.ValidationError(_("A new endpoint needs a shared secret."))


@admin.register(WebhookEndpoint, site=admin_site)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "service", "is_active", "created_at"]
    list_filter = ["is_active", "service"]
    search_fields = ["url", "service__code"]
    list_select_related = ["service"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = ("created_at", "status_code", "error", "duration_ms")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxEvent, site=admin_site)
class OutboxEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The delivery log: what is owed, to whom, how each try went."""

    list_display = [
        "created_at",
        "event_type",
        "endpoint",
        "application",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
    ]
    list_filter = ["status", "event_type", "endpoint__service"]
    search_fields = ["=id", "=application__tracking_code", "endpoint__url"]
    list_select_related = ["endpoint", "application"]
    date_hierarchy = "created_at"
    actions = None
    fields = readonly_fields = (
        "id",
        "endpoint",
        "application",
        "event_type",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
        "body",
        "created_at",
    )
    inlines = [WebhookAttemptInline]

    @admin.display(description=_("Body"))
    def body(self, obj: OutboxEvent) -> str:
        return _pretty_json(obj.payload)


@admin.register(WebhookAttempt, site=admin_site)
class WebhookAttemptAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "event", "status_code", "error", "duration_ms"]
    list_filter = ["status_code", "event__endpoint__service"]
    search_fields = ["=event__id", "error"]
    list_select_related = ["event"]
    date_hierarchy = "created_at"
    actions = None


# --- Procedures: loaded from catalogue/ YAML; only switching one off happens here -------


class ProcedureVersionInline(admin.TabularInline):
    model = ProcedureVersion
    extra = 0
    can_delete = False
    fields = readonly_fields = ("number", "checksum", "created_at")
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Procedure, site=admin_site)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = ["slug", "service", "current_version", "is_active"]
    list_filter = ["is_active", "service"]
    search_fields = ["slug"]
    list_select_related = ["service", "current_version"]
    fields = ["slug", "service", "current_version", "is_active", "created_at", "updated_at"]
    readonly_fields = ["slug", "service", "current_version", "created_at", "updated_at"]
    inlines = [ProcedureVersionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProcedureVersion, site=admin_site)
class ProcedureVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["procedure", "number", "checksum", "created_at"]
    list_filter = ["procedure"]
    list_select_related = ["procedure"]
    fields = readonly_fields = ("procedure", "number", "checksum", "definition_json", "created_at")

    @admin.display(description=_("Definition"))
    def definition_json(self, obj: ProcedureVersion) -> str:
        return _pretty_json(obj.definition)


@admin.register(Application, site=admin_site)
class ApplicationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Where an application stands, for support. Its content (form data, messages, files)
    is read in the agents' back office, where every read is audited, not here."""

    list_display = [
        "tracking_code",
        "procedure",
        "service",
        "state",
        "channel",
        "submitted_at",
        "sla_due_at",
        "decided_at",
    ]
    list_filter = ["state", "channel", "service", "procedure"]
    search_fields = ["=tracking_code", "=id"]
    list_select_related = ["procedure", "service"]
    date_hierarchy = "created_at"
    actions = None
    fields = readonly_fields = (
        "id",
        "tracking_code",
        "procedure",
        "version",
        "service",
        "state",
        "channel",
        "step",
        "submitted_at",
        "sla_due_at",
        "silence_due_at",
        "decided_at",
        "valid_until",
        "lock_version",
        "created_at",
        "updated_at",
    )
