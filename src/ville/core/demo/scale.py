"""Bulk synthetic citizens for load tests (`ville seed-scale`): COPY on PostgreSQL.

Rows are built as tuples in Python (UUIDs included) and streamed with psycopg's COPY in
batches, one transaction per batch; SQLite gets `bulk_create` in the same batches.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from ville.accounts.models import Household, HouseholdMember, User
from ville.core.demo.people import DEMO_PASSWORD
from ville.core.demo.services import address_places, school_places
from ville.core.demo.synthetic import Place, nearest_schools, plan_household

EMAIL_PATTERN = "scale.{n}@example.net"

USER_COLUMNS = (
    "id",
    "email",
    "password",
    "first_name",
    "last_name",
    "birth_date",
    "phone",
    "address_id",
    "preferred_language",
    "household_id",
    "email_verified_at",
    "is_active",
    "is_staff",
    "is_superuser",
    "created_at",
    "updated_at",
)
HOUSEHOLD_COLUMNS = ("id", "created_at", "updated_at")
MEMBER_COLUMNS = (
    "id",
    "household_id",
    "relation",
    "first_name",
    "last_name",
    "birth_date",
    "school_id",
    "created_at",
    "updated_at",
)


@dataclass
class SeedReport:
    created: int
    first_number: int
    seconds: float
    households: int
    members: int


@dataclass(frozen=True)
class _Table:
    """A model's columns: the ones we fill, then every other concrete field at its default."""

    model: type[models.Model]
    attnames: tuple[str, ...]
    columns: tuple[str, ...]
    tail: tuple[Any, ...]

    @classmethod
    def of(cls, model: type[models.Model], filled: Sequence[str]) -> _Table:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        # A field added to the model later still gets its default instead of breaking COPY.
        others = [f for name, f in fields.items() if name not in filled]
        attnames = (*filled, *(f.attname for f in others))
        return cls(
            model=model,
            attnames=attnames,
            columns=tuple(str(fields[name].column) for name in attnames),
            tail=tuple(f.get_default() for f in others),
        )


def scale_last_number() -> int:
    """The highest n of the existing `scale.<n>@example.net` users (0 when none)."""
    table = User._meta.db_table
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT max(substring(email FROM '^scale\\.([0-9]+)@example\\.net$')::bigint) "  # noqa: S608
            f"FROM {table} WHERE email LIKE 'scale.%@example.net'"
        )
    else:
        sql = (
            f"SELECT max(CAST(substr(email, 7, instr(email, '@') - 7) AS INTEGER)) "  # noqa: S608
            f"FROM {table} WHERE email LIKE 'scale.%@example.net'"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        value = cursor.fetchone()[0]
    return int(value or 0)


def citizens_seed(
    *,
    count: int,
    batch: int = 10_000,
    seed: int | None = None,
    demo_password: bool = False,
    today: date | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> SeedReport:
    """Create `count` citizens with households (55% partner, 45% children) on real addresses.

    Passwords: unusable by default (these accounts are for load tests, reached with
    `force_login` or sessions); with `demo_password`, one argon2 hash of the demo password
    computed once and shared by every account.
    """
    started = time.monotonic()
    today = today or timezone.localdate()
    addresses = address_places()
    if not addresses:
        raise ValueError("The address table is empty: load the territory first.")
    schools = nearest_schools(addresses, school_places())
    password = make_password(DEMO_PASSWORD) if demo_password else make_password(None)
    first = scale_last_number() + 1
    rng = random.Random(first if seed is None else seed)  # noqa: S311 - synthetic data
    tables = (
        _Table.of(Household, HOUSEHOLD_COLUMNS),
        _Table.of(User, USER_COLUMNS),
        _Table.of(HouseholdMember, MEMBER_COLUMNS),
    )
    write = _copy_rows if connection.vendor == "postgresql" else _bulk_create_rows
    done = households = members = 0
    while done < count:
        size = min(batch, count - done)
        now = timezone.now()
        rows = _batch_rows(
            rng,
            numbers=range(first + done, first + done + size),
            today=today,
            now=now,
            password=password,
            addresses=addresses,
            schools=schools,
        )
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # Durability of a bulk load matters less than its speed; the data stays
                    # consistent (this only delays the flush of the WAL).
                    cursor.execute("SET LOCAL synchronous_commit TO off")
            for table, table_rows in zip(tables, rows, strict=True):
                write(table, table_rows)
        done += size
        households += len(rows[0])
        members += len(rows[2])
        if progress is not None:
            progress(done, count, time.monotonic() - started)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table.model._meta.db_table)}")
    return SeedReport(
        created=count,
        first_number=first,
        seconds=time.monotonic() - started,
        households=households,
        members=members,
    )


def _batch_rows(
    rng: random.Random,
    *,
    numbers: Iterable[int],
    today: date,
    now: datetime,
    password: str,
    addresses: Sequence[Place],
    schools: dict[int, dict[str, int]],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    household_rows: list[tuple[Any, ...]] = []
    user_rows: list[tuple[Any, ...]] = []
    member_rows: list[tuple[Any, ...]] = []
    uuid4 = uuid.uuid4
    n_addresses = len(addresses)
    for n in numbers:
        plan = plan_household(rng, today)
        address = addresses[rng.randrange(n_addresses)]
        household_id = uuid4()
        household_rows.append((household_id, now, now))
        adult = plan.adult
        user_rows.append(
            (
                uuid4(),
                EMAIL_PATTERN.format(n=n),
                password,
                adult.first_name,
                adult.last_name,
                adult.birth_date,
                adult.phone,
                address.id,
                adult.language,
                household_id,
                now,
                True,
                False,
                False,
                now,
                now,
            )
        )
        if plan.partner is not None:
            p = plan.partner
            member_rows.append(
                (
                    uuid4(),
                    household_id,
                    "partner",
                    p.first_name,
                    p.last_name,
                    p.birth_date,
                    None,
                    now,
                    now,
                )
            )
        near = schools[address.id]
        for kid in plan.children:
            school = near.get(kid.school_level) if kid.school_level else None
            member_rows.append(
                (
                    uuid4(),
                    household_id,
                    "child",
                    kid.first_name,
                    kid.last_name,
                    kid.birth_date,
                    school,
                    now,
                    now,
                )
            )
    return household_rows, user_rows, member_rows


def _copy_rows(table: _Table, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    quote = connection.ops.quote_name
    sql = (
        f"COPY {quote(table.model._meta.db_table)} "
        f"({', '.join(quote(c) for c in table.columns)}) FROM STDIN"
    )
    tail = table.tail
    # The raw psycopg 3 connection: Django's atomic() has already opened its transaction.
    raw = connection.connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row + tail)


def _bulk_create_rows(table: _Table, rows: list[tuple[Any, ...]]) -> None:
    model, attnames, tail = table.model, table.attnames, table.tail
    objects = [model(**dict(zip(attnames, row + tail, strict=True))) for row in rows]
    model._default_manager.bulk_create(objects, batch_size=2_000)
