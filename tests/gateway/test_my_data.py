"""« Mes données »: a parent downloads one ZIP of the family's data from every real service,
and only its own; a service that cannot answer gives a page naming the missing part, never a
partial file.

No stand-in: the real auth (sign-in, the parent's account), families, bookings, billing,
documents and notifications services on this run's PostgreSQL, the real gateway in front.
"""

from __future__ import annotations

import html as html_module
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyotp
from sqlalchemy import select

from gateway.pages.my_data import PARTS
from gateway.ratelimit import RateLimitTable
from gateway.rendering import TEMPLATES_DIR
from services.families.models import OutboxMessage
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner
from tests.services.auth.conftest import (
    GOOD_PASSWORD,
    active_family,
    staff_headers,
    unique_email,
    wait_for_event,
)
from tests.totp import previous_code

from .conftest import dead_url, same_origin
from .test_i18n_coverage import _template_msgids, english

RATE_LIMITS = Path(__file__).parents[2] / "gateway" / "rate_limits.yaml"
TEMPLATES = Path(TEMPLATES_DIR)

FILES = {
    "README.txt",
    "famille.json",
    "comptes.json",
    "inscriptions-reservations.json",
    "factures-paiements.json",
    "documents.json",
    "historique-messages.json",
}


@dataclass
class Household:
    """A family of the families service and its parent's account in auth."""

    id: str
    name: str
    email: str


@dataclass
class Portal:
    """The real services by name, the keys they trust, and two households."""

    urls: dict[str, str]
    jwks: str
    auth: Any
    families: Any
    mine: Household
    theirs: Household


async def household(families: Any, auth: Any, signer: TestSigner, name: str) -> Household:
    """A family with one child, and its parent's active account."""
    staff = signer.headers(role="staff")
    created = await families.post("/families", json={"name": name}, headers=staff)
    assert created.status == 201, await created.text()
    family_id = (await created.json())["id"]
    child = await families.post(
        f"/families/{family_id}/persons",
        json={"role": "child", "first_name": f"Enfant {name}", "last_name": name},
        headers=staff,
    )
    assert child.status == 201, await child.text()
    parent = await active_family(auth, signer, family_id=family_id)
    return Household(family_id, name, parent["email"])


async def start_portal(service_client: Any, gateway: Any, signer: TestSigner) -> Portal:
    """Every service, trusting the real auth's keys (and the test signer's, for the setup)."""
    keys_of = await service_client("auth")
    auth_keys = await (await keys_of.get("/.well-known/jwks.json")).json()
    jwks = json.dumps({"keys": [*auth_keys["keys"], *signer.jwks["keys"]]})
    clients = {}
    for name in ("families", "bookings", "billing", "documents", "notifications"):
        clients[name] = await service_client(name, jwks_json=jwks)
    # Auth invites only to a family the families service knows, asked through a gateway: a
    # second auth app on the same database (the same keys) is given one in front of families.
    families_front = await gateway(
        {"families": str(clients["families"].make_url("")).rstrip("/")}, jwks_json=jwks
    )
    auth = await service_client("auth", gateway_url=str(families_front.make_url("")).rstrip("/"))
    clients["auth"] = auth
    suffix = uuid.uuid4().hex[:6].upper()
    mine = await household(clients["families"], auth, signer, f"DONNEES-A-{suffix}")
    theirs = await household(clients["families"], auth, signer, f"DONNEES-B-{suffix}")
    urls = {name: str(client.make_url("")).rstrip("/") for name, client in clients.items()}
    return Portal(urls, jwks, auth, clients["families"], mine, theirs)


