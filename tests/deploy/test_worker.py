"""Beat's schedule as deployed: each periodic task lands on a queue some worker consumes."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery

from portail.worker import WorkerSettings, create_worker_app, task_modules
from services.kit.queue import QUEUES

from .manifests import OVERLAYS, build, load_from, of_kind, pod_spec
from .test_compose import environment_of
from .test_kubernetes import workload_env

TARGETS = ("base", *OVERLAYS)


@pytest.fixture
def worker_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Celery]:
    """The Celery app `portail worker` builds, from the compose worker's own environment."""
    settings = load_from(monkeypatch, "worker", environment_of("worker"))
    assert isinstance(settings, WorkerSettings)
    app = create_worker_app(settings)
    yield app
    app.close()


def queue_of(app: Celery, entry: dict[str, Any]) -> str:
    """The queue a beat entry's message is sent to (its options, the routes, or the default)."""
    route = app.amqp.router.route(dict(entry.get("options", {})), entry["task"])
    name: str = route["queue"].name
    return name


def consumed(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The queues a worker started with `env` consumes (WORKER_QUEUES, or the default)."""
    with monkeypatch.context() as patch:
        settings = load_from(patch, "worker", env)
    assert isinstance(settings, WorkerSettings)
    return {q.strip() for q in settings.queues.split(",") if q.strip()}


def kubernetes_worker_queues(target: str, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every queue some worker Deployment of `target` consumes."""
    queues: set[str] = set()
    for deployment in of_kind(build(target), "Deployment").values():
        (container,) = pod_spec(deployment)["containers"]
        if container["command"][:2] == ["portail", "worker"]:
            queues |= consumed(workload_env(target, deployment), monkeypatch)
    return queues


def test_beat_schedules_every_entry_of_every_tasks_module(worker_app: Celery) -> None:
    # The schedule merges each module's BEAT_SCHEDULE: none is skipped, no key shadows another.
    merged = worker_app.conf.beat_schedule
    expected = 1  # the heartbeat
    for name in task_modules():
        schedule = getattr(importlib.import_module(name), "BEAT_SCHEDULE", {})
        expected += len(schedule)
        for key, entry in schedule.items():
            assert merged[key]["task"] == entry["task"], f"{name}: {key}"
    assert len(merged) == expected


def test_every_periodic_task_is_registered_in_the_worker(worker_app: Celery) -> None:
    for key, entry in worker_app.conf.beat_schedule.items():
        assert entry["task"] in worker_app.tasks, f"{key}: {entry['task']} is not registered"


@pytest.mark.parametrize("target", TARGETS)
def test_every_periodic_task_reaches_a_kubernetes_worker(
    target: str, worker_app: Celery, monkeypatch: pytest.MonkeyPatch
) -> None:
    queues = kubernetes_worker_queues(target, monkeypatch)
    # Every queue of the kit has a consumer (the e-mails' `email` is fed by the services).
    assert set(QUEUES) <= queues
    for key, entry in worker_app.conf.beat_schedule.items():
        assert queue_of(worker_app, entry) in queues, f"{key} goes to a queue nobody consumes"


def test_every_periodic_task_reaches_the_compose_worker(
    worker_app: Celery, monkeypatch: pytest.MonkeyPatch
) -> None:
    queues = consumed(environment_of("worker"), monkeypatch)
    assert set(QUEUES) <= queues
    for key, entry in worker_app.conf.beat_schedule.items():
        assert queue_of(worker_app, entry) in queues, f"{key} goes to a queue nobody consumes"


def test_a_task_on_an_unknown_queue_would_be_caught(worker_app: Celery) -> None:
    entry = {"task": "documents.purge", "options": {"queue": "nobody"}}
    assert queue_of(worker_app, entry) == "nobody"
    assert "nobody" not in QUEUES
