"""API clients of municipal systems: a secret shown once, exchanged for scoped tokens."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select

from services.kit import revoked_clients
from services.kit.outbox import utcnow
from services.kit.problems import BadRequest

from . import events
from .context import AuthContext
from .crypto import digest, new_token, same_digest
from .errors import AccountNotFound, InvalidClient
from .models import ApiClient
from .schemas import SERVICE_SCOPES
from .service import emit
from .tokens import client_claims

_DUMMY_DIGEST = digest("no client has this secret")


async def create(
    auth: AuthContext, *, name: str, scopes: list[str], actor: str
) -> tuple[ApiClient, str]:
    """A new client and its secret (only its hash is kept)."""
    secret = new_token()
    client = ApiClient(
        id=str(uuid.uuid4()),
        name=name,
        secret_hash=digest(secret),
        scopes=sorted(set(scopes)),
        created_at=utcnow(),
        created_by=actor,
    )
    async with auth.database.transaction() as session:
        session.add(client)
        emit(
            session,
            events.API_CLIENT_CREATED,
            client_id=client.id,
            name=name,
            scopes=client.scopes,
            actor=actor,
        )
    return client, secret


async def list_all(auth: AuthContext) -> list[ApiClient]:
    """Every client, newest first."""
    async with auth.database.sessions() as session:
        rows = await session.scalars(select(ApiClient).order_by(ApiClient.created_at.desc()))
        return list(rows.all())


async def revoke(auth: AuthContext, *, client_id: str, actor: str) -> None:
    """Stop a client from getting new tokens, and have its tokens refused at once: once
    committed it is noted for `revocation_marks` to mark before the answer (again when
    already revoked, in case Redis lost the first mark)."""
    async with auth.database.transaction() as session:
        client = await session.get(ApiClient, client_id, with_for_update=True)
        if client is None:
            raise AccountNotFound("No such API client.")
        if client.revoked_at is None:
            client.revoked_at = utcnow()
            emit(session, events.API_CLIENT_REVOKED, client_id=client.id, actor=actor)
    revoked_clients.note(client.id)


def still_granted(listed: Iterable[str]) -> set[str]:
    """The scopes a client's tokens carry. A client made before a scope stopped being granted
    keeps it listed; its tokens no longer carry it (nothing checks it, and nothing that checks
    it later inherits it) — but a write scope still gives the read it included (the client
    was granted `documents:read` with `documents:write`: it keeps reading)."""
    kept = set()
    for scope in listed:
        service, _, access = scope.partition(":")
        if scope in SERVICE_SCOPES:
            kept.add(scope)
        elif access == "write" and f"{service}:read" in SERVICE_SCOPES:
            kept.add(f"{service}:read")
    return kept


async def exchange(
    auth: AuthContext, *, client_id: str, client_secret: str, scope: str | None
) -> tuple[str, list[str]]:
    """A short-lived token for a valid client, limited to the scopes asked (and allowed)."""
    try:
        uuid.UUID(client_id)
    except ValueError:
        raise InvalidClient("Unknown client or wrong secret.", error="invalid_client") from None
    async with auth.database.sessions() as session:
        client = await session.get(ApiClient, client_id)
    expected = client.secret_hash if client is not None else _DUMMY_DIGEST
    if not same_digest(expected, digest(client_secret)) or client is None or client.revoked_at:
        raise InvalidClient("Unknown client or wrong secret.", error="invalid_client")
    granted = sorted(still_granted(client.scopes))
    if scope:
        asked = scope.split()
        if not set(asked) <= set(granted):
            raise BadRequest(
                "A scope asked for is not granted to this client.", error="invalid_scope"
            )
        granted = sorted(set(asked))
    return await auth.issuer.issue(client_claims(client.id, granted)), granted
