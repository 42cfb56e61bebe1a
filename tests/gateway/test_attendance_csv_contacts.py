"""The staff attendance CSV asks the families service once for all its families' names and
phones (`POST /families/contacts`), not once per family (a `GET /families/{id}` each: 200
calls for 200 families). Through the real gateway, bookings and families services; the calls
are counted by the families app's own request metrics."""

from __future__ import annotations

from typing import Any

import pytest

from services.kit.keys import METRICS
from services.kit.testing import TestSigner
from tests.services.bookings.conftest import (  # noqa: F401 (the bookings tests' fixtures)
    _leave_no_pending_events,
    bookings_app,
    clock,
    stand_in,
)
from tests.services.bookings.factories import unique
from tests.services.bookings.portal import STAFF_EMAIL, Portal, start_portal
from tests.services.bookings.test_pages import sign_in
from tests.services.bookings.test_reservation_pages import WED_1, ready_child


@pytest.fixture
async def counted(
    aiohttp_server: Any,
    aiohttp_client: Any,
    service_client: Any,
    bookings_app: Any,  # noqa: F811
    signer: TestSigner,
    s3_endpoint: str,
) -> tuple[Portal, Any]:
    """The whole portal, and the families service's own client (to read its metrics)."""
    started: dict[str, Any] = {}

    async def keeping(name: str, **settings: Any) -> Any:
        started[name] = await service_client(name, **settings)
        return started[name]

    portal = await start_portal(
        aiohttp_server=aiohttp_server,
        aiohttp_client=aiohttp_client,
        service_client=keeping,
        bookings_app=bookings_app,
        signer=signer,
        s3_endpoint=s3_endpoint,
        activity_name=unique("ALSH Contacts"),
    )
    return portal, started["families"]


def families_requests(families: Any) -> dict[tuple[str, str], float]:
    """Every request the families app has answered, by method and route template."""
    metrics = families.app[METRICS]
    counted: dict[tuple[str, str], float] = {}
    for metric in metrics.registry.collect():
        for sample in metric.samples:
            if sample.name == "http_requests_total":
                route = (sample.labels["method"], sample.labels["route"])
                counted[route] = counted.get(route, 0) + sample.value
    return counted


async def _book_a_child_of_a_new_family(
    portal: Portal, signer: TestSigner, opening_id: str, family: dict[str, Any]
) -> None:
    """A new family (`family`'s fields), its child registered and booked on `opening_id`."""
    gateway, staff = portal.gateway, signer.headers(role="staff", subject="agent-1")
    made = await gateway.post("/api/families/families", json=family, headers=staff)
    assert made.status == 201, await made.text()
    family_id = (await made.json())["id"]
    child = await gateway.post(
        f"/api/families/families/{family_id}/persons",
        json={"role": "child", "first_name": "Enfant", "last_name": family["name"],
              "birth_date": "2019-05-12"},
        headers=staff,
    )  # fmt: skip
    assert child.status == 201, await child.text()
    child_id = (await child.json())["id"]
    parent = signer.headers(families=[family_id], subject=f"parent-{family_id}")
    registered = await gateway.post(
        f"/api/bookings/families/{family_id}/registrations",
        json={"person_id": child_id, "activity_id": portal.activity["id"],
              "period_id": portal.period["id"]},
        headers=parent,
    )  # fmt: skip
    assert registered.status == 201, await registered.text()
    booked = await gateway.post(
        f"/api/bookings/families/{family_id}/reservations/changes",
        json={"changes": [{"person_id": child_id, "opening_id": opening_id, "action": "book"}]},
        headers=parent,
    )
    assert booked.status == 200, await booked.text()
    assert all(r["ok"] for r in (await booked.json())["results"]), await booked.text()


async def test_the_csv_reads_every_family_s_name_and_phone_in_one_call(
    counted: tuple[Portal, Any], signer: TestSigner
) -> None:
    portal, families = counted
    opening_id = (await ready_child(portal, signer))[(WED_1, "journee")]
    # A main phone; only another phone (the CSV gives it instead); none.
    for family in (
        {"name": "ARTOLA", "phone": "0559000001"},
        {"name": "BERRA", "phone_other": "0612345678"},
        {"name": "CAMINO"},
    ):
        await _book_a_child_of_a_new_family(portal, signer, opening_id, family)
    await sign_in(portal.gateway, portal.base_url, STAFF_EMAIL)
    lists = {"activite": portal.activity["id"], "jour": WED_1, "duree": "1"}
    before = families_requests(families)

    exported = await portal.gateway.get("/agents/reservations.csv", params=lists)

    assert exported.status == 200, await exported.text()
    calls = {
        route: count - before.get(route, 0)
        for route, count in families_requests(families).items()
        if count != before.get(route, 0)
    }
    assert calls == {("POST", "/families/contacts"): 1}, calls
    rows = [line.split(";") for line in (await exported.read()).decode("utf-8-sig").splitlines()]
    assert rows[0][3:6] == ["enfant", "famille", "téléphone"], rows[0]
    assert sorted(row[3:6] for row in rows[1:]) == [
        ["Enfant ARTOLA", "ARTOLA", "05 59 00 00 01"],
        ["Enfant BERRA", "BERRA", "06 12 34 56 78"],
        ["Enfant CAMINO", "CAMINO", ""],
    ], rows
