"""Writes of the territory: loading authorities, districts, services, streets, addresses
and schools from the data files of this app (see data/SOURCE.md). Idempotent.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import shapely
from django.db import models, transaction
from django.utils import timezone
from shapely.geometry import shape

from ville.territory.models import Address, Authority, District, School, Service, Street
from ville.territory.text import normalize

DATA_DIR = Path(__file__).resolve().parent / "data"
ADDRESS_FILE = "villeurbanne_addresses.csv"
BATCH_SIZE = 1000

M = TypeVar("M", bound=models.Model)


@dataclass
class _Tally:
    created: int = 0
    updated: int = 0


def _upsert(
    model: type[M], tally: _Tally, lookup: Mapping[str, Any], values: Mapping[str, Any]
) -> M:
    """Create, or update only the fields that differ: a second load writes nothing."""
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        tally.created += 1
        return model._default_manager.create(**lookup, **values)
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save(update_fields=[*changed, "updated_at"])
        tally.updated += 1
    return obj


def _read_json(data_dir: Path, name: str) -> Any:
    return json.loads((data_dir / name).read_text(encoding="utf-8"))


def _load_authorities(data_dir: Path, tally: _Tally) -> dict[str, Authority]:
    rows = _read_json(data_dir, "authorities.json")
    by_code: dict[str, Authority] = {}
    # Parents come first in the file; a parent is always loaded before its children.
    for row in rows:
        parent = by_code[row["parent"]] if row["parent"] else None
        by_code[row["code"]] = _upsert(
            Authority,
            tally,
            {"code": row["code"]},
            {
                "name": row["name"],
                "kind": row["kind"],
                "insee_code": row["insee_code"],
                "parent_id": parent.pk if parent else None,
            },
        )
    return by_code


def _load_districts(
    data_dir: Path, tally: _Tally, authorities: Mapping[str, Authority]
) -> list[District]:
    collection = _read_json(data_dir, "villeurbanne_districts.geojson")
    districts = []
    for feature in collection["features"]:
        props = feature["properties"]
        geometry = feature["geometry"]
        if not shape(geometry).is_valid:
            raise ValueError(f"District {props['code']!r} has an invalid polygon.")
        districts.append(
            _upsert(
                District,
                tally,
                {"authority_id": authorities[props["authority"]].pk, "code": props["code"]},
                {"name": props["name"], "geometry": geometry},
            )
        )
    return districts


def _load_services(data_dir: Path, tally: _Tally, authorities: Mapping[str, Authority]) -> int:
    rows = _read_json(data_dir, "services.json")
    for row in rows:
        _upsert(
            Service,
            tally,
            {"code": row["code"]},
            {
                "name": row["name"],
                "authority_id": authorities[row["authority"]].pk,
                "email": row["email"],
                "phone": row["phone"],
            },
        )
    return len(rows)


def _districts_of_points(
    districts: Iterable[District], lons: list[float], lats: list[float]
) -> list[int | None]:
    """The district id containing each point (boundary included), or None."""
    result: list[int | None] = [None] * len(lons)
    xs, ys = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    for district in districts:
        polygon = shape(district.geometry)
        shapely.prepare(polygon)
        for index in np.flatnonzero(shapely.intersects_xy(polygon, xs, ys)):
            if result[int(index)] is None:
                result[int(index)] = district.pk
    return result


def _load_streets(
    rows: list[dict[str, str]], tally: _Tally, authorities_by_insee: Mapping[str, Authority]
) -> dict[tuple[str, str], Street]:
    wanted: dict[tuple[int, str], dict[str, Any]] = {}
    for row in rows:
        authority = authorities_by_insee[row["code_insee"]]
        wanted.setdefault(
            (authority.pk, row["nom_voie"]),
            {"search_name": normalize(row["nom_voie"]), "postcode": row["code_postal"]},
        )
    existing = {
        (street.authority_id, street.name): street
        for street in Street.objects.filter(authority_id__in={key[0] for key in wanted})
    }
    now = timezone.now()
    to_create, to_update = [], []
    for (authority_id, name), values in wanted.items():
        street = existing.get((authority_id, name))
        if street is None:
            to_create.append(Street(authority_id=authority_id, name=name, **values))
        elif any(getattr(street, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(street, key, value)
            street.updated_at = now
            to_update.append(street)
    Street.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Street.objects.bulk_update(
        to_update, ["search_name", "postcode", "updated_at"], batch_size=BATCH_SIZE
    )
    tally.created += len(to_create)
    tally.updated += len(to_update)
    insee_of = {authority.pk: insee for insee, authority in authorities_by_insee.items()}
    return {
        (insee_of[street.authority_id], street.name): street
        for street in Street.objects.filter(authority_id__in={key[0] for key in wanted})
    }


ADDRESS_FIELDS = [
    "street_id",
    "number",
    "suffix",
    "postcode",
    "lon",
    "lat",
    "district_id",
    "label",
    "search_label",
]


def address_label(*, number: int, suffix: str, street: str, postcode: str, commune: str) -> str:
    """`12 bis Rue du Pérou, 69100 Villeurbanne`."""
    numbered = f"{number} {suffix}".strip()
    return f"{numbered} {street}, {postcode} {commune}"


def _load_addresses(
    data_dir: Path,
    tally: _Tally,
    authorities: Mapping[str, Authority],
    districts: list[District],
) -> tuple[int, int]:
    with (data_dir / ADDRESS_FILE).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    by_insee = {a.insee_code: a for a in authorities.values() if a.insee_code}
    streets = _load_streets(rows, tally, by_insee)
    district_ids = _districts_of_points(
        districts, [float(r["lon"]) for r in rows], [float(r["lat"]) for r in rows]
    )
    existing = {a.ban_id: a for a in Address.objects.filter(ban_id__in=[r["id"] for r in rows])}
    now = timezone.now()
    to_create, to_update = [], []
    for row, district_id in zip(rows, district_ids, strict=True):
        street = streets[(row["code_insee"], row["nom_voie"])]
        number, suffix = int(row["numero"]), row["rep"].strip().lower()
        label = address_label(
            number=number,
            suffix=suffix,
            street=street.name,
            postcode=row["code_postal"],
            commune=row["nom_commune"],
        )
        values = {
            "street_id": street.pk,
            "number": number,
            "suffix": suffix,
            "postcode": row["code_postal"],
            "lon": float(row["lon"]),
            "lat": float(row["lat"]),
            "district_id": district_id,
            "label": label,
            "search_label": normalize(label),
        }
        address = existing.get(row["id"])
        if address is None:
            to_create.append(Address(ban_id=row["id"], **values))
        elif any(getattr(address, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(address, key, value)
            address.updated_at = now
            to_update.append(address)
    Address.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Address.objects.bulk_update(to_update, [*ADDRESS_FIELDS, "updated_at"], batch_size=BATCH_SIZE)
    tally.created += len(to_create)
    tally.updated += len(to_update)
    return len(streets), len(rows)


def _load_schools(data_dir: Path, tally: _Tally, authorities: Mapping[str, Authority]) -> int:
    rows = _read_json(data_dir, "schools.json")
    for row in rows:
        authority = authorities[row["authority"]]
        where = row["address"]
        address = Address.objects.filter(
            street__authority=authority,
            street__name=where["street"],
            number=where["number"],
            suffix=where.get("suffix", ""),
        ).first()
        if address is None:
            raise ValueError(f"School {row['code']!r}: no address {where} in the table.")
        _upsert(
            School,
            tally,
            {"code": row["code"]},
            {
                "name": row["name"],
                "level": row["level"],
                "authority_id": authority.pk,
                "address_id": address.pk,
            },
        )
    return len(rows)


@transaction.atomic
def territory_load(*, data_dir: Path = DATA_DIR) -> dict[str, int]:
    """Load (or refresh) the whole territory; returns how many of each were read.

    `created` and `updated` count the rows actually written: both are 0 on a second run.
    """
    tally = _Tally()
    authorities = _load_authorities(data_dir, tally)
    districts = _load_districts(data_dir, tally, authorities)
    services = _load_services(data_dir, tally, authorities)
    streets, addresses = _load_addresses(data_dir, tally, authorities, districts)
    schools = _load_schools(data_dir, tally, authorities)
    return {
        "authorities": len(authorities),
        "districts": len(districts),
        "services": services,
        "streets": streets,
        "addresses": addresses,
        "schools": schools,
        "created": tally.created,
        "updated": tally.updated,
    }
