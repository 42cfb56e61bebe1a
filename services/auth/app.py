"""The auth service: accounts, invitations, passwords, sessions, tokens (JWKS), API clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from services.kit.app import REDIS, ServiceSpec, create_service_app
from services.kit.identity import identity_middleware
from services.kit.keys import DATABASE, HTTP_CLIENT, TOKEN_VERIFIER
from services.kit.settings import load_settings_or_exit

from .config import AuthSettings
from .context import AUTH, AuthContext
from .crypto import Sealer, dev_key_encryption_key
from .models import OutboxMessage
from .passwords import Passwords
from .requests import client_basic_auth_middleware
from .signing import KeyRing, ensure_key
from .throttle import Throttle
from .tokens import KeyRingVerifier, TokenIssuer
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
    # After the kit's contexts: the database, Redis and verifier exist when this one starts.
    app.cleanup_ctx.append(_auth_ctx(settings))
    return app


def key_encryption_key(settings: AuthSettings) -> str:
    """The configured key-encryption key; the dev and test profiles make one under var/."""
    if settings.key_encryption_key:
        return settings.key_encryption_key
    return dev_key_encryption_key()


def _auth_ctx(settings: AuthSettings):  # type: ignore[no-untyped-def]
    async def auth_ctx(app: web.Application) -> AsyncIterator[None]:
        database = app[DATABASE]
        sealer = Sealer(key_encryption_key(settings))
        await ensure_key(database, sealer)
        keyring = KeyRing(database, sealer, settings)
        await keyring.load()  # fails at start, not at the first sign-in, if the key is wrong
        auth = AuthContext(
            settings=settings,
            database=database,
            sealer=sealer,
            passwords=Passwords(settings),
            keyring=keyring,
            issuer=TokenIssuer(keyring, settings),
            throttle=Throttle(app[REDIS]),
        )
        app[AUTH] = auth
        app[TOKEN_VERIFIER] = KeyRingVerifier(
            keyring,
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
    web.run_app(create_app(settings), host=settings.host, port=settings.port, access_log=None)


if __name__ == "__main__":
    main()
