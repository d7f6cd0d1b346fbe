"""Permission-checked reads of applications, their timeline and their files: the security
boundary. Anything the actor may not see is NotFound (never 403), so nothing can be probed."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property

from ville.accounts.models import ServiceRole
from ville.audit import events as audit
from ville.core.errors import NotFound
from ville.core.ratelimit import client_key, ratelimit_hit
from ville.procedures.definitions import definition_of
from ville.procedures.models import (
    DRAFT,
    Application,
    ApplicationEvent,
    Attachment,
    Message,
    Procedure,
    ProcedureVersion,
)
from ville.procedures.tracking import tracking_code_normalise
from ville.vault.models import KnownAttribute

CITIZEN = ApplicationEvent.Role.CITIZEN.value
AGENT = ApplicationEvent.Role.AGENT.value

# Counted per client address: a lookup without an account must not become a guessing oracle.
LOOKUP_SCOPE = "application_lookup"
MAX_PER_PAGE = 100


def _authenticated(actor: Any) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False))


def as_uuid(value: UUID | str) -> UUID:
    """A malformed id is just another id that does not exist."""
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except (TypeError, ValueError) as exc:
        raise NotFound() from exc


def agent_service_ids(*, actor: Any) -> QuerySet[ServiceRole, Any]:
    """The services where `actor` holds a role, as a subquery (no extra round trip)."""
    return ServiceRole.objects.filter(user_id=actor.pk).values("service_id")


def is_agent_of(*, actor: Any, service_id: Any) -> bool:
    if not _authenticated(actor):
        return False
    return ServiceRole.objects.filter(user_id=actor.pk, service_id=service_id).exists()


def application_role_of(*, actor: Any, application: Application) -> str | None:
    """`citizen` for the applicant, `agent` for an agent of its service, None for anyone
    else. A draft is the applicant's alone, except for the agent filing it at the counter."""
    if not _authenticated(actor):
        return None
    if actor.pk == application.citizen_id:
        return CITIZEN
    if application.state == DRAFT and application.filed_by_id != actor.pk:
        return None
    if is_agent_of(actor=actor, service_id=application.service_id):
        return AGENT
    return None


def _applications() -> QuerySet[Application]:
    return Application.objects.select_related(
        "procedure", "version", "service", "citizen", "beneficiary", "assigned_to", "filed_by"
    )


def application_get_for(
    *, actor: Any, application_id: UUID | str, request: HttpRequest | None = None
) -> Application:
    """The application if `actor` is its applicant or an agent of its service (that read is
    audited); NotFound for anyone else."""
    if not _authenticated(actor):
        raise NotFound()
    application = _applications().filter(pk=as_uuid(application_id)).first()
    if application is None:
        raise NotFound()
    role = application_role_of(actor=actor, application=application)
    if role is None:
        raise NotFound()
    if role == AGENT:
        audit.record_application_viewed(request=request, actor=actor, application=application)
    return application


def _title_query(query: str) -> Q:
    # The title is a translated text of the definition: search every language.
    condition = Q(procedure__slug__icontains=query)
    for code, _name in settings.LANGUAGES:
        condition |= Q(**{f"version__definition__title__{code}__icontains": query})
    return condition


def _page(queryset: QuerySet[Any], *, page: int | str, per_page: int) -> Page:
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    return Paginator(queryset, per_page).get_page(page)


# Counting a whole service's history on every view of a queue grows with the years; past
# these numbers the pages say "more than".
QUEUE_COUNT_CAP = 10_000
STATE_COUNT_CAP = 1_000


