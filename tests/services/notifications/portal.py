"""A small portal for page tests: the real gateway and notifications service, a fake auth."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import redis

from services.kit.database import Database
from services.notifications.seed import seed_demo
from tests.gateway.conftest import same_origin
from tests.gateway.fakes import PASSWORD, FakeAuth
from tests.support import redis_url

from .factories import invited, settings_for
from .mailing import deliver

PARENT = "famille.test@example.org"
AGENT = "agent@example.org"


class FakeAuthWithStaff(FakeAuth):
    """The auth contract of the gateway tests, with a staff account too."""

    def token(self, email: str) -> str:
        if email == AGENT:
            return self.signer.token(subject=email, role="staff", ttl=self.expires_in)
        return super().token(email)


@dataclass
class Portal:
    """What a page test drives."""

    client: Any
    service: Any
    family_id: str
    settings: Any


async def make_portal(
    database: Database,
    service_client: Any,
    gateway: Any,
    upstream: Any,
    signer: Any,
    smtp_port: int,
    *,
    more_services: dict[str, str] | None = None,
    family_id: str | None = None,
) -> Portal:
    """Seeded notifications service, the parent known by address, the gateway in front
    (with `more_services`, other real services' addresses by name; `family_id`, a family
    one of them knows)."""
    forget_contact_counts()  # the parent is the same in every test: its hourly count too
    await seed_demo(database)
    family_id = family_id or str(uuid.uuid4())
    settings = settings_for(smtp_port)
    # The parent's account id is the token's subject: the fake auth signs with the e-mail.
    await deliver(database, settings, invited(family_id, PARENT, account_id=PARENT))
    service = await service_client(
        "notifications",
        email_relay_enabled=False,
        captcha_max_number=5000,
        contact_per_ip_per_hour=100,
    )
    fake = FakeAuthWithStaff(signer, accounts={PARENT: [family_id], AGENT: []})
    auth = await upstream(fake.app())
    client = await gateway(
        {
            "auth": auth.url,
            "notifications": str(service.make_url("")).rstrip("/"),
            **(more_services or {}),
        },
        upstream_deadline_seconds=5.0,
    )
    return Portal(client, service, family_id, settings)


def forget_contact_counts() -> None:
    """Empty the service's hourly contact counters (Redis is flushed once per run)."""
    store = redis.Redis.from_url(redis_url())
    for key in store.scan_iter("notifications:contact:*"):
        store.delete(key)


async def sign_in(client: Any, email: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    response = await client.post(
        "/connexion",
        data={"email": email, "password": PASSWORD},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert response.status in (302, 303), await response.text()
    page = await (await client.get("/courriels")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page
    return token.group(1)
