"""Outbound webhooks: outbox rows only with a committed change, signed POSTs in order per
application, back-off with jitter, final 4xx, a delivery log, and a real local receiver."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.conftest import verified_client
from tests.factories import AuthorityFactory, UserFactory
from ville.procedures import webhooks
from ville.procedures.models import (
    Application,
    OutboxEvent,
    Procedure,
    ProcedureVersion,
    WebhookAttempt,
    WebhookEndpoint,
)
from ville.procedures.webhooks import (
    StubWebhookClient,
    UrllibWebhookClient,
    outbox_deliver_due,
    outbox_enqueue,
    webhook_body,
    webhook_retry_delay,
    webhook_sign,
    webhook_verify,
)
from ville.territory.models import Service

pytestmark = pytest.mark.django_db

SECRET = "s3cret-shared-with-the-school-system-0123456789"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MINIMAL_DEFINITION = {
    "slug": "test-procedure",
    "service": "education",
    "title": {"fr": "Démarche de test"},
    "steps": [],
    "workflow": {"initial": "submitted", "states": {}, "transitions": []},
}

SHARED_STUB = StubWebhookClient()


def shared_stub() -> StubWebhookClient:
    """What VILLE_WEBHOOK_CLIENT points at when a test needs to see the task's requests."""
    return SHARED_STUB


# --- Helpers ---------------------------------------------------------------------------


@pytest.fixture
def service() -> Service:
    return Service.objects.create(
        code="education", name={"fr": "Éducation"}, authority=AuthorityFactory()
    )


def make_application(service: Service, *, state: str = "submitted") -> Application:
    procedure, _ = Procedure.objects.get_or_create(slug="test-procedure", service=service)
    version, _ = ProcedureVersion.objects.get_or_create(
        procedure=procedure,
        number=1,
        defaults={"checksum": "0" * 64, "definition": MINIMAL_DEFINITION},
    )
    return Application.objects.create(
        procedure=procedure,
        version=version,
        service=service,
        citizen=UserFactory(),
        state=state,
        tracking_code=uuid.uuid4().hex[:8].upper(),
    )


def make_endpoint(service: Service, url: str = "http://127.0.0.1:9/hook") -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(service=service, url=url, secret=SECRET)


def change(application: Application, to_state: str) -> list[OutboxEvent]:
    """What the workflow service does: change the state and write the outbox, atomically."""
    with transaction.atomic():
        from_state = application.state
        application.state = to_state
        application.save(update_fields=["state"])
        return outbox_enqueue(
            application=application,
            event_type="application.state_changed",
            payload={"from": from_state, "to": to_state},
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver:
    """A real HTTP server on 127.0.0.1 that checks each signature as a receiver would, and
    answers 503 to the first `failures` requests."""

    def __init__(self, port: int, *, failures: int) -> None:
        self.failures = failures
        self.requests: list[dict[str, Any]] = []
        lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    status = 503 if len(receiver.requests) < receiver.failures else 200
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": body,
                            "status": status,
                            "valid": webhook_verify(
                                SECRET,
                                self.headers["X-Ville-Timestamp"],
                                body,
                                self.headers["X-Ville-Signature"],
                            ),
                        }
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- Signing ---------------------------------------------------------------------------


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    body = b'{"a":1}'
    expected = hmac.new(SECRET.encode(), b"1767000000." + body, hashlib.sha256).hexdigest()
    assert webhook_sign(SECRET, 1767000000, body) == expected
    assert webhook_sign(SECRET, "1767000000", body) == expected


