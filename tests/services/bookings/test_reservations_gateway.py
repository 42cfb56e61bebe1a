"""The opening-day rush through the real gateway (real documents behind it), and the same
guarantee on the embedded database (SQLite, BEGIN IMMEDIATE)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import text

from services.bookings.models import Registration
from services.kit.keys import DATABASE
from services.kit.outbox import utcnow
from services.kit.testing import TestSigner

from .conftest import ContractStandIn
from .factories import unique
from .planning import book, save, setup_reservations
from .portal import start_portal

# Why these settings: here the gateway, bookings and documents share the test's one event
# loop (one core). With documents asked by every save, 200 at once took 6.7 s on a quiet
# machine and 8 passed the gateway's 5 s deadline (504); at load 10 (other suites running)
# even 100 did, documents' own calls timed out, and the breaker opened (503). The places are
# the subject here: the activity requires no documents (that check has its own tests), the
# deadlines are widened, and the check is correctness — exactly the places, every other
# answer « complet », no 5xx. Speed is measured by bench/bookings_rush.py (separate processes).
RUSH, PLACES = 200, 20
DEADLINE = 20.0
LIMITS = Path(__file__).with_name("rush_limits.yaml")
WED = "2027-04-21"


async def _registered_children(
    bookings: Any, activity: dict[str, Any], period: dict[str, Any], count: int
) -> list[tuple[str, str]]:
    """Accepted registrations written directly (their own path is tested elsewhere)."""
    group = next(g for g in activity["groups"] if g["name"] == "primaire")
    children = [(str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(count)]
    now = utcnow()
    async with bookings.app[DATABASE].transaction() as session:
        session.add_all(
            Registration(
                id=str(uuid.uuid4()),
                family_id=f,
                person_id=p,
                person_name=f"Enfant {i}",
                activity_id=activity["id"],
                period_id=period["id"],
                group_id=group["id"],
                state="accepted",
                created_at=now,
                updated_at=now,
            )
            for i, (f, p) in enumerate(children)
        )
    return children  # fmt: skip


async def test_a_hundred_parents_at_once_through_the_gateway_get_exactly_twenty_places(
    aiohttp_server: Any, aiohttp_client: Any, service_client: Any, bookings_app: Any,
    signer: TestSigner, s3_endpoint: str,
) -> None:  # fmt: skip
    portal = await start_portal(
        aiohttp_server=aiohttp_server, aiohttp_client=aiohttp_client,
        service_client=service_client, bookings_app=bookings_app, signer=signer,
        s3_endpoint=s3_endpoint, activity_name=unique("ALSH rush"), rate_limits_file=LIMITS,
        upstream_deadline_seconds=DEADLINE, upstream_connect_timeout_seconds=10.0,
        caller_http_settings={"HTTP_TIMEOUT_SECONDS": DEADLINE,
                              "HTTP_CONNECT_TIMEOUT_SECONDS": 10.0},
    )  # fmt: skip
    gateway, staff = portal.gateway, signer.headers(role="staff", subject="agent-1")
    activity = await (
        await gateway.post(
            "/api/bookings/activities",
            json={"name": unique("ALSH ruée"), "validation": "automatic",
                  "documents_required": False,
                  "groups": [{"name": "primaire", "min_age": 6, "max_age": 11}],
                  "units": [{"code": "journee", "label": "Journée"}]},
            headers=staff,
        )
    ).json()  # fmt: skip
    period = await (
        await gateway.post(
            f"/api/bookings/activities/{activity['id']}/periods",
            json={"name": "Printemps", "school_year": "2026-2027", "starts_on": WED,
                  "ends_on": WED, "registration_opens_at": "2027-03-29T00:00:00",
                  "registration_closes_at": "2027-04-09T00:00:00"},
            headers=staff,
        )
    ).json()  # fmt: skip
    made = await gateway.post(
        f"/api/bookings/periods/{period['id']}/openings", json={"capacity": PLACES},
        headers=staff,
    )  # fmt: skip
    assert made.status == 201, await made.text()
    openings = await (
        await gateway.get("/api/bookings/openings", params={"period_id": period["id"]},
                          headers=staff)
    ).json()  # fmt: skip
    opening = openings["items"][0]["id"]
    assert portal.bookings is not None
    children = await _registered_children(portal.bookings, activity, period, RUSH)

    async def one(family_id: str, person_id: str) -> tuple[int, Any]:
        response = await gateway.post(
            f"/api/bookings/families/{family_id}/reservations/changes",
            json={"changes": [book(person_id, opening)]},
            headers=signer.headers(families=[family_id], subject=f"parent-{family_id}"),
        )
        return response.status, await response.json()

    started = time.perf_counter()
    results = await asyncio.gather(*(one(f, p) for f, p in children))
    elapsed = time.perf_counter() - started
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: RUSH}, (statuses, elapsed)
    outcome = Counter(body["results"][0].get("code") or "ok" for _, body in results)
    assert outcome == {"ok": PLACES, "full": RUSH - PLACES}, outcome
    async with portal.bookings.app[DATABASE].sessions() as session:
        booked = await session.scalar(
            text("SELECT booked FROM openings WHERE id = :o"), {"o": opening}
        )
        confirmed = await session.scalar(
            text("SELECT count(*) FROM reservations WHERE opening_id = :o "
                 "AND state = 'confirmed'"), {"o": opening},
        )  # fmt: skip
    assert (booked, confirmed) == (PLACES, PLACES)


async def test_the_same_rush_on_the_embedded_database_books_exactly_the_places(
    bookings_app: Any, signer: TestSigner, stand_in: ContractStandIn, tmp_path: Path
) -> None:
    client = await bookings_app(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite'}", run_migrations_at_start=True
    )
    rush = 100
    setup = await setup_reservations(client, signer, stand_in, capacity=PLACES, children=rush)
    opening = setup.opening(WED)
    results = await asyncio.gather(
        *(save(client, signer, f, [book(p, opening)]) for f, p in setup.children)
    )
    assert Counter(status for status, _ in results) == {200: rush}
    outcome = Counter(body["results"][0].get("code") or "ok" for _, body in results)
    assert outcome == {"ok": PLACES, "full": rush - PLACES}, outcome
