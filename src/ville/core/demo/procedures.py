"""Demo applications: Camille's three (Jade's crèche application in progress, a granted parking
permit ending within 30 days, last school year's canteen for Léo) and the agents' queues.

Everything is made through the real services (start → save steps → submit → transitions),
then backdated with `QuerySet.update`: that rewriting of dates is for the demo only (the
audit log keeps the real time of loading). Reloading shifts every date so the demo stays
current; nothing is created twice.
"""

from __future__ import annotations

import io
import logging
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ville.accounts.models import HouseholdMember, ServiceRole, User
from ville.core.demo import people
from ville.core.errors import DomainError
from ville.procedures import services
from ville.procedures import workflow as wf
from ville.procedures.conditions import context_for
from ville.procedures.definitions import Definition, definition_of, relative_date
from ville.procedures.models import DRAFT, Application, ApplicationEvent, Message, Procedure
from ville.procedures.services.drafts import _eligibility_failures_so_far
from ville.territory.models import School, Service

logger = logging.getLogger(__name__)

SEED = 20260302
QUEUE_SIZE = 40
# The permit was granted this long ago; with its one-year validity it ends in 28 days.
PARKING_DECIDED_DAYS_AGO = 337
CRECHE_SUBMITTED_DAYS_AGO = 18
# Open applications are at most this old: "silence vaut accord" (60 days) never applies.
MAX_OPEN_DAYS = 40

# Hidden account that processes the services no demo agent works for (no password: it
# cannot log in). It exists so that those queues hold decided applications too.
BACK_OFFICE_EMAIL = f"back-office@{people.SYNTHETIC_EMAIL_DOMAIN}"
# The roads agent also handles parking and the occupation of public space.
EXTRA_ROLES = {people.AGENT_VOIRIE.email: ("stationnement", "espace-public")}

# Answers the generic filler cannot guess (formats checked by a pattern, eligibility).
TEXT_SAMPLES = {
    "rna": "W691234567",
    "siret": "12345678900012",
    "registration_number": "AB-123-CD",
    "vehicle_plate": "AB-123-CD",
    "iban": "FR7630006000011234567890189",
    "caf_number": "1234567",
    "card_number": "0012345678",
}
YES = frozenset({"french", "event_in_villeurbanne", "disability", "whole_household"})
AVOID_CHOICES = {"housing": {"flat_resident"}, "requester": {"other"}}
COMMENTS = {
    "request_info": "Merci de nous transmettre un justificatif de domicile de moins de 3 mois.",
    "refuse": "Le dossier ne remplit pas les conditions prévues par le règlement du service.",
}
DEFAULT_COMMENT = "Dossier vérifié par le service."