def test_verify_accepts_the_signature_and_refuses_tampering_and_replays() -> None:
    body = b'{"id":"x"}'
    signature = "sha256=" + webhook_sign(SECRET, 1000, body)
    assert webhook_verify(SECRET, 1000, body, signature, now=1000)
    assert webhook_verify(SECRET, "1000", body, signature.removeprefix("sha256="), now=1299)
    assert not webhook_verify(SECRET, 1000, body + b" ", signature, now=1000)
    assert not webhook_verify("another-secret", 1000, body, signature, now=1000)
    assert not webhook_verify(SECRET, 1001, body, signature, now=1001)
    # Older or newer than the tolerance: a captured request cannot be replayed later.
    assert not webhook_verify(SECRET, 1000, body, signature, now=1301)
    assert not webhook_verify(SECRET, 1000, body, signature, now=699)
    assert not webhook_verify(SECRET, "not-a-number", body, signature, now=1000)


def test_retry_delay_doubles_from_one_minute_with_upward_jitter_and_a_six_hour_cap() -> None:
    for attempts, base in [(1, 60), (2, 120), (3, 240), (4, 480), (9, 15360)]:
        for _ in range(50):
            seconds = webhook_retry_delay(attempts).total_seconds()
            assert base <= seconds <= base * 1.1
    for attempts in (10, 11, 20):
        assert webhook_retry_delay(attempts).total_seconds() == 6 * 3600


# --- The outbox and the transaction ------------------------------------------------------


def test_one_row_per_active_endpoint_with_the_documented_body(service: Service) -> None:
    application = make_application(service)
    first = make_endpoint(service, "http://127.0.0.1:9/a")
    second = make_endpoint(service, "http://127.0.0.1:9/b")
    WebhookEndpoint.objects.create(
        service=service, url="http://127.0.0.1:9/off", secret=SECRET, is_active=False
    )
    other_service = Service.objects.create(
        code="roads", name={"fr": "Voirie"}, authority=service.authority
    )
    make_endpoint(other_service, "http://127.0.0.1:9/roads")

    with time_machine.travel(T0, tick=False):
        events = change(application, "in_review")

    assert {event.endpoint for event in events} == {first, second}
    assert OutboxEvent.objects.count() == 2
    event = OutboxEvent.objects.get(endpoint=first)
    assert event.status == OutboxEvent.Status.PENDING
    assert event.next_attempt_at == T0
    assert event.payload == {
        "id": str(event.pk),
        "type": "application.state_changed",
        "created_at": T0.isoformat(),
        "application": {
            "id": str(application.pk),
            "tracking_code": application.tracking_code,
            "procedure": "test-procedure",
            "version": 1,
            "state": "in_review",
            "service": "education",
        },
        "data": {"from": "submitted", "to": "in_review"},
    }
    # No personal data: neither the citizen nor the form's content.
    assert application.citizen.email not in json.dumps(event.payload)


def test_no_endpoint_no_row_and_no_task(service: Service, django_capture_on_commit_callbacks):
    application = make_application(service)
    with django_capture_on_commit_callbacks() as callbacks:
        assert change(application, "in_review") == []
    assert callbacks == []
    assert not OutboxEvent.objects.exists()


def test_payload_values_are_made_json_once(service: Service) -> None:
    application = make_application(service)
    make_endpoint(service)
    with transaction.atomic():
        [event] = outbox_enqueue(
            application=application,
            event_type="application.decided",
            payload={"decided_on": dt.date(2026, 3, 2), "ref": uuid.UUID(int=1)},
        )
    event.refresh_from_db()
    assert event.payload["data"] == {
        "decided_on": "2026-03-02",
        "ref": "00000000-0000-0000-0000-000000000001",
    }


def test_changes_within_the_same_microsecond_keep_their_order(service: Service) -> None:
    application = make_application(service)
    make_endpoint(service)
    with time_machine.travel(T0, tick=False):
        [first] = change(application, "in_review")
        [second] = change(application, "accepted")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.created_at < second.created_at
    assert list(OutboxEvent.objects.order_by("created_at", "id")) == [first, second]


