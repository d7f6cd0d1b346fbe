"""The "My applications" card of the personal space: drafts to finish, applications in
progress, those waiting for the citizen first, recent decisions and permits about to end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ville.dashboard.registry import URGENCY_NONE, URGENCY_TODO, Card, card_provider
from ville.procedures import workflow as wf
from ville.procedures.api import page_url
from ville.procedures.definitions import Definition, definition_of, text_in
from ville.procedures.models import DRAFT, Application

# A decision stays on the card for a week; a permit shows when it ends within a month.
RECENT_DECISION_DAYS = 7
EXPIRY_NOTICE_DAYS = 30
MAX_ITEMS = 6
# More than the card shows, so that the summary counts what matters without a count query.
FETCHED = 50

WAITING = "waiting"
EXPIRING = "expiring"
DRAFT_STATUS = "draft"
IN_PROGRESS = "in_progress"
DECIDED = "decided"
# Order on the card: what the citizen has to do first.
STATUS_ORDER = {WAITING: 0, EXPIRING: 1, DRAFT_STATUS: 2, IN_PROGRESS: 3, DECIDED: 4}


def _status(application: Application, definition: Definition, today: Any) -> str:
    workflow = definition.workflow
    if application.state == DRAFT:
        return DRAFT_STATUS
    if wf.state_is_waiting_citizen(workflow, application.state):
        return WAITING
    if wf.state_is_final(workflow, application.state):
        valid_until = application.valid_until
        if valid_until and today <= valid_until <= today + timedelta(days=EXPIRY_NOTICE_DAYS):
            return EXPIRING
        return DECIDED
    return IN_PROGRESS


def _status_label(status: str, application: Application) -> str:
    if status == WAITING:
        return _("Waiting for you")
    if status == EXPIRING:
        day = formats.date_format(application.valid_until or "", "DATE_FORMAT")
        return _("Ends on %(date)s") % {"date": day}
    if status == DRAFT_STATUS:
        return _("To finish")
    if status == DECIDED:
        return _("Decided")
    return _("In progress")


def _url(application: Application, definition: Definition, status: str) -> str:
    if status == DRAFT_STATUS:
        steps = definition.step_ids
        step_id = steps[min(application.step, len(steps) - 1)]
        return page_url("procedures:step", application_id=application.pk, step_id=step_id)
    return page_url("procedures:application", application_id=application.pk)


def _item(application: Application, today: Any, lang: str) -> dict[str, Any]:
    definition = definition_of(application.version)
    status = _status(application, definition, today)
    title = str(text_in(definition.title, lang))
    if application.state == DRAFT:
        state_label = _("Draft")
    else:
        label = wf.state_info(definition.workflow, application.state).get("label")
        state_label = str(text_in(label, lang)) if label else application.state
    name = application.beneficiary_name
    return {
        "id": str(application.pk),
        "label": f"{title} — {name}" if name else title,
        "title": title,
        "beneficiary": name,
        "tracking_code": application.tracking_code,
        "state": application.state,
        "state_label": state_label,
        "status": status,
        "status_label": _status_label(status, application),
        "submitted_at": application.submitted_at.isoformat() if application.submitted_at else None,
        "valid_until": application.valid_until.isoformat() if application.valid_until else None,
        "url": _url(application, definition, status),
    }


def current_applications(*, user: Any) -> list[Application]:
    """The citizen's own applications worth showing now, in one query: drafts, open ones,
    decisions of the last week, and granted permits ending within a month."""
    now = timezone.now()
    today = timezone.localdate(now)
    return list(
        Application.objects.filter(citizen_id=user.pk)
        .filter(
            Q(decided_at__isnull=True)
            | Q(decided_at__gte=now - timedelta(days=RECENT_DECISION_DAYS))
            | Q(valid_until__range=(today, today + timedelta(days=EXPIRY_NOTICE_DAYS)))
        )
        .select_related("version")
        .order_by("-updated_at", "-id")[:FETCHED]
    )


@card_provider(kind="applications", order=30, title=gettext_lazy("My applications"))
def applications_card(*, user: Any, request: HttpRequest | None) -> Card:
    today = timezone.localdate()
    lang = (translation.get_language() or "fr").split("-")[0]
    items = [_item(app, today, lang) for app in current_applications(user=user)]
    items.sort(key=lambda item: STATUS_ORDER[item["status"]])
    card = Card(kind="applications", title=_("My applications"), urgency=URGENCY_NONE)
    list_url = page_url("procedures:my_applications")
    if list_url:
        card.actions = [{"label": _("All my applications"), "url": list_url}]
    if not items:
        card.status = "empty"
        card.empty_message = _("You have no application in progress.")
        card.summary = _(
            "When you apply for a service online, your applications and their progress "
            "will appear here."
        )
        return card
    counts = {status: 0 for status in STATUS_ORDER}
    for item in items:
        counts[item["status"]] += 1
    card.items = items[:MAX_ITEMS]
    card.data = {"counts": counts, "total": len(items)}
    if counts[WAITING]:
        card.summary = ngettext(
            "%(count)d application is waiting for you.",
            "%(count)d applications are waiting for you.",
            counts[WAITING],
        ) % {"count": counts[WAITING]}
    else:
        open_count = counts[IN_PROGRESS] + counts[DRAFT_STATUS]
        card.summary = ngettext(
            "%(count)d application in progress.",
            "%(count)d applications in progress.",
            open_count,
        ) % {"count": open_count}
    # Something to do (an answer, a renewal) or news (a decision): put the card first.
    if counts[WAITING] or counts[EXPIRING] or counts[DECIDED]:
        card.urgency = URGENCY_TODO
    return card
