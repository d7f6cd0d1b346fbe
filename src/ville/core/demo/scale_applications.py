"""Bulk synthetic applications for load tests (`ville seed-scale --applications N`).

Spread over the loaded procedures and the `scale.<n>` citizens with a realistic mix of
states and timelines; COPY on PostgreSQL, plain multi-row inserts on SQLite, in batches.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from ville.accounts.models import HouseholdMember, ServiceRole, User
from ville.core.demo.names import FEMALE_FIRST_NAMES, LAST_NAMES, MALE_FIRST_NAMES
from ville.core.demo.scale import _copy_rows, _Table
from ville.procedures.models import DRAFT, Application, ApplicationEvent, Procedure
from ville.procedures.tracking import ALPHABET, LENGTH

# Share of each state (percent): what a city's back office holds at any time.
STATE_MIX = (
    ("draft", 10),
    ("submitted", 20),
    ("in_review", 30),
    ("info_requested", 10),
    ("decided", 30),
)
HISTORY_DAYS = 548  # 18 months of submissions
# Relative demand of the busiest procedures; any other one weighs 1.
PROCEDURE_WEIGHTS = {
    "canteen-registration": 8,
    "street-issue-report": 8,
    "civil-status-certificate": 7,
    "after-school-registration": 5,
    "school-enrolment": 5,
    "bulky-waste-collection": 5,
    "residential-parking-permit": 4,
    "library-registration": 4,
    "waste-bin-request": 3,
    "creche-application": 3,
    "family-quotient": 3,
    "electoral-roll-registration": 2,
    "public-transport-solidarity-fare": 2,
    "address-change": 2,
}
CHANNELS = (("online", 92), ("counter", 5), ("phone", 3))
INFO_COMMENTS = (
    "Merci de joindre un justificatif de domicile de moins de trois mois.",
    "Pouvez-vous préciser la date souhaitée ?",
    "Le document transmis est illisible, merci de le renvoyer.",
)
REFUSAL_COMMENTS = (
    "La demande ne remplit pas les conditions du règlement.",
    "Pièce justificative manquante malgré notre relance.",
)
WORDS = ("rue", "école", "matin", "soir", "urgent", "voisin", "parc", "bus", "vélo", "marché")
MAX_CODE_ROUNDS = 5

APPLICATION_COLUMNS = (
    "id",
    "tracking_code",
    "procedure_id",
    "version_id",
    "service_id",
    "citizen_id",
    "beneficiary_id",
    "beneficiary_name",
    "state",
    "data",
    "provenance",
    "step",
    "channel",
    "filed_by_id",
    "submission_key",
    "submitted_at",
    "decided_at",
    "sla_due_at",
    "silence_due_at",
    "assigned_to_id",
    "valid_until",
    "lock_version",
    "created_at",
    "updated_at",
)
EVENT_COLUMNS = (
    "application_id",
    "created_at",
    "kind",
    "from_state",
    "to_state",
    "actor_id",
    "actor_role",
    "comment",
    "visible_to_citizen",
)


@dataclass
class ApplicationsReport:
    created: int
    events: int
    seconds: float
    by_state: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Procedure:
    """What the generator needs of one procedure's current definition."""

    id: int
    slug: str
    version_id: int
    service_id: int
    steps: int
    beneficiary: str | None  # child | partner | member, None when the citizen is the subject
    initial: str
    review: str  # the open state an agent moves it to
    waiting: str | None  # the state that asks the citizen for something
    accepted: str
    refused: str | None
    sla_days: int
    silence_days: int | None
    valid_for_days: int | None
    data_variants: tuple[str, ...]
    agents: tuple[Any, ...]


@dataclass(frozen=True)
class _Citizen:
    id: Any
    children: tuple[tuple[Any, str], ...]  # (member id, "First Last")
    partner: tuple[Any, str] | None