@pytest.mark.django_db(transaction=True)
def test_rows_and_delivery_exist_only_if_the_change_commits(service: Service, settings) -> None:
    settings.VILLE_WEBHOOK_CLIENT = "tests.procedures.test_webhooks.shared_stub"
    SHARED_STUB.requests.clear()
    SHARED_STUB.responses[:] = []
    application = make_application(service)
    make_endpoint(service)

    with pytest.raises(ZeroDivisionError), transaction.atomic():
        change(application, "in_review")
        assert OutboxEvent.objects.count() == 1
        1 / 0  # noqa: B018 - the rest of the change fails
    assert not OutboxEvent.objects.exists()
    assert SHARED_STUB.requests == []

    with transaction.atomic():
        [event] = change(application, "in_review")
        # Inside the transaction: written, not sent.
        assert SHARED_STUB.requests == []
    # After the commit the task ran (the test settings run tasks at once) and sent it.
    assert len(SHARED_STUB.requests) == 1
    assert SHARED_STUB.requests[0].headers["X-Ville-Delivery"] == str(event.pk)
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DELIVERED


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused(service: Service) -> None:
    application = make_application(service)
    make_endpoint(service)
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox_enqueue(application=application, event_type="x", payload={})
    assert not OutboxEvent.objects.exists()


# --- Delivery with the stub client -------------------------------------------------------