async def signed_in(gateway: Any, portal: Portal, email: str, **services: str) -> Any:
    """The gateway in front of the portal (some services replaced), a parent signed in."""
    client = await gateway({**portal.urls, **services}, jwks_json=portal.jwks)
    response = await client.post(
        "/connexion",
        data={"email": email, "password": GOOD_PASSWORD},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    return client


async def staff_signed_in(gateway: Any, portal: Portal, signer: TestSigner) -> Any:
    """The gateway with an agent signed in: invited, password chosen, authenticator enrolled."""
    # Six services answer from this test's loop: a connection may wait its turn on a loaded
    # machine (CI once saw the 1 s connect timeout cut one part, and no file was given).
    client = await gateway(
        portal.urls, jwks_json=portal.jwks, upstream_connect_timeout_seconds=10.0
    )
    email = unique_email("agent")
    hired = await portal.auth.post(
        "/staff",
        json={"email": email, "roles": ["agent"]},
        headers=staff_headers(signer, "administrator"),
    )
    assert hired.status == 201, await hired.text()
    account_id = (await hired.json())["account"]["id"]
    link = (await wait_for_event(portal.auth, "account.invited", account_id=account_id))["data"]
    parts = urlparse(link["link"])
    page = await (await client.get(f"{parts.path}?{parts.query}")).text()
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token, page
    enrol = await client.post(
        "/premiere-connexion",
        data={"token": token.group(1), "password": GOOD_PASSWORD,
              "password_confirm": GOOD_PASSWORD},
        headers=same_origin(client),
    )  # fmt: skip
    html = await enrol.text()
    secret = re.search(r'name="secret" value="([^"]+)"', html)
    enrolment = re.search(r'name="enrolment_token" value="([^"]+)"', html)
    assert secret and enrolment, html
    totp = pyotp.TOTP(secret.group(1))
    done = await client.post(
        "/double-authentification",
        data={"enrolment_token": enrolment.group(1), "secret": secret.group(1),
              "code": previous_code(totp.secret)},
        headers=same_origin(client),
    )  # fmt: skip
    assert done.status == 200
    signed = await client.post(
        "/connexion",
        data={"email": email, "password": GOOD_PASSWORD, "totp_code": totp.now()},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert signed.status == 303, await signed.text()
    return client


async def download(client: Any, family_id: str, path: str = "/mes-donnees") -> Any:
    """Open the page and press the button, as its form does."""
    page = await client.get(path)
    assert page.status == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
    assert match, "no CSRF field in the form"
    return await client.post(
        path,
        data={"csrf_token": match.group(1), "famille": family_id},
        headers=same_origin(client),
    )


def parts_of(body: bytes) -> dict[str, Any]:
    """The JSON files of an export ZIP, by name (README.txt apart)."""
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert set(archive.namelist()) == FILES
    return {name: json.loads(archive.read(name)) for name in FILES - {"README.txt"}}


async def test_a_parent_downloads_one_zip_of_the_familys_data_and_nothing_of_another(
    gateway: Any, service_client: Any, signer: TestSigner
) -> None:
    portal = await start_portal(service_client, gateway, signer)
    mine, theirs = portal.mine, portal.theirs
    client = await signed_in(gateway, portal, mine.email)
    dashboard = await client.get("/")
    assert f'href="/mes-donnees?famille={mine.id}"' in await dashboard.text()

    response = await download(client, mine.id)

    assert response.status == 200, await response.text()
    assert response.content_type == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    body = await response.read()
    parts = parts_of(body)
    assert {p["service"] for p in parts.values()} == {
        "families", "auth", "bookings", "billing", "documents", "notifications"
    }  # fmt: skip
    assert parts["famille.json"]["family"]["name"] == mine.name
    assert [p["first_name"] for p in parts["famille.json"]["persons"]] == [f"Enfant {mine.name}"]
    assert [a["email"] for a in parts["comptes.json"]["accounts"]] == [mine.email]
    assert all(p.get("family_id", mine.id) == mine.id for p in parts.values())
    readme = zipfile.ZipFile(io.BytesIO(body)).read("README.txt").decode()
    assert "Vos données personnelles" in readme and "famille.json" in readme
    everything = readme + json.dumps(parts, ensure_ascii=False)
    for foreign in (theirs.id, theirs.name, theirs.email):
        assert foreign not in everything
    # The export is journaled (by families, whose event the notifications journal keeps).
    async with portal.families.app[DATABASE].sessions() as session:
        journaled = [
            m.message["data"]
            for m in await session.scalars(
                select(OutboxMessage).where(OutboxMessage.event_type == "family.exported")
            )
            if m.message["family_id"] == mine.id
        ]
    assert [e["role"] for e in journaled] == ["family"]


async def test_a_parent_cannot_download_another_familys_data(
    gateway: Any, service_client: Any, signer: TestSigner
) -> None:
    portal = await start_portal(service_client, gateway, signer)
    client = await signed_in(gateway, portal, portal.mine.email)

    response = await download(client, portal.theirs.id)

    assert response.status == 404
    assert response.content_type == "text/html"
    assert portal.theirs.name not in await response.text()
    # Straight to a service through the API: the same 404.
    api = await client.get(f"/api/bookings/families/{portal.theirs.id}/export")
    assert api.status == 404


async def test_a_service_that_cannot_answer_gives_a_page_naming_the_missing_part_not_a_file(
    gateway: Any, service_client: Any, signer: TestSigner
) -> None:
    portal = await start_portal(service_client, gateway, signer)
    client = await signed_in(gateway, portal, portal.mine.email, billing=dead_url())

    response = await download(client, portal.mine.id)

    assert response.status == 503
    assert response.content_type == "text/html"
    html = await response.text()
    alert = re.search(r'role="alert"[^>]*>(.*?)</div>', html, re.S)
    assert alert, html
    assert "Factures et paiements" in alert.group(1)
    assert "Ma famille" not in alert.group(1)


def test_exports_are_counted_in_their_own_hourly_bucket() -> None:
    table = RateLimitTable.from_file(RATE_LIMITS)
    export = table.buckets["export"]
    for method, path in (
        ("POST", "/mes-donnees"),
        ("POST", "/agents/familles/f-1/donnees"),
        ("GET", "/api/documents/families/f-1/export"),
    ):
        assert table.bucket_for(method, path) is export, (method, path)
    assert table.bucket_for("GET", "/mes-donnees") is table.buckets["default"]
    assert export.window == 3600 and export.per_identity < table.buckets["default"].per_identity


async def test_staff_download_a_familys_zip_from_its_record(
    gateway: Any, service_client: Any, signer: TestSigner
) -> None:
    portal = await start_portal(service_client, gateway, signer)
    client = await staff_signed_in(gateway, portal, signer)
    record = await client.get(f"/agents/familles/{portal.mine.id}")
    path = f"/agents/familles/{portal.mine.id}/donnees"
    assert f'href="{path}"' in await record.text()
    page = await client.get(path)
    assert portal.mine.name in await page.text()

    response = await download(client, portal.mine.id, path)

    assert response.status == 200, await response.text()
    parts = parts_of(await response.read())
    assert parts["famille.json"]["family"]["id"] == portal.mine.id
    assert [a["email"] for a in parts["comptes.json"]["accounts"]] == [portal.mine.email]
    assert portal.theirs.email not in json.dumps(parts)
    missing = await client.get("/agents/familles/no-such-family/donnees")
    assert missing.status == 404
    parent = await signed_in(gateway, portal, portal.mine.email)
    assert (await parent.get(path)).status == 403


async def test_the_page_reads_in_english(
    gateway: Any, service_client: Any, signer: TestSigner
) -> None:
    portal = await start_portal(service_client, gateway, signer)
    client = await signed_in(gateway, portal, portal.mine.email)
    html = await (await client.get("/mes-donnees?lang=en")).text()
    assert "Download my data (ZIP)" in html and "What the file holds" in html
    assert "Télécharger" not in html and "Ce que contient" not in html
    # English puts no space before a colon: « My family (famille.json): the household… ».
    assert "(famille.json):" in html and "(famille.json) :" not in html


async def test_the_staff_page_speaks_of_the_family_not_to_it(
    gateway: Any, service_client: Any, signer: TestSigner
) -> None:
    """The agent reads what the file holds: « vos demandes », « utilisez Ma famille » were the
    family's words, wrong on the staff's page."""
    portal = await start_portal(service_client, gateway, signer)
    client = await staff_signed_in(gateway, portal, signer)
    path = f"/agents/familles/{portal.mine.id}/donnees"

    french = html_module.unescape(await (await client.get(path)).text())
    english = html_module.unescape(await (await client.get(path + "?lang=en")).text())

    assert "vos " not in french and "utilisez « Ma famille »" not in french
    assert "les demandes de modification de la famille" in french
    assert "se corrige depuis le dossier de la famille" in french
    assert "your " not in english.lower() and "use “My family”" not in english
    assert "the family's change requests" in english
    assert "corrected from the family's record" in english


def test_every_french_text_of_the_page_has_an_english_entry() -> None:
    msgids = _template_msgids(TEMPLATES / "my_data" / "page.html")
    msgids |= {part.label for part in PARTS} | {part.holds for part in PARTS}
    assert len(msgids) > 20
    missing = sorted(m for m in msgids if m not in english())
    assert not missing, missing