def _table(model: type[models.Model], filled: Sequence[str]) -> _Table:
    """Like `_Table.of`, without the auto-increment key (its sequence fills it) and with the
    defaults of JSON fields as JSON text, which COPY takes as it is."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    others = [
        f
        for name, f in fields.items()
        if name not in filled and not isinstance(f, models.fields.AutoFieldMixin)
    ]
    attnames = (*filled, *(f.attname for f in others))
    return _Table(
        model=model,
        attnames=attnames,
        columns=tuple(str(fields[name].column) for name in attnames),
        tail=tuple(
            json.dumps(f.get_default()) if isinstance(f, models.JSONField) else f.get_default()
            for f in others
        ),
    )


def _plausible_value(item: Mapping[str, Any], rng: random.Random, today: Any) -> Any:
    kind, name = item["type"], item["name"]
    rules = item.get("validation") or {}
    if kind == "choice":
        return rng.choice(item["choices"])["value"]
    if kind == "multiple_choice":
        values = [c["value"] for c in item["choices"]]
        return sorted(rng.sample(values, rng.randint(1, len(values))), key=values.index)
    if kind in ("yes_no", "consent"):
        return kind == "consent" or rng.random() < 0.3
    if kind == "number":
        low = int(rules.get("min", 0))
        return rng.randint(low, max(low, min(int(rules.get("max", 1500)), 1500)))
    if kind == "date":
        return (today + timedelta(days=rng.randint(-400, 120))).isoformat()
    if kind == "email":
        return f"contact{rng.randint(1, 9999)}@example.net"
    if kind == "phone":
        return f"+3361{rng.randint(0, 9_999_999):07d}"
    if kind == "text" and "first_name" in name:
        return rng.choice(FEMALE_FIRST_NAMES + MALE_FIRST_NAMES)
    if kind == "text" and ("last_name" in name or name.endswith("name")):
        return rng.choice(LAST_NAMES)
    if kind in ("text", "long_text"):
        return " ".join(rng.choices(WORDS, k=3 if kind == "text" else 12))
    return None  # addresses, schools, members and files: left to the real forms


def _data_variants(
    definition: Mapping[str, Any], rng: random.Random, today: Any
) -> tuple[str, ...]:
    """A few dozen answer sets (JSON text) from the first fields of the definition."""
    items = [item for step in definition["steps"] for item in step["fields"] if "when" not in item]
    variants = []
    for _ in range(40):
        data = {}
        for item in items[:8]:
            value = _plausible_value(item, rng, today)
            if value is not None:
                data[item["name"]] = value
        variants.append(json.dumps(data, ensure_ascii=False))
    return tuple(variants)


def _procedures(rng: random.Random, today: Any) -> list[tuple[_Procedure, int]]:
    agents: dict[int, list[Any]] = {}
    for user_id, service_id in ServiceRole.objects.values_list("user_id", "service_id"):
        agents.setdefault(service_id, []).append(user_id)
    found = []
    for procedure in Procedure.objects.filter(
        is_active=True, current_version__isnull=False
    ).select_related("current_version"):
        version = procedure.current_version
        assert version is not None
        definition = version.definition
        workflow = definition["workflow"]
        states = workflow["states"]
        initial = workflow["initial"]
        opened = [name for name, s in states.items() if s["kind"] == "open" and name != initial]
        waiting = [name for name, s in states.items() if s["kind"] == "waiting_citizen"]
        finals = {s.get("outcome"): name for name, s in states.items() if s["kind"] == "final"}
        deadlines = workflow.get("deadlines") or {}
        silence = deadlines.get("silence") or {}
        found.append(
            (
                _Procedure(
                    id=procedure.pk,
                    slug=procedure.slug,
                    version_id=version.pk,
                    service_id=procedure.service_id,
                    steps=len(definition["steps"]),
                    beneficiary=(definition.get("beneficiary") or {}).get("relation"),
                    initial=initial,
                    review="in_review" if "in_review" in states else (opened or [initial])[0],
                    waiting=waiting[0] if waiting else None,
                    accepted=finals.get("accepted", initial),
                    refused=finals.get("refused"),
                    sla_days=int(deadlines.get("sla_days") or 30),
                    silence_days=int(silence["after_days"]) if silence.get("after_days") else None,
                    valid_for_days=(workflow.get("grant") or {}).get("valid_for_days"),
                    data_variants=_data_variants(definition, rng, today),
                    agents=tuple(agents.get(procedure.service_id, ())),
                ),
                PROCEDURE_WEIGHTS.get(procedure.slug, 1),
            )
        )
    return found


def _citizens() -> list[_Citizen]:
    """The `scale.<n>` citizens with the partner and children of their household."""
    users = list(
        User.objects.filter(email__startswith="scale.", email__endswith="@example.net")
        .order_by("email")
        .values_list("id", "household_id")
    )
    members: dict[Any, list[tuple[Any, str, str]]] = {}
    rows = HouseholdMember.objects.filter(
        household__adults__email__startswith="scale.", relation__in=("child", "partner")
    ).values_list("household_id", "id", "relation", "first_name", "last_name")
    for household_id, member_id, relation, first, last in rows.iterator(chunk_size=20_000):
        members.setdefault(household_id, []).append((member_id, relation, f"{first} {last}"))
    citizens = []
    for user_id, household_id in users:
        own = members.get(household_id, [])
        children = tuple((m, name) for m, relation, name in own if relation == "child")
        partner = next(((m, name) for m, relation, name in own if relation == "partner"), None)
        citizens.append(_Citizen(id=user_id, children=children, partner=partner))
    return citizens


def applications_seed(
    *,
    count: int,
    batch: int = 20_000,
    seed: int | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> ApplicationsReport:
    """Create `count` applications of the `scale.<n>` citizens (seed those first) over every
    loaded procedure, weighted by demand: drafts 10 %, submitted 20 %, in review 30 %,
    information requested 10 %, decided 30 %; submitted over the last 18 months, due dates
    from `sla_days` (about a quarter of those awaiting the service past due), unique
    tracking codes, a timeline per application (1 event for a draft, 2 to 4 otherwise)."""
    started = time.monotonic()
    now = now or timezone.now()
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    # Codes never come from the seeded generator: a second run would draw the same ones.
    code_rng = random.Random()  # noqa: S311 - synthetic codes, not secrets
    procedures = _procedures(rng, timezone.localdate(now))
    if not procedures:
        raise ValueError("No procedure is loaded: run `ville load-procedures` first.")
    citizens = _citizens()
    if not citizens:
        raise ValueError("There are no synthetic citizens: seed some with --citizens first.")
    with_children = [c for c in citizens if c.children] or citizens
    tables = (_table(Application, APPLICATION_COLUMNS), _table(ApplicationEvent, EVENT_COLUMNS))
    states = [name for name, _ in STATE_MIX]
    state_weights = [weight for _, weight in STATE_MIX]
    kinds = [p for p, _ in procedures]
    kind_weights = [w for _, w in procedures]
    report = ApplicationsReport(created=0, events=0, seconds=0.0)
    while report.created < count:
        size = min(batch, count - report.created)
        apps, events = [], []
        for procedure, state in zip(
            rng.choices(kinds, kind_weights, k=size),
            rng.choices(states, state_weights, k=size),
            strict=True,
        ):
            pool = with_children if procedure.beneficiary == "child" else citizens
            app, app_events = _application(rng, procedure, state, rng.choice(pool), now)
            apps.append(app)
            events.extend(app_events)
            report.by_state[state] = report.by_state.get(state, 0) + 1
        for attempt in range(MAX_CODE_ROUNDS):
            _codes_assign(apps, code_rng)
            try:
                with transaction.atomic():
                    if connection.vendor == "postgresql":
                        with connection.cursor() as cursor:
                            # Speed over durability for a bulk load (see scale.py).
                            cursor.execute("SET LOCAL synchronous_commit TO off")
                    _write(tables[0], apps)
                    _write(tables[1], events)
                break
            except IntegrityError:
                # Another writer took one of the codes between the check and the insert.
                if attempt == MAX_CODE_ROUNDS - 1:
                    raise
        report.created += size
        report.events += len(events)
        if progress is not None:
            progress(report.created, count, time.monotonic() - started)
    _analyze(tables)
    report.seconds = time.monotonic() - started
    return report


def _application(
    rng: random.Random, p: _Procedure, state: str, citizen: _Citizen, now: datetime
) -> tuple[list[Any], list[tuple[Any, ...]]]:
    """One application row (a list: its code is set later) and its timeline rows."""
    app_id = uuid.uuid4()
    beneficiary: tuple[Any, str] | None = None
    if p.beneficiary == "child" and citizen.children:
        beneficiary = rng.choice(citizen.children)
    elif p.beneficiary == "partner":
        beneficiary = citizen.partner
    elif p.beneficiary == "member":
        beneficiary = rng.choice([*citizen.children, citizen.partner])
    channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
    agent = rng.choice(p.agents) if p.agents else None
    filed_by = agent if channel != "online" and agent else None
    if filed_by is None:
        channel = "online"
    agent_or_none = agent if rng.random() < 0.7 else None
    assigned = agent_or_none if state in ("in_review", "info_requested", "decided") else None
    citizen_role = "agent" if filed_by else "citizen"
    creator = filed_by or citizen.id

    submitted_at = decided_at = sla_due_at = silence_due_at = valid_until = None
    events: list[tuple[Any, ...]] = []
    final_state = state
    if state == DRAFT:
        created_at = now - timedelta(seconds=rng.uniform(600, 60 * 86_400))
        step = rng.randrange(p.steps)
    else:
        if state == "decided":
            age = rng.uniform(p.sla_days, HISTORY_DAYS)
        else:
            # Most open files are recent; the tail past the target is the overdue backlog.
            age = min(rng.expovariate(1 / (p.sla_days * 0.7)), HISTORY_DAYS)
            if p.silence_days:
                # Older ones would already have been decided by silence.
                age = min(age, p.silence_days - 1)
        submitted_at = now - timedelta(days=age)
        created_at = submitted_at - timedelta(seconds=rng.uniform(300, 3 * 86_400))
        step = p.steps
        # As the services do: no clock runs once decided, nor while the citizen is asked.
        if state in ("submitted", "in_review") or (state == "info_requested" and not p.waiting):
            sla_due_at = submitted_at + timedelta(days=p.sla_days)
            if p.silence_days:
                silence_due_at = submitted_at + timedelta(days=p.silence_days)
        events.append(
            (app_id, submitted_at, "submitted", DRAFT, p.initial, creator, citizen_role, "", True)
        )
        span = now - submitted_at
        if state != "submitted":
            reviewed_at = submitted_at + span * rng.uniform(0.05, 0.4)
            events.append(
                (
                    app_id,
                    reviewed_at,
                    "transition",
                    p.initial,
                    p.review,
                    agent_or_none,
                    "agent",
                    "",
                    True,
                )
            )
            final_state = p.review
        if state == "info_requested" and p.waiting:
            asked_at = submitted_at + span * rng.uniform(0.45, 0.9)
            events.append(
                (
                    app_id,
                    asked_at,
                    "info_requested",
                    p.review,
                    p.waiting,
                    agent_or_none,
                    "agent",
                    rng.choice(INFO_COMMENTS),
                    True,
                )
            )
            final_state = p.waiting
        if state == "decided":
            # Most within the target, some late; never in the future.
            decided_at = min(
                submitted_at + timedelta(days=rng.uniform(0.5, p.sla_days * 1.3)),
                now - timedelta(minutes=5),
            )
            refused = p.refused is not None and rng.random() < 0.2
            final_state = p.refused if refused and p.refused else p.accepted
            if not refused and p.valid_for_days:
                valid_until = (decided_at + timedelta(days=int(p.valid_for_days))).date()
            events.append(
                (
                    app_id,
                    decided_at,
                    "transition",
                    p.review,
                    final_state,
                    agent_or_none,
                    "agent",
                    rng.choice(REFUSAL_COMMENTS) if refused else "",
                    True,
                )
            )
    events.insert(0, (app_id, created_at, "created", "", DRAFT, creator, citizen_role, "", True))
    updated_at = events[-1][1]
    row = [
        app_id,
        None,  # the tracking code, given per batch
        p.id,
        p.version_id,
        p.service_id,
        citizen.id,
        beneficiary[0] if beneficiary else None,
        beneficiary[1] if beneficiary else "",
        final_state,
        rng.choice(p.data_variants),
        "{}",
        step,
        channel,
        filed_by,
        uuid.uuid4() if state != DRAFT else None,
        submitted_at,
        decided_at,
        sla_due_at,
        silence_due_at,
        assigned,
        valid_until,
        len(events) - 1,
        created_at,
        updated_at,
    ]
    return row, events


def _codes_assign(apps: list[list[Any]], rng: random.Random) -> None:
    """A fresh code for every submitted application of the batch, unique within the batch
    and against the table (looked up through its unique index)."""
    alphabet, choices = ALPHABET, rng.choices
    pending = [row for row in apps if row[APPLICATION_COLUMNS.index("submission_key")]]
    seen: set[str] = set()
    for _ in range(MAX_CODE_ROUNDS * 4):
        for row in pending:
            code = "".join(choices(alphabet, k=LENGTH))
            while code in seen:
                code = "".join(choices(alphabet, k=LENGTH))
            seen.add(code)
            row[1] = code
        taken = _codes_taken([row[1] for row in pending])
        pending = [row for row in pending if row[1] in taken]
        if not pending:
            return
    raise RuntimeError("Could not draw unique tracking codes.")


def _codes_taken(codes: list[str]) -> set[str]:
    if not codes:
        return set()
    table = connection.ops.quote_name(Application._meta.db_table)
    taken: set[str] = set()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT tracking_code FROM {table} WHERE tracking_code = ANY(%s)",  # noqa: S608
                [codes],
            )
            taken.update(code for (code,) in cursor.fetchall())
        else:
            for start in range(0, len(codes), 500):
                chunk = codes[start : start + 500]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"SELECT tracking_code FROM {table} WHERE tracking_code IN ({marks})",  # noqa: S608
                    chunk,
                )
                taken.update(code for (code,) in cursor.fetchall())
    return taken


def _write(table: _Table, rows: Sequence[Sequence[Any]]) -> None:
    if connection.vendor == "postgresql":
        _copy_rows(table, [tuple(row) for row in rows])
    else:
        _insert_rows(table, rows)


def _insert_rows(table: _Table, rows: Sequence[Sequence[Any]]) -> None:
    """Plain INSERTs with every value prepared by its field (bulk_create would overwrite
    the timestamps: `auto_now_add` fields take the time of the insert)."""
    if not rows:
        return
    fields = {f.attname: f for f in table.model._meta.concrete_fields}
    # JSON values are JSON text already: only the other fields need preparing.
    prepare = [
        None if isinstance(fields[name], models.JSONField) else fields[name]
        for name in table.attnames
    ]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(table.model._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(c) for c in table.columns)}) "
        f"VALUES ({', '.join(['%s'] * len(table.columns))})"
    )
    tail = table.tail
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                [
                    v if f is None else f.get_db_prep_save(v, connection)
                    for f, v in zip(prepare, (*row, *tail), strict=True)
                ]
                for row in rows
            ],
        )


def _analyze(tables: Sequence[_Table]) -> None:
    """Fresh statistics for the planner; VACUUM also fills the visibility map, without which
    counts cannot use index-only scans on freshly copied rows."""
    if connection.vendor != "postgresql":
        return
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{command} {connection.ops.quote_name(table.model._meta.db_table)}")
