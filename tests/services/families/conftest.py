"""A families app on this run's PostgreSQL, with factories that go through its real API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from services.families.models import FieldPolicy, OutboxMessage
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

# The gateway's own fixtures, to put the real gateway in front of the real families service.
from tests.gateway.conftest import gateway, upstream  # noqa: F401
from tests.queue.processes import ProcessSet
from tests.services.notifications.smtp_server import SmtpServer

from .pages import PARENT_EMAIL, STAFF_EMAIL, AuthWithStaff, sign_in
from .real_portal import (
    PUBLIC_BASE_URL,
    SMTP_FROM,
    RealPortal,
    combined_jwks,
    drop_databases,
    empty_queues,
    fresh_databases,
    start_worker,
)


class FamiliesApi:
    """Calls to the families service as staff, a parent, a municipal system or anonymous."""

    def __init__(self, client: TestClient, signer: TestSigner) -> None:
        self.client = client
        self.signer = signer

    def staff(self) -> dict[str, str]:
        """Headers of an agent of the structure."""
        return self.signer.headers(role="staff", subject="agent-1")

    def parent(self, family_id: str, **claims: Any) -> dict[str, str]:
        """Headers of a parent of `family_id`."""
        return self.signer.headers(families=[family_id], subject=f"parent-{family_id}", **claims)

    def system(self, *scopes: str) -> dict[str, str]:
        """Headers of a municipal system holding `scopes`."""
        return self.signer.headers(role="service", subject="logiciel-structure", scopes=scopes)

    async def family(self, **fields: Any) -> dict[str, Any]:
        """A new family created by staff."""
        body = {
            "name": f"FAM-{uuid.uuid4().hex[:8]}",
            "address": "1 rue des Écoles",
            "postal_code": "64240",
            "city": "Hasparren",
            "phone": "05 59 29 00 00",
            "email": f"{uuid.uuid4().hex[:8]}@exemple.fr",
            **fields,
        }
        response = await self.client.post("/families", json=body, headers=self.staff())
        assert response.status == 201, await response.text()
        return await response.json()

    async def person(self, family_id: str, **fields: Any) -> dict[str, Any]:
        """A new person of `family_id` created by staff (a child unless told otherwise)."""
        body = {"role": "child", "first_name": "Léa", "last_name": "Martin", **fields}
        response = await self.client.post(
            f"/families/{family_id}/persons", json=body, headers=self.staff()
        )
        assert response.status == 201, await response.text()
        return await response.json()

    async def read_family(self, family_id: str) -> dict[str, Any]:
        """The family as staff read it."""
        response = await self.client.get(f"/families/{family_id}", headers=self.staff())
        assert response.status == 200, await response.text()
        return await response.json()

    async def read_person(self, family_id: str, person_id: str) -> dict[str, Any]:
        """A person as staff read it."""
        response = await self.client.get(
            f"/families/{family_id}/persons/{person_id}", headers=self.staff()
        )
        assert response.status == 200, await response.text()
        return await response.json()

    async def ask(
        self,
        family_id: str,
        changes: dict[str, Any],
        *,
        version: int,
        person_id: str | None = None,
    ) -> Any:
        """A parent's change request (the raw response)."""
        body: dict[str, Any] = {
            "target": "person" if person_id else "family",
            "version": version,
            "changes": changes,
        }
        if person_id:
            body["person_id"] = person_id
        return await self.client.post(
            f"/families/{family_id}/requests", json=body, headers=self.parent(family_id)
        )

    async def requested(self, family_id: str, changes: dict[str, Any], **kw: Any) -> dict:
        """A change request that must be accepted as pending."""
        response = await self.ask(family_id, changes, **kw)
        assert response.status == 201, await response.text()
        return await response.json()

    async def events(self, event_type: str | None = None, **data: str) -> list[dict[str, Any]]:
        """Outbox messages (of `event_type`) whose `data` holds these values, oldest first."""
        async with self.client.app[DATABASE].sessions() as session:
            rows = (
                await session.scalars(select(OutboxMessage).order_by(OutboxMessage.occurred_at))
            ).all()
        return [
            r.message
            for r in rows
            if event_type in (None, r.event_type)
            and all(r.message["data"].get(k) == v for k, v in data.items())
        ]


async def families_api(client: TestClient, signer: TestSigner) -> FamiliesApi:
    """The API of a families app, its field policy back to the defaults of the manual."""
    async with client.app[DATABASE].transaction() as session:
        for row in (await session.scalars(select(FieldPolicy))).all():
            await session.delete(row)
    return FamiliesApi(client, signer)


@pytest.fixture
async def api(service_client, signer: TestSigner) -> FamiliesApi:
    """The families service with a clean field policy (tests that change it restore nothing)."""
    return await families_api(await service_client("families"), signer)