def test_delivered_on_2xx_with_headers_and_a_log_row(service: Service) -> None:
    application = make_application(service)
    endpoint = make_endpoint(service, "http://127.0.0.1:9/hook")
    client = StubWebhookClient(responses=[204])
    with time_machine.travel(T0, tick=False):
        [event] = change(application, "in_review")
        assert outbox_deliver_due(client=client) == 1

    [request] = client.requests
    assert request.url == endpoint.url
    assert request.body == webhook_body(event.payload)
    assert request.timeout == 5.0
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Ville-Event"] == "application.state_changed"
    assert headers["X-Ville-Delivery"] == str(event.pk)
    assert headers["X-Ville-Timestamp"] == str(int(T0.timestamp()))
    assert headers["X-Ville-Signature"] == "sha256=" + webhook_sign(
        SECRET, int(T0.timestamp()), request.body
    )
    event.refresh_from_db()
    assert (event.status, event.attempts, event.delivered_at) == (
        OutboxEvent.Status.DELIVERED,
        1,
        T0,
    )
    [log] = WebhookAttempt.objects.filter(event=event)
    assert (log.status_code, log.error) == (204, "")
    # Nothing is owed any more.
    assert outbox_deliver_due(client=client) == 0
    assert len(client.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_a_final_4xx_fails_at_once(service: Service, status: int) -> None:
    application = make_application(service)
    make_endpoint(service)
    client = StubWebhookClient(responses=[status])
    [event] = change(application, "in_review")
    assert outbox_deliver_due(client=client) == 1
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.FAILED
    assert event.attempts == 1
    assert event.last_error == f"HTTP {status}"
    assert WebhookAttempt.objects.get(event=event).status_code == status


@pytest.mark.parametrize("status", [None, 301, 408, 429, 500, 502, 503])
def test_network_errors_5xx_408_429_are_retried(service: Service, status: int | None) -> None:
    application = make_application(service)
    make_endpoint(service)
    client = StubWebhookClient(responses=[status])
    with time_machine.travel(T0, tick=False):
        [event] = change(application, "in_review")
        assert outbox_deliver_due(client=client) == 1
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.PENDING
    assert event.attempts == 1
    assert T0 + dt.timedelta(seconds=60) <= event.next_attempt_at <= T0 + dt.timedelta(seconds=66)
    log = WebhookAttempt.objects.get(event=event)
    assert log.status_code == status
    assert bool(log.error) == (status is None)


def test_back_off_schedule_then_failed_after_max_attempts(service: Service, settings) -> None:
    settings.VILLE_WEBHOOK_MAX_ATTEMPTS = 12
    application = make_application(service)
    make_endpoint(service)
    client = StubWebhookClient(default=503)
    with time_machine.travel(T0, tick=False) as clock:
        [event] = change(application, "in_review")
        assert outbox_deliver_due(client=client) == 1
        for attempts in range(1, 12):
            event.refresh_from_db()
            base = min(60 * 2 ** (attempts - 1), 6 * 3600)
            wait = (event.next_attempt_at - dt.datetime.now(dt.UTC)).total_seconds()
            assert base <= wait <= min(base * 1.1, 6 * 3600)
            # Not a second early.
            clock.move_to(event.next_attempt_at - dt.timedelta(seconds=1))
            assert outbox_deliver_due(client=client) == 0
            clock.move_to(event.next_attempt_at)
            assert outbox_deliver_due(client=client) == 1
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.FAILED
    assert event.attempts == 12
    assert WebhookAttempt.objects.filter(event=event).count() == 12
    assert len({r.headers["X-Ville-Delivery"] for r in client.requests}) == 1
    assert len({r.body for r in client.requests}) == 1


def test_a_later_change_waits_for_the_earlier_one(service: Service) -> None:
    application = make_application(service)
    make_endpoint(service)
    client = StubWebhookClient(responses=[503])
    with time_machine.travel(T0, tick=False) as clock:
        [first] = change(application, "in_review")
        [second] = change(application, "accepted")
        assert outbox_deliver_due(client=client) == 1
        assert [r.headers["X-Ville-Delivery"] for r in client.requests] == [str(first.pk)]
        clock.shift(dt.timedelta(minutes=2))
        assert outbox_deliver_due(client=client) == 2
    assert [r.headers["X-Ville-Delivery"] for r in client.requests] == [
        str(first.pk),
        str(first.pk),
        str(second.pk),
    ]


def test_one_application_down_does_not_hold_back_another(service: Service) -> None:
    blocked, free = make_application(service), make_application(service)
    make_endpoint(service)
    client = StubWebhookClient(responses=[503])
    [blocked_event] = change(blocked, "in_review")
    change(blocked, "accepted")
    [free_event] = change(free, "in_review")
    assert outbox_deliver_due(client=client) == 2
    sent = [r.headers["X-Ville-Delivery"] for r in client.requests]
    assert sent == [str(blocked_event.pk), str(free_event.pk)]


def test_a_given_up_event_does_not_block_the_next_forever(service: Service) -> None:
    application = make_application(service)
    make_endpoint(service)
    client = StubWebhookClient(responses=[410])
    [first] = change(application, "in_review")
    [second] = change(application, "accepted")
    assert outbox_deliver_due(client=client) == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("failed", "delivered")


def test_a_paused_endpoint_keeps_its_events_until_it_is_active(service: Service) -> None:
    application = make_application(service)
    endpoint = make_endpoint(service)
    client = StubWebhookClient()
    [event] = change(application, "in_review")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    assert outbox_deliver_due(client=client) == 0
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=True)
    assert outbox_deliver_due(client=client) == 1
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DELIVERED


def test_limit_bounds_one_run(service: Service) -> None:
    make_endpoint(service)
    for _ in range(5):
        change(make_application(service), "in_review")
    client = StubWebhookClient()
    assert outbox_deliver_due(client=client, limit=3) == 3
    assert OutboxEvent.objects.filter(status="pending").count() == 2


def test_command_delivers_what_is_due(service: Service, settings, capsys) -> None:
    settings.VILLE_WEBHOOK_CLIENT = "tests.procedures.test_webhooks.shared_stub"
    SHARED_STUB.requests.clear()
    SHARED_STUB.responses[:] = []
    make_endpoint(service)
    change(make_application(service), "in_review")
    call_command("deliver_webhooks")
    assert "1 webhook delivery attempt(s)." in capsys.readouterr().out
    assert len(SHARED_STUB.requests) == 1
    assert OutboxEvent.objects.get().status == OutboxEvent.Status.DELIVERED


