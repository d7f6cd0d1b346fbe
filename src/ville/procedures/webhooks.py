"""Outbound webhooks: state changes written to an outbox in the caller's transaction, then
POSTed, signed, in order and with retries, to the back-end systems of each service.

The wire format (body, headers, signature) is documented in docs/domains/procedures.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task

from ville.procedures.models import Application, OutboxEvent, WebhookAttempt, WebhookEndpoint

logger = logging.getLogger(__name__)

SIGNATURE_PREFIX = "sha256="
FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 6 * 60 * 60
# Up to +10 %: receivers that came back are not hit by every sender at the same second,
# and a retry never comes earlier than its back-off step.
JITTER = 0.10
# The only 4xx answers that may succeed later; any other 4xx is final at once.
RETRYABLE_4XX = frozenset({408, 429})
DEFAULT_MAX_ATTEMPTS = 12
DEFAULT_TIMEOUT_SECONDS = 5.0
DEFAULT_CLIENT = "ville.procedures.webhooks.UrllibWebhookClient"
# Events claimed per short transaction; small, so several workers share a backlog.
CLAIM_BATCH = 10

_random = secrets.SystemRandom()


# --- Writing the outbox ----------------------------------------------------------------


def outbox_enqueue(
    *, application: Application, event_type: str, payload: Mapping[str, Any]
) -> list[OutboxEvent]:
    """Owe one delivery of this event to every active endpoint of the application's service.

    Must run inside the transaction that changes the application, after the application's
    row was updated (that row lock orders concurrent changes): the rows commit or roll back
    with the change, and delivery is enqueued only once the transaction has committed.
    `payload` becomes the body's `data`; keep personal data out of it.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue() must run inside the transaction of the change.")
    endpoints = list(
        WebhookEndpoint.objects.filter(service_id=application.service_id, is_active=True).order_by(
            "created_at", "id"
        )
    )
    if not endpoints:
        return []
    now = timezone.now()
    application_part = {
        "id": str(application.pk),
        "tracking_code": application.tracking_code,
        "procedure": application.procedure.slug,
        "version": application.version.number,
        "state": application.state,
        "service": application.service.code,
    }
    # Dates, UUIDs and decimals become strings now, so retries send the same bytes.
    data = json.loads(json.dumps(dict(payload), cls=DjangoJSONEncoder))
    last = OutboxEvent.objects.filter(application=application).aggregate(last=Max("created_at"))[
        "last"
    ]
    events = []
    for endpoint in endpoints:
        event_id = uuid.uuid4()
        body = {
            "id": str(event_id),
            "type": event_type,
            "created_at": now.isoformat(),
            "application": application_part,
            "data": data,
        }
        events.append(
            OutboxEvent(
                id=event_id,
                endpoint=endpoint,
                application=application,
                event_type=event_type,
                payload=body,
                next_attempt_at=now,
            )
        )
    OutboxEvent.objects.bulk_create(events)
    # Delivery follows creation order per application; with a frozen or coarse clock two
    # changes could share a timestamp, so the newer one is pushed just past the older.
    if last is not None and any(event.created_at <= last for event in events):
        after = last + dt.timedelta(microseconds=1)
        OutboxEvent.objects.filter(pk__in=[event.pk for event in events]).update(created_at=after)
        for event in events:
            event.created_at = after
    transaction.on_commit(_enqueue_delivery, robust=True)
    return events


def _enqueue_delivery() -> None:
    # If the queue is unavailable, the scheduler's periodic run delivers the rows anyway.
    deliver_webhooks.enqueue()


# --- Signing ---------------------------------------------------------------------------


