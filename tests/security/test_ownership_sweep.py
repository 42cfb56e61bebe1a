"""No cross-family access, swept from each service's own OpenAPI document (promise 18).

For each service, on PostgreSQL with the real services it asks behind the real gateway:
real data of two families A and B made through the APIs, then every operation with an id
called as A's parent with B's ids (404; 403 or 404 on staff routes), with unknown ids (the
same answer), with A's own family and B's other ids; every staff route called by parents;
everything anonymously (401); B's data read by staff before and after must be the same.
See tests/security/sweep.py and docs/architecture.md (Access control).
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from services.kit.database import Database
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner
from services.notifications.seed import recipient_id, seed_demo
from tests.services.auth.conftest import active_family, staff_headers
from tests.services.billing.conftest import TABLES as BILLING_TABLES
from tests.services.billing.conftest import point_at
from tests.services.bookings.factories import parent as booking_parent
from tests.services.bookings.factories import staff as booking_staff
from tests.services.bookings.planning import Setup, book, save, setup_reservations
from tests.services.documents import api as documents_api
from tests.services.documents import files
from tests.services.families.conftest import FamiliesApi, families_api
from tests.services.notifications.test_contact import GUICHET, Family, solve

from .sweep import Target, sweep

Client = TestClient[web.Request, web.Application]
# The caller's own data, whatever ids the caller holds: nothing of another family to reach.
OWN = "the caller's own (token subject), no id of another family to pass"
# A summer period of the bookings tests' school year, its window open at their frozen clock
# (billing's run of that month prices whatever else other tests booked in it too).
AUGUST = {"name": "Été SWEEP", "starts_on": "2027-08-02", "ends_on": "2027-08-13"}
DAY = "2027-08-03"


async def test_families_refuses_every_foreign_id(service_client, signer: TestSigner) -> None:
    api = await families_api(await service_client("families"), signer)
    families = {}
    for name in ("a", "b"):
        family = await api.family()
        person = await api.person(family["id"])
        request = await api.requested(
            family["id"], {"phone": "06 00 00 00 00"}, version=family["version"]
        )
        families[name] = (family["id"], person["id"], request["id"])
    family_b, person_b, request_b = families["b"]
    target = Target(
        name="families",
        client=api.client,
        staff=api.staff(),
        parent_a=api.parent(families["a"][0]),
        parent_b=api.parent(family_b),
        family_a=families["a"][0],
        family_b=family_b,
        ids_b={"family_id": family_b, "person_id": person_b, "request_id": request_b},
        allowed={"GET /me/families": OWN},
        reads_b=[f"/families/{family_b}/requests/{request_b}"],
    )

    await sweep(target)


# A save answers each change on its own (« refusé : pas d'inscription… »), never the batch.
SAVE = "each change is judged on its own: another family's person is refused in its result"


def url_of(client: Any) -> str:
    """The address a test server listens on, without a trailing slash."""
    return str(client.make_url("")).rstrip("/")


async def household(people: Any) -> tuple[str, str]:
    """A family with a child of 7 in spring 2027, in the real families service."""
    family = await people.family()
    child = await people.person(family["id"], first_name="Enfant", birth_date="2019-05-12")
    return family["id"], child["id"]


# The catalogue is the structure's, shown to every family: no family owns an activity.
CATALOGUE = "the structure's catalogue, shown to every family: owned by no family"


@dataclass
class Booked:
    """Real families and bookings behind the real gateway; A and B each with a child
    registered to an activity, B with a reservation."""

    people: FamiliesApi
    bookings: Client
    front: Client
    setup: Setup
    family_a: str
    family_b: str
    person_b: str
    reservation_b: str


@pytest.fixture
async def booked(
    service_client, make_documents, bookings_app, gateway, stand_in, signer: TestSigner
) -> Booked:
    """Bookings asks families who a child is and documents whether its file is complete."""
    people = await families_api(await service_client("families"), signer)
    documents = await make_documents()  # no document type: every file is complete
    front = await gateway(
        {"families": url_of(people.client), "documents": url_of(documents)},
        upstream_deadline_seconds=10.0,
    )
    point_at(documents, gateway_url=url_of(front))
    bookings = await bookings_app(gateway_url=url_of(front))
    # The catalogue only (no child: the stand-in is never asked), in a month of its own so
    # that billing's run holds this test's reservations only.
    setup = await setup_reservations(bookings, signer, stand_in, children=0, period=AUGUST)
    households = [await household(people) for _ in "ab"]
    for family_id, person_id in households:
        registered = await bookings.post(
            f"/families/{family_id}/registrations",
            json={
                "person_id": person_id,
                "activity_id": setup.activity["id"],
                "period_id": setup.period["id"],
            },
            headers=booking_parent(signer, family_id),
        )
        assert registered.status == 201, await registered.text()
        assert (await registered.json())["state"] == "accepted"
    assert stand_in.authorizations == []  # every person was read from families itself
    (family_a, _), (family_b, person_b) = households
    reservations = {}
    for family_id, person_id in households:
        status, saved = await save(
            bookings, signer, family_id, [book(person_id, setup.opening(DAY))]
        )
        assert status == 200 and saved["results"][0]["ok"], saved
        reservations[family_id] = saved["results"][0]["reservation_id"]
    return Booked(
        people, bookings, front, setup, family_a, family_b, person_b, reservations[family_b]
    )


async def test_bookings_refuses_every_foreign_id(booked: Booked, signer: TestSigner) -> None:
    bookings, setup = booked.bookings, booked.setup
    family_a, family_b, person_b = booked.family_a, booked.family_b, booked.person_b
    listed = await bookings.get(
        f"/families/{family_b}/registrations", headers=booking_parent(signer, family_b)
    )
    (registration_b,) = (await listed.json())["items"]
    feed = await bookings.post(
        f"/families/{family_b}/persons/{person_b}/calendar-feed",
        headers=booking_parent(signer, family_b),
    )
    assert feed.status in (200, 201), await feed.text()
    activity = setup.activity
    target = Target(
        name="bookings",
        client=bookings,
        staff=booking_staff(signer),
        parent_a=booking_parent(signer, family_a),
        parent_b=booking_parent(signer, family_b),
        family_a=family_a,
        family_b=family_b,
        ids_b={
            "family_id": family_b,
            "person_id": person_b,
            "registration_id": registration_b["id"],
            "reservation_id": booked.reservation_b,
            "activity_id": activity["id"],
            "period_id": setup.period["id"],
            "opening_id": setup.opening(DAY),
            "group_id": activity["groups"][0]["id"],
            "unit_id": activity["units"][0]["id"],
        },
        allowed={
            "GET /calendar/{token}.ics": "public by design: the private link's token is the key",
            "GET /catalogue": CATALOGUE,
            "GET /activities": CATALOGUE,
            "GET /activities/{activity_id}": CATALOGUE,
            "GET /activities/{activity_id}/periods": CATALOGUE,
            "GET /activities/{activity_id}/closures": CATALOGUE,
            "GET /openings": CATALOGUE,
            "GET /openings/{opening_id}": CATALOGUE,
        },
        shared_ids=frozenset({"activity_id", "period_id", "opening_id", "group_id", "unit_id"}),
        staff_routes=frozenset({"POST /registrations/decisions"}),
        bodies={
            "POST /families/{family_id}/reservations/repeat": {
                "person_id": person_b,
                "week_of": "2027-08-02",
                "until": "2027-08-13",
            }
        },
        batches={
            "POST /families/{family_id}/reservations/changes": SAVE,
            "POST /families/{family_id}/reservations/repeat": SAVE,
        },
        reads_b=[f"/families/{family_b}/registrations", f"/families/{family_b}/reservations"],
    )

    await sweep(target)


# The finance department's routes; their summaries do not say « staff ».
BILLING_STAFF_ROUTES = frozenset(
    {
        "POST /tariffs",
        "GET /runs",
        "POST /runs",
        "GET /exports/invoices.csv",
        "GET /exports/payments.csv",
        "POST /payfip/reconcile",
    }
)


async def test_billing_refuses_every_foreign_id(
    booked: Booked, service_client, gateway, signer: TestSigner
) -> None:
    billing = await service_client(
        "billing", s3_bucket=f"sweep-{uuid.uuid4().hex[:12]}", payfip_mode="simulator"
    )
    async with billing.app[DATABASE].transaction() as session:
        await session.execute(text(f"TRUNCATE {BILLING_TABLES} CASCADE"))
    # Billing reads the month's lines from the real bookings, the families from families.
    front = await gateway(
        {
            "families": url_of(booked.people.client),
            "bookings": url_of(booked.bookings),
            "billing": url_of(billing),
        },
        upstream_deadline_seconds=10.0,
    )
    point_at(billing, gateway_url=url_of(front), public_base_url=url_of(front))
    staff = signer.headers(role="staff", subject="agent@example.org")
    activity = booked.setup.activity
    # A price for every activity booked that month (other tests' too: the run needs them all).
    lines = await booked.bookings.get("/billable-lines", params={"month": DAY[:7]}, headers=staff)
    booked_units = {
        (i["activity_id"], i["activity_name"], i["unit"]) for i in (await lines.json())["items"]
    }
    for (activity_id, name, unit), resident in itertools.product(booked_units, (True, False)):
        tariff = await billing.post(
            "/tariffs",
            json={"activity_id": activity_id, "activity_name": name, "unit": unit,
                  "resident": resident, "valid_from": "2027-01-01", "mode": "brackets",
                  "brackets": [{"qf_min": 0, "price_cents": 1200}]},
            headers=staff,
        )  # fmt: skip
        assert tariff.status == 201, await tariff.text()
    preview = await billing.post("/runs", json={"month": DAY[:7]}, headers=staff)
    assert preview.status == 201, await preview.text()
    run = await preview.json()
    billed = {invoice["family_id"] for invoice in run["invoices"]}
    assert {booked.family_a, booked.family_b} <= billed, run
    published = await billing.post(f"/runs/{run['id']}/publish", headers=staff)
    assert published.status == 200, await published.text()
    family_a, family_b = booked.family_a, booked.family_b
    parent_b = signer.headers(subject="parent-b", families=[family_b])
    invoices_b = await billing.get(
        f"/families/{family_b}/invoices", params={"state": "all"}, headers=parent_b
    )
    (invoice_b,) = (await invoices_b.json())["items"]
    started = await billing.post(
        f"/families/{family_b}/invoices/{invoice_b['id']}/payfip", headers=parent_b
    )
    assert started.status == 201, await started.text()
    paid = await billing.post(
        "/payments",
        json={"family_id": family_b, "amount_cents": 100, "method": "cheque",
              "received_on": "2027-08-20"},
        headers=staff,
    )  # fmt: skip
    assert paid.status == 201, await paid.text()
    target = Target(
        name="billing",
        client=billing,
        staff=staff,
        parent_a=signer.headers(subject="parent-a", families=[family_a]),
        parent_b=parent_b,
        family_a=family_a,
        family_b=family_b,
        ids_b={
            "family_id": family_b,
            "invoice_id": invoice_b["id"],
            "attempt_id": (await started.json())["attempt_id"],
            "payment_id": (await paid.json())["id"],
            "run_id": run["id"],
            "activity_id": activity["id"],
        },
        shared_ids=frozenset({"activity_id", "run_id"}),
        allowed={
            "POST /payfip/notifications": "PayFiP's server-to-server call: no token, the"
            " service asks PayFiP about the attempt itself",
            "GET /prices": "the public price list: owned by no family",
            "GET /tariffs": "the structure's tariffs, read by any signed-in caller: no family's",
        },
        staff_routes=BILLING_STAFF_ROUTES,
        reads_b=[f"/families/{family_b}/statement"],
    )

    await sweep(target)


UPLOAD = "POST /families/{family_id}/documents/{type_id}/files"


async def test_documents_refuses_every_foreign_id(
    service_client, make_documents, gateway, signer: TestSigner
) -> None:
    people = await families_api(await service_client("families"), signer)
    (family_a, _), (family_b, child_b) = [await household(people) for _ in "ab"]
    front = await gateway({"families": url_of(people.client)})
    documents = await make_documents(gateway_url=url_of(front))
    kind = await documents_api.create_type(documents, signer, concerns="child", mandatory=True)
    parent_b = documents_api.parent(signer, family_b)
    sent = await documents_api.upload(
        documents, parent_b, family_b, kind["id"], [("b.pdf", files.pdf())], child_b
    )
    assert sent.status == 201, await sent.text()
    submission = await sent.json()
    org = await documents.post(
        "/org-documents",
        json={"title": "Règlement", "category": "Règlement"},
        headers=documents_api.staff(signer),
    )
    assert org.status == 201, await org.text()
    target = Target(
        name="documents",
        client=documents,
        staff=documents_api.staff(signer),
        parent_a=documents_api.parent(signer, family_a),
        parent_b=parent_b,
        family_a=family_a,
        family_b=family_b,
        ids_b={
            "family_id": family_b,
            "person_id": child_b,
            "submission_id": submission["id"],
            "file_id": submission["files"][0]["id"],
            "type_id": kind["id"],
            "document_id": (await org.json())["id"],
        },
        shared_ids=frozenset({"type_id", "document_id"}),
        allowed={
            "GET /document-types": "the structure's document types, shown to every family",
            "GET /org-documents": "the structure's published documents, shown to every family",
            "GET /org-documents/{document_id}/file": "a published document of the structure,"
            " for every family",
        },
        query_ids={
            UPLOAD: ("person_id",),
            "GET /families/{family_id}/completeness": ("person_id",),
        },
        multipart=lambda: documents_api.multipart([("sweep.pdf", files.pdf())]),
        reads_b=[f"/families/{family_b}/submissions/{submission['id']}"],
    )

    await sweep(target)


async def test_notifications_refuses_every_foreign_id(
    service_client, database: Database, signer: TestSigner
) -> None:
    await seed_demo(database)
    notifications = await service_client(
        "notifications", email_relay_enabled=False, captcha_max_number=2000
    )
    family_a, family_b = Family(signer), Family(signer)
    staff = signer.headers(role="staff", subject="agent-1")
    challenge = await notifications.get("/contact/challenge", headers=family_b.headers)
    sent = await notifications.post(
        f"/families/{family_b.id}/contact-messages",
        json={
            "recipient_id": recipient_id(GUICHET),
            "subject": "Inscription ALSH",
            "body": "Bonjour, une question de la famille B.",
            "captcha": solve(await challenge.json()),
        },
        headers=family_b.headers,
    )
    assert sent.status == 201, await sent.text()
    thread_b = (await sent.json())["id"]
    news = await notifications.post(
        "/news",
        json={
            "title": "Fermeture",
            "text": "Le centre ferme.",
            "visible_from": "2026-01-01T00:00:00Z",
        },
        headers=staff,
    )
    assert news.status == 201, await news.text()
    emails = await (await notifications.get("/emails", headers=staff)).json()
    target = Target(
        name="notifications",
        client=notifications,
        staff=staff,
        parent_a=family_a.headers,
        parent_b=family_b.headers,
        family_a=family_a.id,
        family_b=family_b.id,
        ids_b={
            "family_id": family_b.id,
            "message_id": thread_b,
            "email_id": emails["items"][0]["id"],
            "news_id": (await news.json())["id"],
            "recipient_id": recipient_id(GUICHET),
        },
        shared_ids=frozenset({"news_id", "recipient_id"}),
        allowed={
            "GET /contact/challenge": "a captcha challenge: single use, no data of anyone",
            "GET /contact-recipients": "the structure's recipients (names), shown to every family",
        },
        reads_b=[f"/contact-messages/{thread_b}", f"/families/{family_b.id}/email-preferences"],
    )

    await sweep(target)


# Routes of auth reached without a bearer token: their own secret (a link's token, a
# session token, client credentials) is what they check.
BY_THEIR_OWN_SECRET = "public: the link's, session's or client's own secret is the credential"
AUTH_PUBLIC = (
    "POST /invitations/accept",
    "POST /invitations/check",
    "POST /invitations/renew",
    "POST /mfa/enrolment",
    "POST /mfa/enrolment/confirm",
    "POST /oauth/token",
    "POST /password-resets",
    "POST /password-resets/check",
    "POST /password-resets/confirm",
    "POST /sessions",
    "DELETE /sessions/current",
    "POST /sessions/refresh",
)
AUTH_OWN = (
    "GET /accounts/me",
    "PATCH /accounts/me",
    "POST /accounts/me/password",
    "POST /accounts/me/totp",
    "POST /accounts/me/totp/confirm",
    "POST /accounts/me/totp/disable",
)


async def test_auth_refuses_every_foreign_id(auth_client, signer: TestSigner) -> None:
    auth = await auth_client()
    accounts = {}
    for name in ("a", "b"):
        family_id = str(uuid.uuid4())
        account = (await active_family(auth, signer, family_id=family_id))["account"]
        accounts[name] = (family_id, account["id"])
    (family_a, account_a), (family_b, account_b) = accounts["a"], accounts["b"]
    administrator = staff_headers(signer, "agent", "administrator")
    created = await auth.post(
        "/api-clients",
        json={"name": "Logiciel SWEEP", "scopes": ["bookings:read"]},
        headers=administrator,
    )
    assert created.status == 201, await created.text()
    target = Target(
        name="auth",
        client=auth,
        staff=administrator,
        parent_a=signer.headers(subject=account_a, families=[family_a]),
        parent_b=signer.headers(subject=account_b, families=[family_b]),
        family_a=family_a,
        family_b=family_b,
        ids_b={
            "family_id": family_b,
            "account_id": account_b,
            "client_id": (await created.json())["id"],
        },
        shared_ids=frozenset({"client_id"}),
        allowed={
            "GET /.well-known/jwks.json": "public keys, public by design",
            "POST /password-rule": "checks a candidate password, stores and reads nothing",
            **dict.fromkeys(AUTH_PUBLIC, BY_THEIR_OWN_SECRET),
            **dict.fromkeys(AUTH_OWN, OWN),
        },
        reads_b=[f"/accounts/{account_b}"],
    )

    await sweep(target)
