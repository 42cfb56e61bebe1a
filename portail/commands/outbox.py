"""`portail outbox-relay <service>`: a service's outbox relay as a process of its own."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from typing import Any

from services.kit.event_loop import run as run_on_chosen_loop
from services.kit.logs import configure_logging
from services.kit.outbox import OutboxMessageMixin
from services.kit.relay_process import relay_settings_class, run_relay
from services.kit.settings import load_settings

from ..registry import SERVICE_NAMES, service


def outbox_model(name: str) -> type[OutboxMessageMixin] | None:
    """The outbox table of service `name`, or None when it emits no event."""
    entry = service(name)
    model: type[OutboxMessageMixin] | None = getattr(
        importlib.import_module(f"{entry.package}.models"), "OutboxMessage", None
    )
    return model


def relayed_services() -> list[str]:
    """The services that have an outbox, hence a relay to run."""
    return [name for name in SERVICE_NAMES if outbox_model(name) is not None]


def _relay(args: argparse.Namespace) -> int:
    model = outbox_model(args.service)
    if model is None:
        print(f"{args.service} has no outbox", file=sys.stderr)
        return 2
    settings = load_settings(relay_settings_class(service(args.service).settings_class()))
    configure_logging(f"{args.service}-relay", settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        run_on_chosen_loop(run_relay(settings, model))
    return 0


def register(commands: Any) -> None:
    """Add the outbox command."""
    relay = commands.add_parser(
        "outbox-relay",
        help="relay a service's outbox to the queue, beside the service started with "
        "OUTBOX_RELAY_IN_PROCESS=false; woken by PostgreSQL's NOTIFY, polling every "
        "OUTBOX_RELAY_INTERVAL as a safety net (reads the service's database URL, REDIS_URL "
        "and the OUTBOX_RELAY_* settings only)",
    )
    relay.add_argument("service", choices=SERVICE_NAMES)
    relay.set_defaults(handler=_relay)
