"""« Mes réservations »' save form (POST /reservations/enregistrer) under crafted posts,
through the real gateway and bookings: a parent books only its own family's children, a box
sent many times books once, and a day whose notice has passed stays refused — whatever the
form says (the phone's day list and the grid carry twin boxes since cb7bed7/7b9afda, and the
gateway drops a box sent twice)."""

from __future__ import annotations

from typing import Any

from services.kit.testing import TestSigner

from .portal import PARENT_EMAIL, Portal
from .test_pages import csrf, sign_in, text_of
from .test_reservation_pages import WED_1, ready_child


async def _stranger_child(portal: Portal, signer: TestSigner) -> tuple[str, str]:
    """Another family with a child registered at the same ALSH: (family id, child id)."""
    gateway, staff = portal.gateway, signer.headers(role="staff", subject="agent-1")
    family = await gateway.post("/api/families/families", json={"name": "AUTRE"}, headers=staff)
    assert family.status == 201, await family.text()
    family_id = (await family.json())["id"]
    child = await gateway.post(
        f"/api/families/families/{family_id}/persons",
        json={
            "role": "child",
            "first_name": "Voisin",
            "last_name": "AUTRE",
            "birth_date": "2019-06-01",
        },
        headers=staff,
    )
    assert child.status == 201, await child.text()
    child_id = (await child.json())["id"]
    registered = await gateway.post(
        f"/api/bookings/families/{family_id}/registrations",
        json={
            "person_id": child_id,
            "activity_id": portal.activity["id"],
            "period_id": portal.period["id"],
        },
        headers=signer.headers(families=[family_id], subject="parent-autre"),
    )
    assert registered.status == 201, await registered.text()
    return family_id, child_id


async def _reservations(portal: Portal, signer: TestSigner, family_id: str) -> list[Any]:
    # Straight from bookings: the gateway would read as the signed-in parent (its cookie).
    assert portal.bookings is not None
    listed = await portal.bookings.get(
        f"/families/{family_id}/reservations",
        params={"starts_on": "2027-04-01", "ends_on": "2027-05-31"},
        headers=signer.headers(role="staff", subject="agent-1"),
    )
    assert listed.status == 200, await listed.text()
    return [r for r in (await listed.json())["items"] if r["state"] != "cancelled"]


async def test_a_crafted_save_books_no_child_of_another_family(
    portal: Portal, signer: TestSigner
) -> None:
    openings = await ready_child(portal, signer)
    other_family, other_child = await _stranger_child(portal, signer)
    client, base = portal.gateway, portal.base_url
    await sign_in(client, base, PARENT_EMAIL)
    page = await client.get("/reservations", params={"famille": portal.family_id})
    token = csrf(await page.text())
    box = openings[(WED_1, "journee")]
    for n, (famille, personne) in enumerate(
        (
            (portal.family_id, other_child),
            (other_family, other_child),
            (other_family, portal.child_id),
        )
    ):
        answer = await client.post(
            "/reservations/enregistrer",
            data=[
                ("csrf_token", token),
                ("famille", famille),
                ("personne", personne),
                ("semaine", WED_1),
                ("cle", f"attack-{n}"),
                ("reserver", box),
            ],
            headers={"Origin": base},
        )
        assert ": réservé" not in text_of(await answer.text()), (famille, personne)
    assert await _reservations(portal, signer, other_family) == []
    assert await _reservations(portal, signer, portal.family_id) == []
    # The same form for the parent's own child books (the refusals above were not luck).
    own = await client.post(
        "/reservations/enregistrer",
        data=[
            ("csrf_token", token),
            ("famille", portal.family_id),
            ("personne", portal.child_id),
            ("semaine", WED_1),
            ("cle", "attack-own"),
            ("reserver", box),
        ],
        headers={"Origin": base},
    )
    assert ": réservé" in text_of(await own.text())


async def test_a_box_sent_many_times_books_once(portal: Portal, signer: TestSigner) -> None:
    openings = await ready_child(portal, signer)
    client, base = portal.gateway, portal.base_url
    await sign_in(client, base, PARENT_EMAIL)
    page = await client.get("/reservations", params={"famille": portal.family_id})
    box = openings[(WED_1, "journee")]
    form = [
        ("csrf_token", csrf(await page.text())),
        ("famille", portal.family_id),
        ("personne", portal.child_id),
        ("semaine", WED_1),
    ]
    # The same box five times (the phone's list and the grid, and more): one reservation.
    answer = await client.post(
        "/reservations/enregistrer",
        data=[*form, ("cle", "twins-1"), *[("reserver", box)] * 5],
        headers={"Origin": base},
    )
    assert text_of(await answer.text()).count(": réservé") == 1
    assert [r["opening_id"] for r in await _reservations(portal, signer, portal.family_id)] == [box]
    # Again under another key, with a twin carrying junk past the 64 characters the gateway
    # keeps: still the one reservation.
    junk = box + "x" * (64 - len(box)) + "tail"
    for key, boxes in (("twins-2", [box, box]), ("twins-3", [box, junk])):
        await client.post(
            "/reservations/enregistrer",
            data=[*form, ("cle", key), *[("reserver", b) for b in boxes]],
            headers={"Origin": base},
        )
        mine = await _reservations(portal, signer, portal.family_id)
        assert [r["opening_id"] for r in mine] == [box], (key, mine)


async def test_a_form_saved_again_with_other_boxes_says_so_and_books_nothing(
    portal: Portal, signer: TestSigner
) -> None:
    """The page shown again (« Retour ») keeps its form's one-time key: ticked otherwise and
    saved, the service refuses the key's reuse — the page says nothing was changed, in French,
    with a new key; it never reads as the other boxes' « réservé »."""
    openings = await ready_child(portal, signer)
    client, base = portal.gateway, portal.base_url
    await sign_in(client, base, PARENT_EMAIL)
    page = await client.get("/reservations", params={"famille": portal.family_id})
    form = [
        ("csrf_token", csrf(await page.text())),
        ("famille", portal.family_id),
        ("personne", portal.child_id),
        ("semaine", WED_1),
        ("cle", "page-shown-again-1"),
    ]
    first = await client.post(
        "/reservations/enregistrer",
        data=[*form, ("reserver", openings[(WED_1, "journee")])],
        headers={"Origin": base},
    )
    assert ": réservé" in text_of(await first.text())
    other = openings[(WED_1, "matin")] if (WED_1, "matin") in openings else None
    second_day = openings[("2027-04-28", "journee")]
    for boxes in ([second_day], [b for b in (other, second_day) if b]):
        answer = await client.post(
            "/reservations/enregistrer",
            data=[*form, *[("reserver", b) for b in boxes]],
            headers={"Origin": base},
        )
        html = await answer.text()
        shown = text_of(html)
        assert answer.status == 422, shown[:300]
        assert "avait déjà été enregistré avec d'autres cases" in shown, shown
        assert "rien n'a été changé" in shown and ": réservé" not in shown
        assert "Trop de changements" not in shown
        assert 'name="cle" value="page-shown-again-1"' not in html
    mine = await _reservations(portal, signer, portal.family_id)
    assert [r["opening_id"] for r in mine] == [openings[(WED_1, "journee")]]
