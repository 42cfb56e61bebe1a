"""A small portal for tests: the real gateway, families and documents, a fake auth with staff."""

from __future__ import annotations

import re

from tests.gateway.conftest import same_origin
from tests.gateway.fakes import PASSWORD, FakeAuth

from .api import create_type


class FakeAuthWithStaff(FakeAuth):
    """The auth contract of the gateway tests, with staff accounts too."""

    staff: frozenset[str] = frozenset({"agent@example.org"})

    def token(self, email: str) -> str:
        if email in self.staff:
            return self.signer.token(subject=email, role="staff", ttl=self.expires_in)
        return super().token(email)


async def portal(
    service_client, make_documents, gateway, upstream, signer, documents_settings=None, **services
):  # type: ignore[no-untyped-def]
    """Families (with a child), documents (with the vaccinations type and
    `documents_settings`), auth, gateway."""
    families = await service_client("families")
    families_url = str(families.make_url("")).rstrip("/")
    staff = signer.headers(role="staff")
    family = await (await families.post("/families", json={"name": "TEST"}, headers=staff)).json()
    child = await (
        await families.post(
            f"/families/{family['id']}/persons",
            json={"role": "child", "first_name": "Enfant", "last_name": "TEST"},
            headers=staff,
        )
    ).json()
    documents = await make_documents(
        gateway_url=families_url,
        members_path="/families/{family_id}/persons",
        **(documents_settings or {}),
    )
    vaccins = await create_type(
        documents, signer, name="Photocopie des vaccinations", concerns="child", mandatory=True,
        all_activities=True,
    )  # fmt: skip
    fake = FakeAuthWithStaff(
        signer, accounts={"famille.test@example.org": [family["id"]], "agent@example.org": []}
    )
    auth = await upstream(fake.app())
    client = await gateway(
        {
            "auth": auth.url,
            "families": families_url,
            "documents": str(documents.make_url("")).rstrip("/"),
            **services,
        },
        upstream_deadline_seconds=5.0,
    )
    return client, documents, family["id"], child["id"], vaccins["id"]


async def sign_in(client, email: str) -> str:  # type: ignore[no-untyped-def]
    """Sign in through the form; returns the CSRF token of the session."""
    response = await client.post(
        "/connexion",
        data={"email": email, "password": PASSWORD},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert response.status in (302, 303), await response.text()
    page = await (await client.get("/documents")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page
    return token.group(1)