# --- The real client -----------------------------------------------------------------------


def test_real_client_reports_refusals_redirects_and_schemes() -> None:
    client = UrllibWebhookClient()
    port = free_port()
    refused = client.post(f"http://127.0.0.1:{port}/", body=b"{}", headers={}, timeout=2)
    assert refused.status_code is None
    assert "refused" in refused.error.lower()
    assert client.post("file:///etc/passwd", body=b"{}", headers={}, timeout=2).error == (
        "unsupported URL scheme"
    )

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        assert client.post(url, body=b"{}", headers={}, timeout=2).status_code == 302
    finally:
        server.shutdown()
        server.server_close()


def test_receiver_down_for_three_attempts_then_gets_each_change_once(service: Service) -> None:
    """The acceptance test: down (not listening, then 503, 503), back up, and then exactly
    one delivery per state change, in order per application, each validly signed."""
    port = free_port()
    make_endpoint(service, f"http://127.0.0.1:{port}/ville")
    camille, sami = make_application(service), make_application(service)
    client = UrllibWebhookClient()

    with time_machine.travel(T0, tick=False) as clock:
        changes = {
            "camille-1": change(camille, "in_review")[0],
            "sami-1": change(sami, "in_review")[0],
            "camille-2": change(camille, "accepted")[0],
            "sami-2": change(sami, "refused")[0],
        }
        ids = {name: str(event.pk) for name, event in changes.items()}

        # Attempt 1: nobody listens.
        assert outbox_deliver_due(client=client) == 2
        assert set(WebhookAttempt.objects.values_list("status_code", flat=True)) == {None}

        receiver = Receiver(port, failures=4)
        with receiver:
            # Back-off: nothing before one minute.
            clock.move_to(T0 + dt.timedelta(seconds=59))
            assert outbox_deliver_due(client=client) == 0
            # Attempt 2 (after 1 min) and 3 (2 min later): 503.
            clock.move_to(T0 + dt.timedelta(seconds=67))
            assert outbox_deliver_due(client=client) == 2
            clock.shift(dt.timedelta(seconds=119))
            assert outbox_deliver_due(client=client) == 0
            clock.shift(dt.timedelta(seconds=14))
            assert outbox_deliver_due(client=client) == 2
            # Attempt 4, 4 min later: the receiver is back; the second changes follow.
            clock.shift(dt.timedelta(seconds=265))
            assert outbox_deliver_due(client=client) == 4
            # Nothing is sent twice afterwards.
            clock.shift(dt.timedelta(hours=1))
            assert outbox_deliver_due(client=client) == 0

    requests = receiver.requests
    assert [r["status"] for r in requests] == [503] * 4 + [200] * 4
    assert all(r["valid"] for r in requests)
    assert all(r["path"] == "/ville" for r in requests)
    delivered = [r["headers"]["X-Ville-Delivery"] for r in requests if r["status"] == 200]
    assert sorted(delivered) == sorted(ids.values())
    assert delivered.index(ids["camille-1"]) < delivered.index(ids["camille-2"])
    assert delivered.index(ids["sami-1"]) < delivered.index(ids["sami-2"])
    # The retries carried the same delivery id and the same bytes.
    retried = [r for r in requests if r["status"] == 503]
    assert sorted(r["headers"]["X-Ville-Delivery"] for r in retried) == sorted(
        [ids["camille-1"], ids["sami-1"]] * 2
    )
    for r in requests:
        same = [
            o
            for o in requests
            if o["headers"]["X-Ville-Delivery"] == r["headers"]["X-Ville-Delivery"]
        ]
        assert {o["body"] for o in same} == {r["body"]}
        body = json.loads(r["body"])
        assert body["id"] == r["headers"]["X-Ville-Delivery"]
        assert r["headers"]["X-Ville-Event"] == body["type"] == "application.state_changed"

    for name, event in changes.items():
        event.refresh_from_db()
        assert event.status == OutboxEvent.Status.DELIVERED, name
        expected = [None, 503, 503, 200] if name.endswith("-1") else [200]
        log = list(event.log.order_by("created_at", "id").values_list("status_code", flat=True))
        assert log == expected, name
        assert event.attempts == len(expected)