class Portal:
    """The gateway, the families service behind it, and a client per signed-in visitor."""

    def __init__(self, api: FamiliesApi, server: Any, aiohttp_client: Any, family: dict) -> None:
        self.api = api
        self.server = server
        self._aiohttp_client = aiohttp_client
        self.family = family

    @property
    def base_url(self) -> str:
        """The gateway's address."""
        return str(self.server.make_url("")).rstrip("/")

    async def visitor(self, email: str | None = None) -> TestClient:
        """A browser-like client with its own cookies, signed in as `email` when given."""
        client = await self._aiohttp_client(self.server)
        if email:
            await sign_in(client, email)
        return client


@pytest.fixture
async def portal(
    api: FamiliesApi,
    gateway,  # noqa: F811
    upstream,  # noqa: F811
    signer: TestSigner,
    aiohttp_client,
) -> Portal:
    """A family (with a parent account) and an agent, signed in through the real gateway."""
    family = await api.family(phone="05 59 29 00 00")
    await api.person(family["id"], role="responsable", first_name="Maïa", last_name="Etcheverry")
    await api.person(family["id"], first_name="Enfant", last_name="TEST", birth_date="2017-05-12")
    auth = AuthWithStaff(
        signer, accounts={PARENT_EMAIL: [family["id"]], STAFF_EMAIL: []}, staff={STAFF_EMAIL}
    )
    auth_server = await upstream(auth.app())
    families_url = str(api.client.make_url("")).rstrip("/")
    # A page makes up to four calls; on a loaded test machine one may exceed the 1 s default.
    client = await gateway(
        {"auth": auth_server.url, "families": families_url}, upstream_deadline_seconds=5.0
    )
    return Portal(api, client.server, aiohttp_client, family)


@pytest.fixture
async def real_portal(
    service_client,
    gateway,  # noqa: F811
    signer: TestSigner,
    tmp_path: Path,
) -> AsyncIterator[RealPortal]:
    """Every real part of a change request (see real_portal.py), with a family, its parent
    invited by auth and an agent invited by an administrator — both e-mails on their way."""
    smtp = SmtpServer()
    smtp.start()
    processes = ProcessSet(tmp_path)
    label = f"proof{uuid.uuid4().hex[:6]}"
    try:
        databases = await fresh_databases(label)
        empty_queues()
        auth = await service_client(
            "auth",
            database_url=databases["auth"],
            public_base_url=PUBLIC_BASE_URL,
            ip_attempts_limit=100_000,
            account_failures_limit=100,
        )
        auth_keys = await (await auth.get("/.well-known/jwks.json")).json()
        jwks = combined_jwks(auth_keys, signer.jwks)
        families = await families_api(
            await service_client("families", database_url=databases["families"], jwks_json=jwks),
            signer,
        )
        # Auth invites only to a family the families service knows, asked through a gateway
        # (GATEWAY_URL): this one, in front of families only, is built before the portal's,
        # which needs auth's address. A second auth app on the same database: the same keys.
        families_front = await gateway(
            {"families": str(families.client.make_url("")).rstrip("/")}, jwks_json=jwks
        )
        auth = await service_client(
            "auth",
            database_url=databases["auth"],
            public_base_url=PUBLIC_BASE_URL,
            ip_attempts_limit=100_000,
            account_failures_limit=100,
            gateway_url=str(families_front.make_url("")).rstrip("/"),
        )
        mail = {**smtp.settings(), "smtp_from": SMTP_FROM, "public_base_url": PUBLIC_BASE_URL}
        notifications = await service_client(
            "notifications", database_url=databases["notifications"], jwks_json=jwks, **mail
        )
        await start_worker(processes, smtp, databases["notifications"])
        client = await gateway(
            {
                name: str(app.make_url("")).rstrip("/")
                for name, app in (
                    ("auth", auth),
                    ("families", families.client),
                    ("notifications", notifications),
                )
            },
            jwks_json=jwks,
            # A page makes up to four calls; on a loaded test machine one may exceed 1 s.
            upstream_deadline_seconds=5.0,
        )

        family = await families.family(name="ETCHEVERRY", phone="05 59 29 00 00")
        await families.person(
            family["id"], role="responsable", first_name="Maïa", last_name="Etcheverry"
        )
        await families.person(
            family["id"], first_name="Peio", last_name="Etcheverry", birth_date="2017-05-12"
        )
        suffix = uuid.uuid4().hex[:8]
        parent_email, staff_email = f"parent-{suffix}@exemple.fr", f"agent-{suffix}@exemple.fr"
        invited = await auth.post(
            "/invitations",
            json={"email": parent_email, "family_id": family["id"]},
            headers=signer.headers(role="staff", subject="agent-accueil"),
        )
        assert invited.status == 201, await invited.text()
        hired = await auth.post(
            "/staff",
            json={"email": staff_email, "roles": ["agent"]},
            headers=signer.headers(
                role="staff", subject="admin-mairie", staff_roles=["administrator"]
            ),
        )
        assert hired.status == 201, await hired.text()
        yield RealPortal(
            base_url=str(client.make_url("")).rstrip("/"),
            smtp=smtp,
            processes=processes,
            auth=auth,
            families=families,
            signer=signer,
            family=family,
            parent_email=parent_email,
            staff_email=staff_email,
            log_dir=tmp_path,
        )
    finally:
        processes.close()
        smtp.stop()
        await drop_databases(label)
