"""Loading the territory: what is there, and that loading twice writes nothing."""

from __future__ import annotations

import io
from itertools import combinations

import pytest
from django.core.management import call_command
from shapely.geometry import Point, shape

from ville.territory.models import Address, Authority, District, School, Service, Street
from ville.territory.services import territory_load
from ville.territory.text import normalize

pytestmark = pytest.mark.django_db

# Communes of shared/data/grand-lyon/chantiers_perturbants.csv (besides Lyon and Villeurbanne).
WORKS_COMMUNES = {
    "69259": "Vénissieux",
    "69256": "Vaulx-en-Velin",
    "69116": "Limonest",
    "69029": "Bron",
    "69091": "Givors",
    "69089": "Francheville",
    "69244": "Tassin-la-Demi-Lune",
    "69286": "Rillieux-la-Pape",
}
VILLEURBANNE_BBOX = (4.85, 45.75, 4.93, 45.795)  # lon/lat min, max


def test_counts(territory: dict[str, int]) -> None:
    assert territory["addresses"] >= 300
    assert territory["streets"] >= 40
    assert territory["districts"] >= 8
    assert territory["schools"] >= 12
    assert Address.objects.count() == territory["addresses"]
    assert Street.objects.count() == territory["streets"]
    assert territory["created"] == sum(
        territory[name]
        for name in ("authorities", "districts", "services", "streets", "addresses", "schools")
    )


def test_authorities(territory: dict[str, int]) -> None:
    metropolis = Authority.objects.get(code="metropole-lyon")
    assert metropolis.kind == Authority.Kind.METROPOLIS
    assert metropolis.name == "Métropole de Lyon"
    villeurbanne = Authority.objects.get(code="villeurbanne")
    assert (villeurbanne.insee_code, villeurbanne.parent) == ("69266", metropolis)
    lyon = Authority.objects.get(code="lyon")
    assert (lyon.insee_code, lyon.parent) == ("69123", metropolis)
    for insee, name in WORKS_COMMUNES.items():
        commune = Authority.objects.get(insee_code=insee)
        assert commune.name == name
        assert commune.kind == Authority.Kind.COMMUNE
        assert commune.parent == metropolis
    arrondissements = Authority.objects.filter(kind=Authority.Kind.ARRONDISSEMENT)
    assert sorted(arrondissements.values_list("code", "insee_code")) == [
        (f"lyon-{n}", f"6938{n}") for n in range(1, 10)
    ]
    assert {a.parent_id for a in arrondissements} == {lyon.pk}


def test_services(territory: dict[str, int]) -> None:
    assert Service.objects.get(code="creche").authority.code == "villeurbanne"
    assert Service.objects.get(code="voirie").authority.code == "metropole-lyon"
    owners = set(Service.objects.values_list("authority__code", flat=True))
    assert owners == {"villeurbanne", "metropole-lyon"}
    for service in Service.objects.all():
        assert set(service.name) == {"fr", "en", "es", "ar", "pt"}, service.code
        assert all(value.strip() for value in service.name.values()), service.code
        assert service.email.endswith("example.org"), service.code


def test_every_address_is_in_villeurbanne_and_in_a_district(territory: dict[str, int]) -> None:
    min_lon, min_lat, max_lon, max_lat = VILLEURBANNE_BBOX
    polygons = {d.pk: shape(d.geometry) for d in District.objects.all()}
    for address in Address.objects.select_related("street__authority"):
        assert min_lon <= address.lon <= max_lon and min_lat <= address.lat <= max_lat, address
        assert address.street.authority.code == "villeurbanne"
        assert address.postcode == "69100"
        assert address.district_id is not None, address
        assert polygons[address.district_id].covers(Point(address.lon, address.lat)), address


def test_districts_are_real_quartiers_without_overlap(territory: dict[str, int]) -> None:
    names = set(District.objects.values_list("name", flat=True))
    assert {"Gratte-Ciel", "Charpennes", "Tonkin", "Croix-Luizet", "Cusset"} <= names
    polygons = [shape(d.geometry) for d in District.objects.all()]
    assert all(p.is_valid and p.geom_type == "Polygon" for p in polygons)
    for first, second in combinations(polygons, 2):
        assert first.intersection(second).area < 1e-9


def test_rue_du_perou_follows_the_works_geometry(territory: dict[str, int]) -> None:
    perou = Street.objects.get(name="Rue du Pérou")
    for address in perou.addresses.all():
        assert 4.8760 <= address.lon <= 4.8800
        assert 45.7765 <= address.lat <= 45.7778
    assert perou.addresses.filter(number=12, suffix="").exists()


def test_search_fields_are_normalised(territory: dict[str, int]) -> None:
    street = Street.objects.get(name="Cours Émile Zola")
    assert street.search_name == "cours emile zola"
    address = Address.objects.get(street__name="Rue du Pérou", number=12, suffix="bis")
    assert address.label == "12 bis Rue du Pérou, 69100 Villeurbanne"
    assert address.search_label == "12 bis rue du perou 69100 villeurbanne"
    assert address.ban_id.startswith("69266_") and address.ban_id.endswith("_00012_bis")
    for address in Address.objects.all():
        assert address.search_label == normalize(address.label)


def test_schools(territory: dict[str, int]) -> None:
    levels = set(School.objects.values_list("level", flat=True))
    assert {School.Level.MATERNELLE, School.Level.ELEMENTAIRE} <= levels
    for code in ("maternelle-jean-jaures", "elementaire-jean-jaures"):
        school = School.objects.select_related("address__street").get(code=code)
        assert school.authority.code == "villeurbanne"
        assert school.address.street.name == "Rue du Pérou"
    assert not School.objects.filter(address__isnull=True).exists()


def test_loading_twice_changes_nothing(territory: dict[str, int]) -> None:
    before = {
        model: sorted(model.objects.values_list("pk", "updated_at"))
        for model in (Authority, District, Service, Street, Address, School)
    }
    again = territory_load()
    assert again["created"] == 0
    assert again["updated"] == 0
    assert {k: v for k, v in again.items() if k not in ("created", "updated")} == {
        k: v for k, v in territory.items() if k not in ("created", "updated")
    }
    for model, rows in before.items():
        assert sorted(model.objects.values_list("pk", "updated_at")) == rows, model


def test_loading_repairs_edited_rows(territory: dict[str, int]) -> None:
    address = Address.objects.get(street__name="Rue du Pérou", number=12, suffix="")
    Address.objects.filter(pk=address.pk).update(label="edited", district=None)
    Service.objects.filter(code="creche").update(phone="")
    result = territory_load()
    assert (result["created"], result["updated"]) == (0, 2)
    address.refresh_from_db()
    assert address.label == "12 Rue du Pérou, 69100 Villeurbanne"
    assert address.district is not None
    assert Service.objects.get(code="creche").phone


def test_command(db: None) -> None:
    out = io.StringIO()
    call_command("load_territory", stdout=out)
    assert "addresses: " in out.getvalue()
    assert Address.objects.count() >= 300
