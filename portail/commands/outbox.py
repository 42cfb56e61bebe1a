"""`portail outbox-relay <service>`: a service's outbox relay as a process of its own."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from typing import Any

from services.kit.event_loop import run as run_on_chosen_loop
from services.kit.logs import configure_logging
from services.kit.relay_process import run_relay
from services.kit.settings import load_settings

from ..registry import SERVICE_NAMES, service


def _relay(args: argparse.Namespace) -> int:
    entry = service(args.service)
    model = getattr(importlib.import_module(f"{entry.package}.models"), "OutboxMessage", None)
    if model is None:
        print(f"{entry.name} has no outbox", file=sys.stderr)
        return 2
    settings = load_settings(entry.settings_class())
    configure_logging(f"{entry.name}-relay", settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        run_on_chosen_loop(run_relay(settings, model))
    return 0


def register(commands: Any) -> None:
    """Add the outbox command."""
    relay = commands.add_parser(
        "outbox-relay",
        help="relay a service's outbox to the queue, beside the service started with "
        "OUTBOX_RELAY_IN_PROCESS=false (same settings as the service)",
    )
    relay.add_argument("service", choices=SERVICE_NAMES)
    relay.set_defaults(handler=_relay)
