"""docs/integration.md stays true: its curl recipes run, in order, against the real services.

Real auth (its API clients and tokens, signed with its own key), families, bookings,
billing and documents on PostgreSQL, behind the real gateway; the services trust auth's
published key beside the tests' one. Each recipe gets a token of an API client holding
exactly the scopes the guide names for it, so a wrong path, scope, body, status or field
of the guide fails here. Bookings asks the stand-in who a child is (its own tests cover
the real families service).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from portail.demo import DEMO_CHILD_ID, DEMO_FAMILY_ID
from services.auth.schemas import SERVICE_SCOPES
from services.billing.seed import seed_demo as seed_billing
from services.documents.keys import STORAGE
from services.documents.seed import seed_demo as seed_documents
from services.families.seed import seed_demo as seed_families
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner
from tests import support
from tests.queue.conftest import create_migrated_database
from tests.services.auth.conftest import DEFAULTS as AUTH_DEFAULTS
from tests.services.billing.conftest import point_at
from tests.services.bookings.conftest import (  # noqa: F401 (the bookings app's fixtures)
    bookings_app,
    clock,
    stand_in,
)
from tests.services.bookings.planning import as_parent, book, save, setup_reservations

from .guide import GUIDE, Recipe, jq, missing_fields, parse, recipes

Client = TestClient[Any, Any]
ADMIN = {"role": "staff", "staff_roles": ["administrator"], "subject": "admin-guide"}
# `any` in the guide: a valid token whatever its scopes; this one opens the least (a
# scope that opens nothing cannot be granted).
ANY_SCOPE = "documents:read"


def basic(user: str, password: str) -> str:
    """An HTTP Basic `Authorization` value, as `curl -u` sends it."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def url_of(client: Client) -> str:
    """The address a test server listens on, without a trailing slash."""
    return str(client.make_url("")).rstrip("/")


class Portal:
    """The gateway in front of the real services, and API clients made in real auth."""

    def __init__(self, front: Client, auth: Client, signer: TestSigner) -> None:
        self.front = front
        self.auth = auth
        self.signer = signer
        self.tokens: dict[str, str] = {}

    async def client(self, scopes: list[str]) -> tuple[str, str]:
        """A new API client with `scopes`, made by an administrator: (id, secret)."""
        made = await self.auth.post(
            "/api-clients",
            json={"name": f"Guide {uuid.uuid4().hex[:6]}", "scopes": scopes},
            headers=self.signer.headers(**ADMIN),
        )
        assert made.status == 201, await made.text()
        body = await made.json()
        return body["id"], body["client_secret"]

    async def token(self, scope: str) -> str:
        """A token, asked at the gateway, of a client holding exactly the guide's scopes."""
        if scope not in self.tokens:
            client_id, secret = await self.client((scope if scope != "any" else ANY_SCOPE).split())
            answer = await self.front.post(
                "/api/auth/oauth/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": basic(client_id, secret)},
            )
            assert answer.status == 200, await answer.text()
            self.tokens[scope] = (await answer.json())["access_token"]
        return self.tokens[scope]


async def run(portal: Portal, recipe: Recipe, values: dict[str, str]) -> None:
    """Run a recipe's commands in order; each must answer the guide's status and fields."""
    if recipe.scope != "none":
        values["TOKEN"] = await portal.token(recipe.scope)
    answer: Any = None
    for command in recipe.commands:
        request = parse(command, values)
        response = await portal.front.request(
            request.method, request.path, headers=request.headers, data=request.body
        )
        body = await response.read()
        where = f"« {recipe.title} », {request.method} {request.path}"
        assert response.status == recipe.status, f"{where}: {response.status} {body[:500]!r}"
        if response.content_type.endswith("json"):
            answer = json.loads(body)
        if request.capture:
            name, path = request.capture
            values[name] = jq(answer, path)
            assert values[name] not in ("", "None"), f"{where}: {path} is empty"
    if recipe.answer is not None:
        missing = missing_fields(recipe.answer, answer)
        assert not missing, f"« {recipe.title} »: the guide shows {missing}, not in {answer}"


@pytest.fixture
async def billing_database() -> AsyncIterator[str]:
    """A migrated billing database of the guide's own, dropped at the end.

    The demo's invoices need empty billing tables: emptying the run's shared ones would take
    their rows from under the billing tests.
    """
    label = f"guide{uuid.uuid4().hex[:6]}"
    yield await create_migrated_database(label, "billing")
    await support.drop_database(support.database_name(label))


