"""« Espace des agents »: the tile « Réservations et présences » counts the reservation
requests waiting for a decision (activities validated by hand), as the other queues' tiles do;
through the real gateway and notifications service."""

from __future__ import annotations

from typing import Any

from services.kit.database import Database
from services.kit.testing import TestSigner

from .factories import of_type
from .mailing import deliver
from .portal import AGENT, make_portal, sign_in
from .smtp_server import SmtpServer
from .test_staff_home import tile


async def test_the_reservations_tile_counts_the_requests_waiting_for_staff(
    database: Database, service_client: Any, gateway: Any, upstream: Any, signer: TestSigner,
    smtp: SmtpServer,
) -> None:  # fmt: skip
    portal = await make_portal(database, service_client, gateway, upstream, signer, smtp.port)
    client = portal.client
    await sign_in(client, AGENT)
    for reservation in ("r1", "r2"):
        await deliver(database, portal.settings, of_type(
            "reservation.requested", portal.family_id, source="bookings",
            reservation_id=reservation,
        ))  # fmt: skip
    two = await (await client.get("/")).text()
    await deliver(database, portal.settings, of_type(
        "reservation.confirmed", portal.family_id, source="bookings", reservation_id="r1",
    ))  # fmt: skip
    one = await (await client.get("/")).text()

    assert tile(two, "reservation") == "Réservations et présences — 2 en attente"
    assert tile(one, "reservation") == "Réservations et présences — 1 en attente"
    english = await (await client.get("/?lang=en")).text()
    assert tile(english, "reservation").endswith("— 1 waiting")
