"""The territory: who governs what, where people live, which services exist."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ville.core.models import TimeStampedModel


class Authority(TimeStampedModel):
    """The metropolis, a member commune, or an arrondissement of a commune."""

    class Kind(models.TextChoices):
        METROPOLIS = "metropolis", _("Metropolis")
        COMMUNE = "commune", _("Commune")
        ARRONDISSEMENT = "arrondissement", _("Arrondissement")

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    insee_code = models.CharField(max_length=5, blank=True, db_index=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["kind", "name"]
        verbose_name_plural = "authorities"

    def __str__(self) -> str:
        return self.name


class District(TimeStampedModel):
    """A quartier of a commune, with an approximate polygon (GeoJSON, lon/lat)."""

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="districts")
    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    # GeoJSON Polygon geometry: {"type": "Polygon", "coordinates": [[[lon, lat], ...]]}
    geometry = models.JSONField()

    class Meta:
        ordering = ["authority__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "code"], name="district_unique_code")
        ]

    def __str__(self) -> str:
        return self.name


class Service(TimeStampedModel):
    """A public service (crèches, roads, civil status…) owned by one authority."""

    code = models.SlugField(max_length=64, unique=True)
    # Translations as {"fr": "...", "en": "...", ...}; French is the fallback.
    name = models.JSONField()
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="services")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Street(TimeStampedModel):
    """A named way of a commune (BAN "voie")."""

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="streets")
    name = models.CharField(max_length=200)
    # Lower case, accents and punctuation removed: what searches compare against.
    search_name = models.CharField(max_length=200, db_index=True)
    postcode = models.CharField(max_length=5)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "name"], name="street_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Address(TimeStampedModel):
    """One BAN-style address: a number on a street, with WGS84 coordinates."""

    ban_id = models.CharField(max_length=40, unique=True)
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="addresses")
    number = models.PositiveIntegerField()
    suffix = models.CharField(max_length=5, blank=True)  # bis, ter…
    postcode = models.CharField(max_length=5)
    lon = models.FloatField()
    lat = models.FloatField()
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.SET_NULL, related_name="addresses"
    )
    label = models.CharField(max_length=300)
    search_label = models.CharField(max_length=300, db_index=True)

    class Meta:
        ordering = ["street__name", "number", "suffix"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["street", "number", "suffix"], name="address_unique_number"
            )
        ]

    def __str__(self) -> str:
        return self.label


class School(TimeStampedModel):
    """A public school of a commune (maternelle, élémentaire or primaire)."""

    class Level(models.TextChoices):
        MATERNELLE = "maternelle", _("Nursery school (maternelle)")
        ELEMENTAIRE = "elementaire", _("Primary school (élémentaire)")
        PRIMAIRE = "primaire", _("Nursery and primary school")

    code = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    level = models.CharField(max_length=20, choices=Level.choices)
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="schools")
    address = models.ForeignKey(
        Address, null=True, blank=True, on_delete=models.SET_NULL, related_name="schools"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