def tiny_pdf() -> bytes:
    """A one-page PDF, the smallest document the uploads accept."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


# --- answering a form like a resident would ---------------------------------------------------


def _date_answer(validation: Mapping[str, Any], today: date) -> str:
    low = relative_date(validation["min_date"], today) if "min_date" in validation else None
    high = relative_date(validation["max_date"], today) if "max_date" in validation else None
    if low is not None:
        day = low + timedelta(days=7)
        return min(day, high).isoformat() if high else day.isoformat()
    return ((high or today) - timedelta(days=30)).isoformat()


def _member(citizen: User, relation: str) -> HouseholdMember | None:
    members = HouseholdMember.objects.filter(household=citizen.household).exclude(
        user_id=citizen.pk
    )
    if relation in ("child", "partner"):
        members = members.filter(relation=relation)
    return members.order_by("birth_date").first()


def _answer(field: Mapping[str, Any], *, citizen: User, today: date, school: str | None) -> Any:
    """A plausible valid answer to `field` (None: leave it empty)."""
    kind, name = field["type"], field["name"]
    validation = field.get("validation") or {}
    if kind == "text":
        return TEXT_SAMPLES.get(name, "Exemple")
    if kind == "long_text":
        return "Demande faite pour la démonstration : les informations sont fictives."
    if kind == "number":
        low = validation.get("min", 0)
        return max(1, int(low) + 1 if low >= 1 else 1)
    if kind == "date":
        return _date_answer(validation, today)
    if kind == "email":
        return citizen.email
    if kind == "phone":
        return citizen.phone or "04 99 00 12 34"
    if kind == "choice":
        avoid = AVOID_CHOICES.get(name, set())
        return next(c["value"] for c in field["choices"] if c["value"] not in avoid)
    if kind == "multiple_choice":
        count = int(validation.get("min_choices", 1))
        return [c["value"] for c in field["choices"][:count]]
    if kind == "yes_no":
        return name in YES
    if kind == "consent":
        return True
    if kind == "address":
        return citizen.address_id
    if kind == "household_member":
        member = _member(citizen, field.get("relation", "member"))
        return str(member.pk) if member else None
    if kind == "school":
        return school
    return None


def _step_answers(
    definition: Definition, step_id: str, draft: Application, *, today: date, school: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    data: dict[str, Any] = {}
    files: dict[str, Any] = {}
    for field in definition.fields(step_id):
        name = field["name"]
        if field["type"] == "file":
            if field.get("required"):
                files[name] = SimpleUploadedFile(f"{name}.pdf", tiny_pdf(), "application/pdf")
            continue
        if name in draft.data:
            data[name] = draft.data[name]
            continue
        value = _answer(field, citizen=draft.citizen, today=today, school=school)
        if value is not None:
            data[name] = value
    return data, files


def _file(
    citizen: User, slug: str, beneficiary: HouseholdMember | None, *, today: date
) -> Application:
    """A submitted application, answered like a resident who reuses what the city knows."""
    draft = services.application_start(
        actor=citizen, procedure_slug=slug, beneficiary_id=beneficiary.pk if beneficiary else None
    )
    definition = definition_of(draft.version)
    school = beneficiary.school.code if beneficiary and beneficiary.school else None
    if school is None:
        first = School.objects.filter(authority__code="villeurbanne").order_by("code").first()
        school = first.code if first else None
    for step_id in definition.step_ids:
        data, files = _step_answers(definition, step_id, draft, today=today, school=school)
        draft = services.application_save_step(
            actor=citizen, application_id=draft.pk, step_id=step_id, data=data, files=files
        )
    return services.application_submit(
        actor=citizen, application_id=draft.pk, submission_key=uuid.uuid4()
    )


# --- moving through the workflow ---------------------------------------------------------------


def _path(workflow: Mapping[str, Any], goal: Callable[[str], bool]) -> list[Mapping[str, Any]]:
    """The shortest list of agent transitions from the initial state to a state `goal` accepts."""
    start = wf.initial_state(workflow)
    queue: list[tuple[str, list[Mapping[str, Any]]]] = [(start, [])]
    seen = {start}
    while queue:
        state, moves = queue.pop(0)
        if moves and goal(state):
            return moves
        for move in wf.transitions_for(workflow, state=state, role=wf.AGENT):
            target = str(move["to"])
            if target not in seen:
                seen.add(target)
                queue.append((target, [*moves, move]))
    return []


def _goal(workflow: Mapping[str, Any], target: str) -> Callable[[str], bool]:
    if target == "info_requested":
        return lambda state: wf.state_is_waiting_citizen(workflow, state)
    if target in ("accepted", "refused"):
        return lambda state: wf.state_outcome(workflow, state) == target
    # "in review": any open state after the first move.
    return lambda state: wf.state_kind(workflow, state) == wf.OPEN


def _advance(application: Application, agent: User, target: str) -> list[str]:
    """Move `application` to the `target` kind of state; the transitions made."""
    if target == "submitted":
        return []
    workflow = definition_of(application.version).workflow
    made = []
    for move in _path(workflow, _goal(workflow, target)):
        name = str(move["name"])
        comment = COMMENTS.get(name, DEFAULT_COMMENT) if move.get("comment") else ""
        application = services.application_transition(
            actor=agent,
            application_id=application.pk,
            transition=name,
            comment=comment,
            expected_lock_version=application.lock_version,
        )
        made.append(name)
    return made


# --- backdating (demo only) --------------------------------------------------------------------


def _backdate(
    application: Application, *, submitted_at: datetime, step_days: Sequence[int]
) -> None:
    """Move the application's dates and its timeline as if it had been filed at
    `submitted_at`, each later event `step_days[i]` days after the one before."""
    application.refresh_from_db()
    version = definition_of(application.version)
    workflow = version.workflow
    events = list(application.events.order_by("created_at", "id"))
    moment = submitted_at - timedelta(minutes=12)
    times: list[datetime] = []
    for index, event in enumerate(events):
        if event.kind == ApplicationEvent.Kind.SUBMITTED:
            moment = submitted_at
        elif index > 0 and event.kind != ApplicationEvent.Kind.CREATED:
            moment = moment + timedelta(days=step_days[min(len(times), len(step_days) - 1)])
        times.append(moment)
        ApplicationEvent.objects.filter(pk=event.pk).update(created_at=moment)
    last = times[-1] if times else submitted_at
    changes: dict[str, Any] = {
        "created_at": submitted_at - timedelta(minutes=12),
        "updated_at": last,
        "submitted_at": submitted_at,
    }
    state = application.state
    if wf.state_is_final(workflow, state):
        changes["decided_at"] = last
        days = wf.grant_valid_for_days(workflow)
        if days and application.valid_until:
            changes["valid_until"] = timezone.localdate(last) + timedelta(days=days)
    elif not wf.state_is_waiting_citizen(workflow, state):
        sla_due_at, silence_due_at, _outcome = wf.deadlines_for(workflow, submitted_at)
        changes["sla_due_at"] = sla_due_at
        changes["silence_due_at"] = silence_due_at
    Application.objects.filter(pk=application.pk).update(**changes)


def _shift_all(delta: timedelta) -> None:
    """Keep a reloaded demo current: every date of the demo applications moves by `delta`."""
    applications = Application.objects.filter(citizen__in=User.objects.filter(_demo_users()))
    moved = {name: F(name) + delta for name in ("created_at", "updated_at")}
    for name in ("submitted_at", "decided_at", "sla_due_at", "silence_due_at"):
        moved[name] = F(name) + delta
    applications.update(**moved)
    ApplicationEvent.objects.filter(application__in=applications).update(
        created_at=F("created_at") + delta
    )
    Message.objects.filter(application__in=applications).update(created_at=F("created_at") + delta)
    # Dates move by whole days, row by row: few rows have one.
    rows = applications.filter(valid_until__isnull=False).values_list("pk", "valid_until")
    for pk, valid_until in rows:
        if valid_until is not None:
            moved_day = valid_until + timedelta(days=delta.days)
            Application.objects.filter(pk=pk).update(valid_until=moved_day)


def _demo_users() -> Q:
    from ville.core.demo.services import demo_users

    return demo_users()


# --- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    slug: str
    target: str  # submitted | in_review | info_requested | accepted | refused
    days_ago: int


# Every procedure at least once; the services with a demo agent get more.
BUSY = (
    "canteen-registration",
    "school-enrolment",
    "after-school-registration",
    "creche-application",
    "residential-parking-permit",
    "public-space-occupation",
    "street-issue-report",
    "family-quotient",
)
TARGETS = (
    "submitted",
    "in_review",
    "info_requested",
    "in_review",
    "accepted",
    "submitted",
    "refused",
    "in_review",
    "accepted",
)


def queue_plan(slugs: Sequence[str], rng: random.Random) -> list[Planned]:
    order = list(slugs) + [slug for slug in BUSY if slug in slugs] * 3
    plan = []
    for index, slug in enumerate(order[:QUEUE_SIZE]):
        target = TARGETS[index % len(TARGETS)]
        if target in ("accepted", "refused"):
            days_ago = rng.randint(20, 120)
        else:
            days_ago = rng.randint(1, MAX_OPEN_DAYS)
        plan.append(Planned(slug, target, days_ago))
    return plan


def _agents() -> dict[int, User]:
    """Service id → the demo agent who processes it."""
    roles = ServiceRole.objects.filter(
        user__email__in=[*people.LOGIN_EMAILS, BACK_OFFICE_EMAIL]
    ).select_related("user")
    agents: dict[int, User] = {}
    for role in roles.order_by("user__email"):
        if role.user.email != BACK_OFFICE_EMAIL or role.service_id not in agents:
            agents[role.service_id] = role.user
    return agents


def _roles_ensure() -> None:
    for email, codes in EXTRA_ROLES.items():
        user = User.objects.filter(email=email).first()
        for service in Service.objects.filter(code__in=codes):
            if user is not None:
                ServiceRole.objects.get_or_create(user=user, service=service)
    back_office, _ = User.objects.get_or_create(
        email=BACK_OFFICE_EMAIL,
        defaults={
            "first_name": "Service",
            "last_name": "instructeur",
            "password": make_password(None),
            "email_verified_at": timezone.now(),
        },
    )
    covered = set(
        ServiceRole.objects.filter(user__email__in=people.LOGIN_EMAILS).values_list(
            "service_id", flat=True
        )
    )
    for service_id in Procedure.objects.values_list("service_id", flat=True).distinct():
        if service_id not in covered:
            ServiceRole.objects.get_or_create(user=back_office, service_id=service_id)


def _beneficiaries(citizen: User, definition: Definition) -> list[HouseholdMember | None]:
    spec = definition.beneficiary
    if spec is None or spec.get("relation") == "self":
        return [None]
    members: list[HouseholdMember | None] = [
        member
        for member in HouseholdMember.objects.filter(household=citizen.household)
        .exclude(user_id=citizen.pk)
        .select_related("school")
        .order_by("birth_date")
        if spec.get("relation") in ("member", None) or member.relation == spec.get("relation")
    ]
    if not spec.get("required", True):
        members.append(None)
    return members


def _try(citizen: User, slug: str, definition: Definition, *, today: date) -> Application | None:
    for beneficiary in _beneficiaries(citizen, definition)[:3]:
        # The rules that need no answer, checked first: a refused start costs far more.
        ctx = context_for(citizen=citizen, beneficiary=beneficiary, data={}, today=today)
        if _eligibility_failures_so_far(definition=definition, ctx=ctx, lang="fr"):
            continue
        try:
            with transaction.atomic():
                return _file(citizen, slug, beneficiary, today=today)
        except DomainError as exc:
            logger.debug("demo: %s for %s refused: %s %s", slug, citizen.email, exc, exc.fields)
    return None


def _camille(camille: User, agents: Mapping[int, User], *, now: datetime) -> int:
    today = timezone.localdate(now)
    created = 0
    members = {m.first_name: m for m in HouseholdMember.objects.filter(household=camille.household)}
    plans: list[tuple[str, HouseholdMember | None, str, datetime, list[int]]] = [
        (
            "creche-application",
            members.get("Jade"),
            "in_review",
            now - timedelta(days=CRECHE_SUBMITTED_DAYS_AGO),
            [6],
        ),
        (
            "residential-parking-permit",
            None,
            "accepted",
            now - timedelta(days=PARKING_DECIDED_DAYS_AGO),
            [2],
        ),
    ]
    # Last school year's canteen, filed at the end of August before it.
    year = today.year - 1 if today.month >= 9 else today.year - 2
    august = timezone.make_aware(datetime(year, 8, 25, 18, 30))
    plans.append(("canteen-registration", members.get("Léo"), "accepted", august, [3]))
    for slug, member, target, submitted_at, steps in plans:
        procedure = Procedure.objects.filter(slug=slug).first()
        if procedure is None or (
            Application.objects.filter(citizen=camille, procedure=procedure)
            .exclude(state=DRAFT)
            .exists()
        ):
            continue
        with transaction.atomic():
            application = _file(camille, slug, member, today=today)
            made = _advance(application, agents[procedure.service_id], target)
            if slug == "residential-parking-permit":
                # Decided exactly PARKING_DECIDED_DAYS_AGO: reloads shift dates from it.
                submitted_at -= timedelta(days=2 * len(made))
            _backdate(application, submitted_at=submitted_at, step_days=steps)
            if slug == "canteen-registration":
                data = dict(Application.objects.get(pk=application.pk).data)
                data["start_date"] = date(year, 9, 2).isoformat()
                Application.objects.filter(pk=application.pk).update(data=data)
        created += 1
    return created


def _queues(agents: Mapping[int, User], *, now: datetime) -> int:
    synthetic = User.objects.filter(email__endswith=f"@{people.SYNTHETIC_EMAIL_DOMAIN}")
    if Application.objects.filter(citizen__in=synthetic).exists():
        return 0
    residents = list(
        synthetic.filter(service_roles__isnull=True, household__isnull=False)
        .select_related("address")
        .order_by("email")
    )
    with_children = set(
        HouseholdMember.objects.filter(relation=HouseholdMember.Relation.CHILD).values_list(
            "household_id", flat=True
        )
    )
    parents = [r for r in residents if r.household_id in with_children]
    procedures = {p.slug: p for p in Procedure.objects.select_related("current_version")}
    rng = random.Random(SEED)  # noqa: S311 - demo data
    today = timezone.localdate(now)
    created = 0
    for index, planned in enumerate(queue_plan(sorted(procedures), rng)):
        procedure = procedures[planned.slug]
        definition = definition_of(procedure.current_version)  # type: ignore[arg-type]
        agent = agents.get(procedure.service_id)
        spec = definition.beneficiary or {}
        # A child's procedure is filed by parents: fewer refusals to try.
        pool = parents if spec.get("relation") == "child" and parents else residents
        # Start from a different resident each time; try a few until one is eligible.
        for offset in range(40):
            citizen = pool[(index * 7 + offset) % len(pool)]
            application = _try(citizen, planned.slug, definition, today=today)
            if application is not None:
                break
        else:
            logger.info("demo: nobody could file %s", planned.slug)
            continue
        target = planned.target if agent is not None else "submitted"
        if agent is not None:
            _advance(application, agent, target)
        submitted_at = now - timedelta(days=planned.days_ago, hours=rng.randint(0, 8))
        steps = [rng.randint(1, 4) for _ in range(4)]
        _backdate(application, submitted_at=submitted_at, step_days=steps)
        created += 1
    return created


def demo_applications_ensure(*, now: datetime | None = None) -> int:
    """Camille's applications and the agents' queues; returns how many were created.
    Without procedure definitions (a bare territory), there is nothing to do."""
    now = now or timezone.now()
    if not Procedure.objects.filter(current_version__isnull=False).exists():
        return 0
    camille = User.objects.filter(email=people.CAMILLE.email).first()
    if camille is None:
        return 0
    with transaction.atomic():
        _roles_ensure()
        parking = (
            Application.objects.filter(
                citizen=camille,
                procedure__slug="residential-parking-permit",
                decided_at__isnull=False,
            )
            .order_by("created_at")
            .first()
        )
        if parking is not None and parking.decided_at is not None:
            expected = now - timedelta(days=PARKING_DECIDED_DAYS_AGO)
            delta = expected - parking.decided_at
            if abs(delta) > timedelta(hours=12):
                _shift_all(timedelta(days=round(delta / timedelta(days=1))))
        agents = _agents()
        created = _camille(camille, agents, now=now)
        created += _queues(agents, now=now)
    return created
