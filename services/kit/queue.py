"""The Celery app every process shares: Redis broker, queues per concern, at-least-once delivery."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from celery import Celery, signals
from kombu import Exchange, Queue  # type: ignore[attr-defined]

from .context import current_request_id

QUEUES = ("events", "email", "billing")
# One event per task: what relays published before batches; still consumed, so that a
# queue filled by an older relay drains during a rolling update.
EVENT_TASK = "events.deliver"
# Several events per task, in the order their producer committed them: the broker, the
# worker's pool hand-over and the acknowledgement are paid once per batch, not per event
# (docs/performance.md, e-mails).
EVENTS_TASK = "events.deliver_many"
EVENT_BATCH = 50
# Long enough for the slowest task; kombu re-delivers an unacknowledged task after it.
VISIBILITY_TIMEOUT_SECONDS = 600


def create_celery(broker_url: str, *, name: str = "portail") -> Celery:
    """A Celery app configured so that no task is lost when a worker dies mid-task."""
    app = Celery(name, broker=broker_url)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        # At-least-once: acknowledge after the task ran, and give a task back to the queue
        # when the child running it is killed. Consumers are idempotent, so a re-run is safe.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS},
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        # Each queue on its own exchange and key: bare `Queue(name)`s would all be bound to
        # the default exchange with the default key, so a message published to that
        # exchange would be copied into every queue.
        task_queues=[
            Queue(name, Exchange(name, type="direct"), routing_key=name)  # type: ignore[no-untyped-call]
            for name in QUEUES
        ],
        task_default_queue="events",
        task_routes={
            EVENT_TASK: {"queue": "events"},
            EVENTS_TASK: {"queue": "events"},
            "email.*": {"queue": "email"},
        },
        worker_hijack_root_logger=False,
        enable_utc=True,
        timezone="Europe/Paris",
    )
    return app


@signals.before_task_publish.connect  # type: ignore[untyped-decorator]
def _attach_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = current_request_id.get()
    if headers is not None and request_id:
        headers.setdefault("request_id", request_id)


@signals.task_prerun.connect  # type: ignore[untyped-decorator]
def _bind_request_id(task: Any = None, **_: Any) -> None:
    request_id = getattr(task.request, "request_id", None) if task is not None else None
    if request_id:
        current_request_id.set(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)


@signals.task_postrun.connect  # type: ignore[untyped-decorator]
def _unbind_request_id(**_: Any) -> None:
    current_request_id.set(None)
    structlog.contextvars.unbind_contextvars("request_id")


def publish_event(app: Celery, message: dict[str, Any]) -> None:
    """Send one event to the `events` queue, alone in its task (blocking)."""
    app.send_task(
        EVENT_TASK,
        args=[message],
        queue="events",
        retry=False,
        headers={"request_id": message.get("request_id") or ""},
    )


def publish_events(app: Celery, messages: Sequence[dict[str, Any]]) -> None:
    """Send events to the `events` queue, `EVENT_BATCH` per task, in their order (blocking;
    the outbox relay calls it in a thread). Each event keeps its own `request_id`, which the
    consumer binds while it handles that event."""
    for start in range(0, len(messages), EVENT_BATCH):
        app.send_task(
            EVENTS_TASK,
            args=[list(messages[start : start + EVENT_BATCH])],
            queue="events",
            retry=False,
        )
