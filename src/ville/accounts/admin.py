"""What staff see in the admin site (`/<lang>/gestion/`, behind TOTP): accounts and
roles, the territory (read-mostly), the audit trail (read-only), lockouts and devices."""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt
from django.contrib import admin
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from ville.accounts.admin_site import admin_site
from ville.accounts.models import Helper, Household, HouseholdMember, ServiceRole, User
from ville.audit.models import AuditEvent
from ville.territory.models import Address, Authority, District, School, Service, Street


class NoAddDeleteMixin:
    """Rows are created and erased by services (which audit them), not by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceRoleInline(admin.TabularInline):
    model = ServiceRole
    extra = 0
    autocomplete_fields = ["service"]
    fields = ["service", "role"]


@admin.register(User, site=admin_site)
class UserAdmin(NoAddDeleteMixin, admin.ModelAdmin):
    list_display = [
        "email",
        "first_name",
        "last_name",
        "is_active",
        "is_staff",
        "email_verified_at",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "preferred_language"]
    search_fields = ["email", "first_name", "last_name"]
    ordering = ["last_name", "first_name", "email"]
    # The password hash is never shown, not even read-only.
    fields = [
        "email",
        "first_name",
        "last_name",
        "birth_date",
        "phone",
        "address",
        "preferred_language",
        "household",
        "email_verified_at",
        "is_active",
        "is_staff",
        "is_superuser",
        "groups",
        "last_login",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["email_verified_at", "last_login", "created_at", "updated_at"]
    raw_id_fields = ["address", "household"]
    filter_horizontal = ["groups"]
    inlines = [ServiceRoleInline]


class HouseholdMemberInline(admin.TabularInline):
    model = HouseholdMember
    extra = 0
    fields = ["relation", "first_name", "last_name", "birth_date", "school", "user"]
    raw_id_fields = ["school", "user"]


@admin.register(Household, site=admin_site)
class HouseholdAdmin(NoAddDeleteMixin, admin.ModelAdmin):
    list_display = ["id", "created_at"]
    search_fields = ["adults__email", "adults__last_name", "members__last_name"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [HouseholdMemberInline]


@admin.register(HouseholdMember, site=admin_site)
class HouseholdMemberAdmin(NoAddDeleteMixin, admin.ModelAdmin):
    list_display = ["first_name", "last_name", "relation", "birth_date", "school"]
    list_filter = ["relation"]
    search_fields = ["first_name", "last_name"]
    raw_id_fields = ["household", "school", "user"]
    list_select_related = ["school"]


@admin.register(ServiceRole, site=admin_site)
class ServiceRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "service", "role"]
    list_filter = ["role", "service"]
    search_fields = ["user__email", "user__last_name", "service__code"]
    autocomplete_fields = ["user", "service"]
    list_select_related = ["user", "service"]


@admin.register(Helper, site=admin_site)
class HelperAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation"]
    search_fields = ["user__email", "user__last_name", "organisation"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


# --- Territory: loaded from open data, corrected here at most --------------------------


@admin.register(Authority, site=admin_site)
class AuthorityAdmin(NoAddDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "insee_code", "parent"]
    list_filter = ["kind"]
    search_fields = ["name", "code", "insee_code"]
    readonly_fields = ["code", "kind", "parent", "created_at", "updated_at"]


@admin.register(District, site=admin_site)
class DistrictAdmin(NoAddDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "authority"]
    list_filter = ["authority"]
    search_fields = ["name", "code"]
    readonly_fields = ["authority", "code", "geometry", "created_at", "updated_at"]


@admin.register(Service, site=admin_site)
class ServiceAdmin(NoAddDeleteMixin, admin.ModelAdmin):
    list_display = ["code", "authority", "email", "phone"]
    list_filter = ["authority"]
    search_fields = ["code", "email"]
    readonly_fields = ["code", "authority", "created_at", "updated_at"]


@admin.register(Street, site=admin_site)
class StreetAdmin(NoAddDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "postcode", "authority"]
    list_filter = ["authority"]
    search_fields = ["name", "search_name"]
    readonly_fields = ["authority", "search_name", "created_at", "updated_at"]


@admin.register(Address, site=admin_site)
class AddressAdmin(NoAddDeleteMixin, admin.ModelAdmin):
    list_display = ["label", "postcode", "district"]
    search_fields = ["label", "search_label", "ban_id"]
    readonly_fields = ["ban_id", "street", "search_label", "created_at", "updated_at"]
    raw_id_fields = ["district"]
    list_select_related = ["district"]


@admin.register(School, site=admin_site)
class SchoolAdmin(NoAddDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "level", "authority"]
    list_filter = ["level", "authority"]
    search_fields = ["name", "code"]
    readonly_fields = ["code", "authority", "created_at", "updated_at"]
    raw_id_fields = ["address"]


# --- Security --------------------------------------------------------------------------


@admin.register(AuditEvent, site=admin_site)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only and hash-chained."""

    list_display = ["seq", "created_at", "category", "action", "actor_label", "ip"]
    list_filter = ["category", "action"]
    search_fields = ["actor_label", "action", "=subject_id", "=actor_id"]
    date_hierarchy = "created_at"
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccessAttempt, site=admin_site)
class AccessAttemptAdmin(admin.ModelAdmin):
    """Current lockouts; deleting a row unlocks that address and client."""

    list_display = ["attempt_time", "username", "ip_address", "failures_since_start"]
    search_fields = ["username", "ip_address"]
    fields = readonly_fields = (
        "attempt_time",
        "username",
        "ip_address",
        "user_agent",
        "failures_since_start",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TOTPDevice, site=admin_site)
class TOTPDeviceAdmin(admin.ModelAdmin):
    """Deleting a lost phone's device makes the person enrol again at next login. The
    secret key is never shown."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__email", "user__last_name"]
    fields = readonly_fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_select_related = ["user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