# --- Several workers at once (PostgreSQL: SKIP LOCKED) -----------------------------------


class SlowStub(StubWebhookClient):
    def post(self, url: str, **kwargs: Any) -> webhooks.WebhookResponse:
        threading.Event().wait(0.02)
        return super().post(url, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_an_event_twice_nor_out_of_order(service: Service, settings) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent workers need PostgreSQL (SQLite has a single writer)")
    # The queued tasks wait (as for a busy worker): the two workers below do the sending.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    make_endpoint(service)
    chained = make_application(service)
    chain = [change(chained, state)[0] for state in ("in_review", "info_requested", "accepted")]
    singles = [change(make_application(service), "in_review")[0] for _ in range(12)]
    client = SlowStub()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            outbox_deliver_due(client=client)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    sent = [r.headers["X-Ville-Delivery"] for r in client.requests]
    assert sorted(sent) == sorted(str(e.pk) for e in chain + singles)
    assert [s for s in sent if s in {str(e.pk) for e in chain}] == [str(e.pk) for e in chain]
    assert OutboxEvent.objects.filter(status="delivered").count() == 15


# --- Admin: the delivery log ---------------------------------------------------------------


@pytest.fixture
def admin_client_verified() -> Any:
    staff = UserFactory(email="admin@example.org", is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=staff, name="default", confirmed=True)
    return verified_client(staff, device)


def test_admin_shows_the_delivery_log_read_only(service: Service, admin_client_verified) -> None:
    client = admin_client_verified
    application = make_application(service)
    make_endpoint(service)
    [event] = change(application, "in_review")
    outbox_deliver_due(client=StubWebhookClient(responses=[503]))
    attempt = WebhookAttempt.objects.get()

    for name in [
        "procedures_outboxevent",
        "procedures_webhookattempt",
        "procedures_webhookendpoint",
        "procedures_procedure",
        "procedures_procedureversion",
        "procedures_application",
    ]:
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name

    page = client.get(reverse("admin:procedures_outboxevent_change", args=[event.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "503" in html
    assert 'name="_save"' not in html
    assert client.get(reverse("admin:procedures_outboxevent_add")).status_code == 403
    assert (
        client.get(reverse("admin:procedures_webhookattempt_delete", args=[attempt.pk])).status_code
        == 403
    )
    page = client.get(reverse("admin:procedures_application_change", args=[application.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_admin_never_shows_the_secret_and_keeps_it_when_left_empty(
    service: Service, admin_client_verified
) -> None:
    client = admin_client_verified
    endpoint = make_endpoint(service, "https://ecoles.example.org/hook")
    url = reverse("admin:procedures_webhookendpoint_change", args=[endpoint.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert SECRET not in page.content.decode()

    data = {"service": service.pk, "url": "https://ecoles.example.org/v2", "secret": ""}
    response = client.post(url, {**data, "is_active": "on"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.secret) == ("https://ecoles.example.org/v2", SECRET)

    add = reverse("admin:procedures_webhookendpoint_add")
    assert client.post(add, data).status_code == 200  # a new endpoint needs a secret
    assert client.post(add, {**data, "secret": "short"}).status_code == 200
    assert WebhookEndpoint.objects.count() == 1
    new_secret = "n" * 40
    assert client.post(add, {**data, "secret": new_secret}).status_code == 302
    assert WebhookEndpoint.objects.filter(secret=new_secret).exists()


@pytest.fixture(autouse=True)
def _reset_shared_stub() -> Iterator[None]:
    yield
    SHARED_STUB.requests.clear()
    SHARED_STUB.responses[:] = []