class CappedPaginator(Paginator):
    """A paginator that stops counting at `cap`: `count` is at most cap + 1, and
    `is_capped` tells the page to say "more than cap"."""

    def __init__(self, object_list: QuerySet[Any], per_page: int, *, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.queryset = object_list
        self.cap = cap

    @cached_property
    def count(self) -> int:
        # Without order_by() PostgreSQL would walk the ordering index to count.
        return self.queryset.order_by()[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap


def applications_of(
    *,
    actor: Any,
    query: str = "",
    state: str | None = None,
    page: int | str = 1,
    per_page: int = 20,
) -> Page:
    """`actor`'s own applications, newest first; `query` matches the tracking code, the
    procedure's title or the beneficiary's name."""
    if not _authenticated(actor):
        raise NotFound()
    applications = _applications().filter(citizen_id=actor.pk).defer("version__definition")
    if state:
        applications = applications.filter(state=state)
    query = (query or "").strip()[:200]
    if query:
        condition = _title_query(query) | Q(beneficiary_name__icontains=query)
        code = tracking_code_normalise(query)
        if code:
            condition |= Q(tracking_code=code)
        applications = applications.filter(condition)
    return _page(applications.order_by("-created_at", "-id"), page=page, per_page=per_page)


def application_find_by_code(
    *, tracking_code: str, email: str, request: HttpRequest | None = None
) -> Application:
    """The application with this exact code whose applicant has this e-mail (any case), for
    a lookup without an account. Rate-limited; one NotFound whatever did not match."""
    ratelimit_hit(scope=LOOKUP_SCOPE, key=client_key(request))
    code = tracking_code_normalise(tracking_code)
    email = (email or "").strip()
    if not code or not email or len(email) > 254:
        raise NotFound()
    application = _applications().filter(tracking_code=code, citizen__email__iexact=email).first()
    if application is None:
        raise NotFound()
    return application


def agent_queue(
    *,
    actor: Any,
    state: str | None = None,
    overdue: bool = False,
    assigned_to_me: bool = False,
    procedure: str | None = None,
    query: str = "",
    page: int | str = 1,
    per_page: int = 50,
) -> Page:
    """The submitted applications of the services where `actor` holds a role, the most
    urgent first (service-level due date). `query` matches the tracking code, the citizen's
    or beneficiary's name, or any text inside the answers. Three queries: the services,
    a count that stops at QUEUE_COUNT_CAP, the page."""
    if not _authenticated(actor):
        raise NotFound()
    # A literal list, not a subquery: PostgreSQL then reads the first page straight from
    # the (service, due date) index instead of sorting the whole service.
    service_ids = list(agent_service_ids(actor=actor).values_list("service_id", flat=True))
    applications = (
        Application.objects.filter(service_id__in=service_ids)
        .exclude(state=DRAFT)
        .select_related("procedure", "citizen", "assigned_to")
        .defer("provenance")
    )
    if state:
        applications = applications.filter(state=state)
    if overdue:
        applications = applications.filter(sla_due_at__lt=timezone.now(), decided_at__isnull=True)
    if assigned_to_me:
        applications = applications.filter(assigned_to_id=actor.pk)
    if procedure:
        applications = applications.filter(procedure__slug=procedure)
    query = (query or "").strip()[:200]
    if query:
        # Every word must match somewhere: "camille martin" finds Camille Martin.
        words = Q()
        for word in query.split()[:6]:
            words &= (
                Q(citizen__first_name__icontains=word)
                | Q(citizen__last_name__icontains=word)
                | Q(beneficiary_name__icontains=word)
                | Q(data__icontains=word)
            )
        # A tracking code is the common case at the counter and on the phone: when it
        # matches, that is the answer; otherwise (a name can look like a code, "FERNANDE")
        # search the words.
        code = tracking_code_normalise(query)
        exact = applications.filter(tracking_code=code) if code else None
        applications = exact if exact is not None and exact.exists() else applications.filter(words)
    applications = applications.order_by(F("sla_due_at").asc(nulls_last=True), "submitted_at", "id")
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    return CappedPaginator(applications, per_page, cap=QUEUE_COUNT_CAP).get_page(page)


def attachment_get_for(
    *, actor: Any, attachment_id: UUID | str, request: HttpRequest | None = None
) -> Attachment:
    """A file of an application the actor may see; an agent's download is audited."""
    if not _authenticated(actor):
        raise NotFound()
    attachment = (
        Attachment.objects.select_related("application__procedure")
        .filter(pk=as_uuid(attachment_id))
        .first()
    )
    if attachment is None:
        raise NotFound()
    role = application_role_of(actor=actor, application=attachment.application)
    if role is None:
        raise NotFound()
    if role == AGENT:
        audit.record_attachment_downloaded(request=request, actor=actor, attachment=attachment)
    return attachment


def timeline_for(*, actor: Any, application: Application) -> QuerySet[ApplicationEvent]:
    """The events of the application, oldest first; the citizen sees only those meant for
    them (internal notes and assignments stay in the back office)."""
    role = application_role_of(actor=actor, application=application)
    if role is None:
        raise NotFound()
    events = application.events.select_related("actor").order_by("created_at", "id")
    if role == CITIZEN:
        events = events.filter(visible_to_citizen=True)
    return events


def messages_for(*, actor: Any, application: Application) -> QuerySet[Message]:
    """The messages about the application with their files, oldest first."""
    if application_role_of(actor=actor, application=application) is None:
        raise NotFound()
    return application.messages.select_related("author").prefetch_related("attachments")


# --- the agents' back office ---------------------------------------------------------------


def agent_procedures(*, actor: Any) -> QuerySet[Procedure]:
    """The procedures of the services where `actor` holds a role (the queue's filter and
    what the counter may file)."""
    if not _authenticated(actor):
        return Procedure.objects.none()
    return (
        Procedure.objects.filter(service_id__in=agent_service_ids(actor=actor))
        .select_related("current_version", "service")
        .order_by("slug")
    )


def agent_queue_counts(*, actor: Any) -> dict[str, int]:
    """How many submitted applications of the actor's services are in each state, each
    count stopping just past STATE_COUNT_CAP."""
    if not _authenticated(actor):
        return {}
    service_ids = list(agent_service_ids(actor=actor).values_list("service_id", flat=True))
    versions = ProcedureVersion.objects.filter(
        procedure__service_id__in=service_ids, procedure__current_version_id=F("id")
    )
    states = sorted(
        {name for version in versions for name in definition_of(version).workflow["states"]}
    )
    # One small capped count per state (an index range each) instead of a GROUP BY over
    # every application the services ever had.
    counts = {}
    for name in states:
        total = (
            Application.objects.filter(service_id__in=service_ids, state=name)
            .order_by()[: STATE_COUNT_CAP + 1]
            .count()
        )
        if total:
            counts[name] = total
    return counts


def agent_roles_on(*, actor: Any, application: Application) -> list[str]:
    """The workflow roles `actor` holds on `application` as an agent: `agent`, plus
    `supervisor` for a supervisor of its service; empty for anyone else."""
    if not _authenticated(actor):
        return []
    held = set(
        ServiceRole.objects.filter(user_id=actor.pk, service_id=application.service_id).values_list(
            "role", flat=True
        )
    )
    if not held:
        return []
    return ["agent", "supervisor"] if ServiceRole.Role.SUPERVISOR in held else ["agent"]


def service_agents_for(*, actor: Any, application: Application) -> list[Any]:
    """The active agents of the application's service (whom it can be assigned to), for an
    agent of that service."""
    if not is_agent_of(actor=actor, service_id=application.service_id):
        raise NotFound()
    roles = (
        ServiceRole.objects.filter(service_id=application.service_id, user__is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )
    return list({role.user_id: role.user for role in roles}.values())


def verified_facts_for(*, actor: Any, application: Application) -> QuerySet[KnownAttribute]:
    """What the city already verified about the applicant (vault attributes with a
    verification date), for an agent of the application's service: not to be asked again."""
    if application_role_of(actor=actor, application=application) != AGENT:
        raise NotFound()
    return KnownAttribute.objects.filter(
        citizen_id=application.citizen_id, verified_at__isnull=False
    ).order_by("key")


COUNTER_SEARCH_LIMIT = 10


def citizens_find_for_agent(*, actor: Any, query: str) -> list[Any]:
    """Citizens an agent looks for at the counter: the exact e-mail address, or every word
    of the query in the first or last name (at least 2 letters each). Only names and
    addresses are listed; opening a record goes through `citizen_get_for_agent` (audited)."""
    from ville.accounts.models import User

    if not _authenticated(actor) or not agent_service_ids(actor=actor).exists():
        raise NotFound()
    query = (query or "").strip()[:200]
    citizens = User.objects.filter(is_active=True, is_staff=False, service_roles__isnull=True)
    if "@" in query:
        citizens = citizens.filter(email__iexact=query)
    else:
        words = [word for word in query.split()[:4] if len(word) >= 2]
        if not words:
            return []
        for word in words:
            citizens = citizens.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    return list(
        citizens.order_by("last_name", "first_name", "email").distinct()[:COUNTER_SEARCH_LIMIT]
    )
