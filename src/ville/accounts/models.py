"""People: citizens and their households, agents with roles per service, helpers."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from ville.core.models import TimeStampedModel


def age_on(birth_date: date | None, day: date | None = None) -> int | None:
    """Full years lived on `day` (today in the platform's time zone by default)."""
    if birth_date is None:
        return None
    day = day or timezone.localdate()
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class Household(TimeStampedModel):
    """The people who live together: one or two adults with accounts, and children."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        ordering = ["created_at"]


class User(AbstractBaseUser, PermissionsMixin, TimeStampedModel):
    """Anyone who logs in: a citizen, an agent, a helper or an administrator."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(_("email address"), max_length=254, unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    address = models.ForeignKey(
        "territory.Address",
        verbose_name=_("address"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="residents",
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=5, choices=settings.LANGUAGES, default="fr"
    )
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="adults"
    )
    email_verified_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["last_name", "first_name", "email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def age(self) -> int | None:
        return age_on(self.birth_date)

    @property
    def requires_mfa(self) -> bool:
        """Agents, helpers and staff must pass TOTP; citizens may opt in."""
        return bool(self.is_staff or self.is_superuser or self.is_agent or hasattr(self, "helper"))

    @cached_property
    def is_agent(self) -> bool:
        """Has a role in at least one service. Cached on the instance: the MFA middleware
        and the navigation ask on every page of the same request."""
        return self.service_roles.exists()


class HouseholdMember(TimeStampedModel):
    """A partner or a child declared in a household (an adult with an account links it)."""

    class Relation(models.TextChoices):
        PARTNER = "partner", _("Partner")
        CHILD = "child", _("Child")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    relation = models.CharField(_("relation"), max_length=10, choices=Relation.choices)
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    school = models.ForeignKey(
        "territory.School",
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pupils",
    )
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="membership"
    )

    class Meta:
        ordering = ["relation", "birth_date", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(relation="partner"),
                name="household_one_partner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def age(self) -> int | None:
        return age_on(self.birth_date)


class ServiceRole(TimeStampedModel):
    """What an agent may do in one service (least privilege: one row per service)."""

    class Role(models.TextChoices):
        AGENT = "agent", _("Agent")
        SUPERVISOR = "supervisor", _("Supervisor")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="service_roles")
    service = models.ForeignKey("territory.Service", on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)

    class Meta:
        ordering = ["service__code", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "service"], name="service_role_unique")
        ]


class Helper(TimeStampedModel):
    """A digital helper ("aidant numérique") who acts for citizens under a mandate."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="helper")
    organisation = models.CharField(max_length=200)

    class Meta:
        ordering = ["organisation"]
