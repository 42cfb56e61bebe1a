"""The Celery app of worker and beat processes: every service's tasks, and beat's schedule.

`portail worker` and `portail beat` build it at start; `celery -A portail.worker …` works
too (the module's `app` attribute is built on first access, not at import).
"""

from __future__ import annotations

import importlib
import importlib.util
from datetime import UTC, datetime
from typing import Any, ClassVar

import redis
from celery import Celery, shared_task
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.kit.queue import QUEUES, create_celery
from services.kit.settings import BaseServiceSettings, load_settings

from .registry import SERVICES

HEARTBEAT_TASK = "portail.heartbeat"
HEARTBEAT_KEY = "portail:heartbeat"


class WorkerSettings(BaseServiceSettings):
    """What worker and beat processes need themselves; each service's tasks read their own."""

    model_config = SettingsConfigDict(env_prefix="WORKER_", extra="ignore", frozen=True)
    service_name: ClassVar[str] = "worker"
    required_in_prod: ClassVar[tuple[str, ...]] = ("redis_url",)

    concurrency: int = Field(2, ge=1, le=64)
    queues: str = ",".join(QUEUES)
    beat_schedule_file: str = "var/beat/celerybeat-schedule"
    heartbeat_seconds: float = Field(30.0, gt=0)


def task_modules() -> list[str]:
    """The `tasks` module of every service that has one."""
    return [
        f"{entry.package}.tasks"
        for entry in SERVICES
        if importlib.util.find_spec(f"{entry.package}.tasks") is not None
    ]


def create_worker_app(settings: WorkerSettings | None = None) -> Celery:
    """The Celery app with every service's tasks registered and beat's schedule merged."""
    settings = settings or load_settings(WorkerSettings)
    app = create_celery(settings.redis_url)
    schedule: dict[str, dict[str, Any]] = {
        # Proves the whole chain beat → Redis → worker; `portail status` can read its key.
        "portail-heartbeat": {
            "task": HEARTBEAT_TASK,
            "schedule": settings.heartbeat_seconds,
            # Its key outlives a few missed beats, so a slow worker is not reported dead.
            "kwargs": {"ttl_seconds": int(settings.heartbeat_seconds * 4) + 1},
        },
    }
    for name in task_modules():
        module = importlib.import_module(name)
        schedule.update(getattr(module, "BEAT_SCHEDULE", {}))
    app.conf.beat_schedule = schedule
    # Our logs are JSON lines on stdout already; Celery would re-wrap them as warnings.
    app.conf.worker_redirect_stdouts = False
    # A late-ack task whose broker connection dropped can no longer be acknowledged and will
    # be delivered again: stop it rather than let two copies run at once (Celery 6's default).
    app.conf.worker_cancel_long_running_tasks_on_connection_loss = True
    # Shared tasks bind to the current app: make this one current for the process.
    app.set_current()
    app.set_default()
    return app


@shared_task(name=HEARTBEAT_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
def heartbeat(ttl_seconds: int = 121) -> str:
    """Write when a worker last ran a task from beat (expires if the chain stops)."""
    from celery import current_app

    now = datetime.now(UTC).isoformat()
    client = redis.Redis.from_url(current_app.conf.broker_url, socket_timeout=2)
    try:
        client.set(HEARTBEAT_KEY, now, ex=ttl_seconds)
    finally:
        client.close()
    return now


def __getattr__(name: str) -> Any:
    # `celery -A portail.worker` looks for `app`; build it on demand, not at import.
    if name in ("app", "celery"):
        app = create_worker_app()
        globals()["app"] = globals()["celery"] = app
        return app
    raise AttributeError(name)