def webhook_body(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed) for an outbox payload: compact, sorted JSON."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def webhook_sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """HMAC-SHA256, hex, of `"<timestamp>." + body` with the endpoint's shared secret."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_verify(
    secret: str,
    timestamp: int | str,
    body: bytes,
    signature: str,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent.

    The tolerance (seconds, either way) stops a captured request from being replayed
    later; the `X-Ville-Delivery` id lets the receiver drop the retries it already has.
    """
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        return False
    given = signature.removeprefix(SIGNATURE_PREFIX)
    return hmac.compare_digest(webhook_sign(secret, sent_at, body), given)


def webhook_headers(*, event: OutboxEvent, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "VilleIntelligente-Webhooks/1",
        "X-Ville-Event": event.event_type,
        "X-Ville-Delivery": str(event.pk),
        "X-Ville-Timestamp": str(timestamp),
        "X-Ville-Signature": SIGNATURE_PREFIX
        + webhook_sign(event.endpoint.secret, timestamp, body),
    }


# --- HTTP clients (the real one and its stub twin) ------------------------------------


@dataclass(frozen=True)
class WebhookResponse:
    """What one POST gave: a status code, or an error when no answer came back."""

    status_code: int | None
    error: str = ""
    duration_ms: int = 0


class WebhookClient(Protocol):
    def post(
        self, url: str, *, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> WebhookResponse: ...


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would turn a redirected POST into a GET without its body: report the 3xx.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class UrllibWebhookClient:
    """POSTs with the standard library; never raises, never follows redirects."""

    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(_NoRedirect)

    def post(
        self, url: str, *, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> WebhookResponse:
        if urlsplit(url).scheme not in {"http", "https"}:
            # urllib would also open file:// or ftp:// URLs.
            return WebhookResponse(None, error="unsupported URL scheme")
        # The scheme is checked just above.
        request = urllib.request.Request(  # noqa: S310
            url, data=body, headers=dict(headers), method="POST"
        )
        started = time.monotonic()
        try:
            with self._opener.open(request, timeout=timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        except urllib.error.URLError as exc:
            return WebhookResponse(None, _describe(exc.reason), _elapsed_ms(started))
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return WebhookResponse(None, _describe(exc), _elapsed_ms(started))
        return WebhookResponse(status, "", _elapsed_ms(started))


@dataclass(frozen=True)
class StubRequest:
    url: str
    body: bytes
    headers: dict[str, str]
    timeout: float


@dataclass
class StubWebhookClient:
    """Answers from a script instead of the network, and remembers every request.

    `responses` is consumed in order (a status code, or None for "no answer"); once empty,
    `default` answers.
    """

    responses: list[int | None] = field(default_factory=list)
    default: int | None = 200
    requests: list[StubRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def post(
        self, url: str, *, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> WebhookResponse:
        with self._lock:
            self.requests.append(StubRequest(url, body, dict(headers), timeout))
            status = self.responses.pop(0) if self.responses else self.default
        if status is None:
            return WebhookResponse(None, error="ConnectionRefusedError: stub endpoint is down")
        return WebhookResponse(status)


def webhook_client() -> WebhookClient:
    """The client named by `VILLE_WEBHOOK_CLIENT` (the urllib one unless overridden)."""
    client: WebhookClient = import_string(
        getattr(settings, "VILLE_WEBHOOK_CLIENT", DEFAULT_CLIENT)
    )()
    return client


def _describe(error: object) -> str:
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    return text[:500]


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# --- Delivering ------------------------------------------------------------------------


def webhook_retry_delay(attempts: int) -> dt.timedelta:
    """Wait after the `attempts`-th failure: 1 min, 2, 4, … capped at 6 h, plus jitter."""
    base = min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)
    return dt.timedelta(seconds=min(base * (1 + _random.uniform(0, JITTER)), MAX_RETRY_SECONDS))


def outbox_deliver_due(
    *, now: dt.datetime | None = None, limit: int = 100, client: WebhookClient | None = None
) -> int:
    """POST the outbox events that are due, at most `limit`; returns the number of tries.

    Per endpoint and application, an event goes out only once every older one has been
    delivered or has given up: a receiver never sees a newer state before an older one.
    Events are claimed in a short transaction (`SKIP LOCKED` on PostgreSQL; SQLite has one
    writer) with a lease, so several workers share the work, no HTTP call runs inside a
    transaction, and a crashed worker's events come back after the lease.
    """
    client = client or webhook_client()
    clock: Callable[[], dt.datetime] = (lambda: now) if now is not None else timezone.now
    max_attempts = int(getattr(settings, "VILLE_WEBHOOK_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    timeout = float(getattr(settings, "VILLE_WEBHOOK_TIMEOUT", DEFAULT_TIMEOUT_SECONDS))
    tries = 0
    while tries < limit:
        batch = min(limit - tries, CLAIM_BATCH)
        # The lease outlasts the whole batch even if every POST times out: no other worker
        # may take an event back while this one may still be sending it.
        events = _claim_due(now=clock(), limit=batch, lease_seconds=60 + timeout * batch)
        if not events:
            break
        for event in events:
            _attempt(event, client=client, clock=clock, timeout=timeout, max_attempts=max_attempts)
            tries += 1
    return tries


@task()
def deliver_webhooks() -> int:
    """Background task enqueued after each commit that wrote outbox rows."""
    return outbox_deliver_due()


def _claim_due(*, now: dt.datetime, limit: int, lease_seconds: float) -> list[OutboxEvent]:
    older_pending = OutboxEvent.objects.filter(
        endpoint=OuterRef("endpoint"),
        application=OuterRef("application"),
        status=OutboxEvent.Status.PENDING,
    ).filter(
        Q(created_at__lt=OuterRef("created_at"))
        | Q(created_at=OuterRef("created_at"), id__lt=OuterRef("id"))
    )
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(
                status=OutboxEvent.Status.PENDING,
                next_attempt_at__lte=now,
                endpoint__is_active=True,
            )
            .filter(~Exists(older_pending))
            .order_by("created_at", "id")[:limit]
        )
        if events:
            OutboxEvent.objects.filter(pk__in=[event.pk for event in events]).update(
                next_attempt_at=now + dt.timedelta(seconds=lease_seconds)
            )
    return events


def _attempt(
    event: OutboxEvent,
    *,
    client: WebhookClient,
    clock: Callable[[], dt.datetime],
    timeout: float,
    max_attempts: int,
) -> None:
    body = webhook_body(event.payload)
    timestamp = int(clock().timestamp())
    headers = webhook_headers(event=event, body=body, timestamp=timestamp)
    response = client.post(event.endpoint.url, body=body, headers=headers, timeout=timeout)
    finished = clock()
    attempts = event.attempts + 1
    status = response.status_code
    error = response.error or (f"HTTP {status}" if status and not 200 <= status < 300 else "")
    changes: dict[str, Any] = {"attempts": attempts, "last_error": error[:500]}
    if status is not None and 200 <= status < 300:
        changes |= {"status": OutboxEvent.Status.DELIVERED, "delivered_at": finished}
    elif (status is not None and 400 <= status < 500 and status not in RETRYABLE_4XX) or (
        attempts >= max_attempts
    ):
        changes["status"] = OutboxEvent.Status.FAILED
    else:
        changes["next_attempt_at"] = finished + webhook_retry_delay(attempts)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            event=event,
            status_code=status,
            error=response.error[:500],
            duration_ms=response.duration_ms,
        )
        OutboxEvent.objects.filter(pk=event.pk, status=OutboxEvent.Status.PENDING).update(
            **changes, updated_at=timezone.now()
        )
    log = logger.info if changes.get("status") != OutboxEvent.Status.FAILED else logger.warning
    log(
        "webhook %s to %s: attempt %d, %s",
        event.pk,
        event.endpoint.url,
        attempts,
        status if status is not None else response.error,
    )
