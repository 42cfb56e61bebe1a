"""The auth service: accounts, invitations, passwords, sessions, tokens (JWKS), API clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from services.kit.app import REDIS, ServiceSpec, create_service_app
from services.kit.event_loop import run_web_app
from services.kit.identity import identity_middleware
from services.kit.keys import DATABASE, HTTP_CLIENT, TOKEN_VERIFIER
from services.kit.settings import load_settings_or_exit

from .config import AuthSettings
from .context import AUTH
from .lapses import mark_all_disabled
from .models import OutboxMessage
from .requests import client_basic_auth_middleware
from .revocation_marks import mark_revoked_sessions
from .runtime import build_context
from .tokens import KeyRingVerifier
from .views import routes

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: AuthSettings) -> web.Application:
    """The auth application for these settings."""
    spec = ServiceSpec(
        title="Portail Famille — auth",
        version="0.1.0",
        routes=routes,
        migrations_dir=MIGRATIONS,
        outbox_model=OutboxMessage,
    )
    app = create_service_app(settings, spec)
    # Basic credentials of OAuth clients are taken off before the kit reads bearer tokens.
    app.middlewares.insert(app.middlewares.index(identity_middleware), client_basic_auth_middleware)
    app.middlewares.append(mark_revoked_sessions)
    # After the kit's contexts: the database, Redis and verifier exist when this one starts.
    app.cleanup_ctx.append(_auth_ctx(settings))
    return app


def _auth_ctx(settings: AuthSettings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def auth_ctx(app: web.Application) -> AsyncIterator[None]:
        auth = await build_context(settings, app[DATABASE], app[REDIS])
        app[AUTH] = auth
        await mark_all_disabled(app[DATABASE], app[REDIS])
        # The kit's verifier, reading this service's own keys first (no HTTP round trip).
        app[TOKEN_VERIFIER] = KeyRingVerifier(
            auth.keyring,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            jwks_url=settings.jwks_url,
            jwks_json=settings.jwks_json,
            http=lambda: app[HTTP_CLIENT],
        )
        yield
        await auth.drain()

    return auth_ctx


def main() -> None:
    """Run the service on its configured host and port."""
    settings = load_settings_or_exit(AuthSettings)
    run_web_app(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
