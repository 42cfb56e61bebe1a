"""The billing service: tariffs, invoices and their PDFs, balances, payments."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from services.kit.app import ServiceSpec, create_service_app
from services.kit.event_loop import run_web_app
from services.kit.settings import load_settings_or_exit

from .config import BillingSettings
from .models import OutboxMessage
from .payfip_simulator import SIMULATOR, SimulatorState, create_simulator
from .storage import storage_ctx
from .views import SIMULATOR_PREFIX, routes
from .views_export import routes as export_routes

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: BillingSettings) -> web.Application:
    """The billing application for these settings."""
    spec = ServiceSpec(
        title="Portail Famille — billing",
        version="0.2.0",
        routes=[*routes, *export_routes],
        migrations_dir=MIGRATIONS,
        outbox_model=OutboxMessage,
    )
    app = create_service_app(settings, spec)
    app.cleanup_ctx.append(storage_ctx)
    if settings.payfip_mode == "simulator":
        # The offline PayFiP lives in this very process in dev and tests: nothing more to
        # start. In prod the mode is `payfip` and this prefix does not exist.
        state = SimulatorState()
        app[SIMULATOR] = state  # tests reach the simulator's switches here
        app.add_subapp(SIMULATOR_PREFIX, create_simulator(state))
    return app


def main() -> None:
    """Run the service on its configured host and port."""
    settings = load_settings_or_exit(BillingSettings)
    run_web_app(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