@pytest.fixture
async def portal(
    service_client,
    gateway,
    bookings_app,  # noqa: F811 (the fixture imported above)
    billing_database: str,
    signer: TestSigner,
    s3_endpoint: str,
) -> Any:
    """Every service the guide calls, behind one gateway, trusting auth's real key."""
    auth = await service_client("auth", **AUTH_DEFAULTS)
    published = await (await auth.get("/.well-known/jwks.json")).json()
    jwks = json.dumps({"keys": signer.jwks["keys"] + published["keys"]})
    families = await service_client("families", jwks_json=jwks)
    documents = await service_client("documents", jwks_json=jwks)
    billing = await service_client(
        "billing",
        database_url=billing_database,
        jwks_json=jwks,
        s3_bucket=f"billing-{uuid.uuid4().hex[:12]}",
    )
    bookings = await bookings_app(jwks_json=jwks)
    front = await gateway(
        {
            "auth": url_of(auth),
            "families": url_of(families),
            "documents": url_of(documents),
            "billing": url_of(billing),
            "bookings": url_of(bookings),
        },
        jwks_json=jwks,
        upstream_deadline_seconds=10.0,
    )
    # Auth and documents ask families through the gateway, whose port exists only now.
    for client in (auth, documents):
        point_at(client, gateway_url=url_of(front))
    await seed_families(families.app[DATABASE])
    await seed_documents(documents.app[DATABASE], documents.app[STORAGE])
    await seed_billing(billing.app[DATABASE])
    yield Portal(front, auth, signer), bookings
    await billing.close()  # its outbox relay stops before its database goes


async def booked_days(bookings: Client, signer: TestSigner, persons: Any) -> dict[str, str]:
    """A child of a family of its own registered to an activity and booked two days of it.

    Not the demo family's child: the run's bookings database is shared with the demo seed's
    tests, which expect Enfant TEST registered to the demo ALSH only.
    """
    setup = await setup_reservations(bookings, signer, persons, children=0)
    family_id, child_id = str(uuid.uuid4()), str(uuid.uuid4())
    persons.add_person(family_id, child_id, birth_date="2019-05-12")
    registered = await bookings.post(
        f"/families/{family_id}/registrations",
        json={
            "person_id": child_id,
            "activity_id": setup.activity["id"],
            "period_id": setup.period["id"],
        },
        headers=as_parent(signer, family_id),
    )
    assert registered.status == 201, await registered.text()
    days = sorted(day for day, unit in setup.openings if unit == "journee")[:2]
    status, saved = await save(
        bookings, signer, family_id, [book(child_id, setup.opening(d)) for d in days]
    )
    assert status == 200 and saved["applied"] == len(days), saved
    return {
        "ACTIVITY_ID": setup.activity["id"],
        "FROM": setup.period["starts_on"],
        "TO": setup.period["ends_on"],
        "DAY": days[0],
        "MONTH": days[0][:7],
    }


async def test_every_recipe_of_the_integration_guide_works_as_written(
    portal,
    signer: TestSigner,
    stand_in,  # noqa: F811 (the fixture imported above)
) -> None:
    front, bookings = portal
    client_id, secret = await front.client(["bookings:read", "billing:read"])
    values = {
        "PORTAIL": "",  # the paths go to the gateway under test
        "CLIENT_ID": client_id,
        "CLIENT_SECRET": secret,
        "FAMILY_ID": DEMO_FAMILY_ID,
        "PERSON_ID": DEMO_CHILD_ID,
        "SINCE": "2026-01-01T00:00:00Z",
        **await booked_days(bookings, signer, stand_in),
    }
    guide = recipes()
    assert len(guide) >= 25, [r.title for r in guide]
    for recipe in guide:
        await run(front, recipe, values)


def test_the_guide_names_every_scope_a_service_checks_and_every_one_it_grants() -> None:
    services = Path(__file__).resolve().parents[2] / "services"
    checked = {
        scope
        for source in services.glob("*/*.py")
        for scope in re.findall(r"\"([a-z]+:(?:read|write))\"", source.read_text("utf-8"))
    }
    table = GUIDE.read_text("utf-8").split("### Scopes", 1)[1].split("### Tokens", 1)[0]
    rows = {
        row.split("|")[1]: row.split("|")[2] for row in table.splitlines() if row.startswith("| `")
    }
    scopes = re.compile(r"`([a-z]+:(?:read|write))`")
    opening = {
        scope
        for cell, opens in rows.items()
        if "open nothing" not in opens
        for scope in scopes.findall(cell)
    }
    unused = {
        scope
        for cell, opens in rows.items()
        if "open nothing" in opens
        for scope in scopes.findall(cell)
    }
    assert checked <= set(SERVICE_SCOPES)
    assert opening | unused == set(SERVICE_SCOPES)
    assert opening == checked, f"checked but not in the guide: {sorted(checked - opening)}"
