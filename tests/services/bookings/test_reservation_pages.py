""" "Mes réservations" and the staff lists, as HTML pages through the real gateway."""

from __future__ import annotations

import re
import uuid
from typing import Any

from services.kit.testing import TestSigner

from .portal import PARENT_EMAIL, STAFF_EMAIL, Portal
from .test_pages import csrf, sign_in, text_of

WED_1, WED_2 = "2027-04-21", "2027-04-28"


async def ready_child(portal: Portal, signer: TestSigner) -> dict[tuple[str, str], str]:
    """Enfant TEST accepted at the portal's ALSH (automatic), with openings; openings by day."""
    gateway, staff = portal.gateway, signer.headers(role="staff", subject="agent-1")
    activity_id, period_id = portal.activity["id"], portal.period["id"]
    patched = await gateway.patch(
        f"/api/bookings/activities/{activity_id}", json={"validation": "automatic"}, headers=staff
    )
    assert patched.status == 200, await patched.text()
    made = await gateway.post(
        f"/api/bookings/periods/{period_id}/openings", json={"capacity": 10}, headers=staff
    )
    assert made.status == 201, await made.text()
    parent = signer.headers(families=[portal.family_id], subject="parent-test")
    registered = await gateway.post(
        f"/api/bookings/families/{portal.family_id}/registrations",
        json={"person_id": portal.child_id, "activity_id": activity_id, "period_id": period_id},
        headers=parent,
    )
    assert registered.status == 201, await registered.text()
    listed = await (
        await gateway.get("/api/bookings/openings", params={"period_id": period_id},
                          headers=staff)
    ).json()  # fmt: skip
    return {
        (o["day"], o["unit_code"]): o["id"]
        for o in listed["items"]
        if o["group_name"] == "primaire"
    }


async def test_a_parent_books_two_wednesdays_sees_them_reserved_and_cancels_one(
    portal: Portal, signer: TestSigner
) -> None:
    openings = await ready_child(portal, signer)
    client, base = portal.gateway, portal.base_url
    await sign_in(client, base, PARENT_EMAIL)
    members = await (await client.get("/reservations")).text()
    assert "Enfant TEST" in members
    query = {"famille": portal.family_id, "personne": portal.child_id, "semaine": WED_1}
    page = await client.get("/reservations", params=query)
    html = await page.text()
    assert page.status == 200, html
    assert "Légende" in html and "dernières places" in html and "absent non justifié" in html
    assert "Planning — Enfant TEST" in html  # not « Planning de Enfant TEST »
    assert "ENREGISTRER" in html and "ANNULER" in html
    assert f'value="{openings[(WED_1, "journee")]}"' in html
    form = {
        "csrf_token": csrf(html), "famille": portal.family_id, "personne": portal.child_id,
        "semaine": WED_1, "cle": "page-test-cle-1",
    }  # fmt: skip
    data: list[tuple[str, str]] = [*form.items()]
    data += [("reserver", openings[(WED_1, "journee")]), ("reserver", openings[(WED_2, "journee")])]
    saved = await client.post("/reservations/enregistrer", data=data, headers={"Origin": base})
    result = text_of(await saved.text())
    assert saved.status == 200, result
    assert result.count(": réservé") == 2, result
    # French dates, not the service's ISO ones: the week shown and each change's day.
    assert "Du 19/04/2027 au 25/04/2027" in result, result
    outcome = result.split("Résultat de l'enregistrement")[1].split("Cliquez")[0]
    assert "mer. 21/04/2027 ALSH" in outcome and "2027-04-21" not in outcome, outcome
    again = await client.get("/reservations", params={**query, "semaine": WED_2})
    assert 'class="cell cell--confirmed"' in await again.text()
    cancel = [*form.items(), ("annuler", openings[(WED_2, "journee")])]
    cancel = [(k, "page-test-cle-2" if k == "cle" else v) for k, v in cancel]
    cancelled = await client.post(
        "/reservations/enregistrer", data=cancel, headers={"Origin": base}
    )
    assert ": annulé" in text_of(await cancelled.text())
    week_2 = await (await client.get("/reservations", params={**query, "semaine": WED_2})).text()
    assert 'class="cell cell--confirmed"' not in week_2
    # The staff list shows the child on the first Wednesday; a parent may not open it.
    forbidden = await client.get("/agents/reservations")
    assert forbidden.status == 403
    await sign_in(client, base, STAFF_EMAIL)
    roster = await client.get(
        "/agents/reservations", params={"activite": portal.activity["id"], "jour": WED_1}
    )
    roster_html = await roster.text()
    assert roster.status == 200 and "Enfant TEST" in roster_html
    assert re.search(r'name="presence-[^"]+" value="present"', roster_html)
    assert "Enregistrer les présences" in roster_html
    # The second Wednesday, cancelled: nobody to mark, no button to save nothing.
    nobody = await client.get(
        "/agents/reservations",
        params={"activite": portal.activity["id"], "jour": WED_2, "duree": "1"},
    )
    nobody_text = text_of(await nobody.text())
    assert "Enregistrer les présences" not in nobody_text
    assert "Aucune présence à relever" in nobody_text
    exported = await client.get(
        "/agents/reservations.csv", params={"activite": portal.activity["id"], "jour": WED_1}
    )
    assert exported.status == 200 and "Enfant TEST" in (await exported.read()).decode("utf-8-sig")


async def test_the_planning_works_without_a_family_member_registered(
    portal: Portal,
) -> None:
    client: Any = portal.gateway
    await sign_in(client, portal.base_url, PARENT_EMAIL)
    page = await client.get("/reservations")
    assert page.status == 200
    assert "Aucun membre n'est inscrit" in text_of(await page.text())


async def test_a_unit_excluded_by_a_booked_journee_is_shown_incompatible_with_its_reason(
    portal: Portal, signer: TestSigner
) -> None:
    openings = await ready_child(portal, signer)
    thu = "2027-04-22"
    client, base = portal.gateway, portal.base_url
    await sign_in(client, base, PARENT_EMAIL)
    query = {"famille": portal.family_id, "personne": portal.child_id, "semaine": WED_1}
    html = await (await client.get("/reservations", params=query)).text()
    form = {
        "csrf_token": csrf(html), "famille": portal.family_id, "personne": portal.child_id,
        "semaine": WED_1, "cle": "page-test-incompatible",
    }  # fmt: skip
    # Journée and matin ticked the same Thursday, journée on Wednesday: the service books the
    # journées and refuses the matin, naming both units by their label.
    data = [
        *form.items(),
        ("reserver", openings[(WED_1, "journee")]),
        ("reserver", openings[(thu, "journee")]),
        ("reserver", openings[(thu, "matin")]),
    ]
    saved = await client.post("/reservations/enregistrer", data=data, headers={"Origin": base})
    result = text_of(await saved.text())
    assert saved.status == 200, result
    assert result.count(": réservé") == 2, result
    assert (
        "(Matin) : refusé : « Matin » ne peut pas être réservé le même jour que « Journée »"
    ) in result, result
    assert "« journee »" not in result

    html = await (await client.get("/reservations", params=query)).text()
    cells = re.findall(r'<td class="cell cell--incompatible"[^>]*>(.*?)</td>', html, re.S)
    assert len(cells) == 4, cells  # matin and après-midi, Wednesday and Thursday
    for cell in cells:
        assert "<input" not in cell  # nothing to tick
        assert "incompatible" in text_of(cell)
        assert re.search(
            r'<small class="cell__why">Incompatible avec «\u202fJournée\u202f» '
            r"\(réservé\) ce jour-là\.</small>",
            cell,
        ), cell
    for unit in ("matin", "apres_midi"):
        assert f'value="{openings[(WED_1, unit)]}"' not in html
    assert "incompatible avec une unité prise ce jour-là" in text_of(html)  # the legend
    # A free journée tells the page which units it cannot share a day with (for the script).
    free = openings[("2027-04-23", "journee")]
    assert re.search(
        rf'value="{free}" data-change data-day="2027-04-23" data-day-label="[^"]+" '
        r'data-unit="journee" data-unit-label="Journée" data-excludes="apres_midi matin"',
        html,
    ), html
    english = await (await client.get("/reservations", params={**query, "lang": "en"})).text()
    assert "cannot be booked on the same day ({day})" in english


async def test_staff_accept_a_pending_reservation_and_read_its_new_state(
    portal: Portal, signer: TestSigner
) -> None:
    """Deciding from « Réservations — listes et présences » answers with the page and each
    request's new state in French (it was a 500: the page read a `label` the decisions
    results have not)."""
    openings = await ready_child(portal, signer)
    staff = signer.headers(role="staff", subject="agent-1")
    manual = await portal.gateway.patch(
        f"/api/bookings/activities/{portal.activity['id']}",
        json={"validation": "manual"},
        headers=staff,
    )
    assert manual.status == 200, await manual.text()
    client, base = portal.gateway, portal.base_url
    await sign_in(client, base, PARENT_EMAIL)
    query = {"famille": portal.family_id, "personne": portal.child_id, "semaine": WED_1}
    html = await (await client.get("/reservations", params=query)).text()
    form = [
        ("csrf_token", csrf(html)), ("famille", portal.family_id),
        ("personne", portal.child_id), ("semaine", WED_1), ("cle", "decision-test-cle"),
        ("reserver", openings[(WED_1, "journee")]),
    ]  # fmt: skip
    asked = await client.post("/reservations/enregistrer", data=form, headers={"Origin": base})
    assert ": demande en attente" in text_of(await asked.text())

    await sign_in(client, base, STAFF_EMAIL)
    queue = await client.get("/agents/reservations", params={"activite": portal.activity["id"]})
    queue_html = await queue.text()
    # The queue is the whole structure's: other tests of the run leave requests in it too.
    name = portal.activity["name"]
    pending = re.findall(
        # The child's cell holds its family's link too: anything but a cell's end.
        rf'name="ids" value="([^"]+)"[^>]*></td><td>(?:(?!</td>).)*</td><td>{re.escape(name)} \(',
        queue_html,
        re.S,
    )
    assert len(set(pending)) == 1, queue_html
    assert "<td>21/04/2027</td>" in queue_html and WED_1 not in text_of(queue_html), queue_html
    decided = await client.post(
        "/agents/reservations/decisions",
        data={"csrf_token": csrf(queue_html), "ids": pending[0], "decision": "accept"},
        headers={"Origin": base},
    )
    shown = text_of(await decided.text())
    assert decided.status == 200, shown
    assert "confirmed" not in shown, shown
    # The result line says whose request and which day (it said « réservé (1501ff5c) »).
    assert f"Enfant TEST — {name}, Journée, mer. 21/04/2027 : réservé" in shown, shown
    assert f"({pending[0][:8]})" not in shown, shown
    # Marking the child present lands back on the list (post/redirect/get), which says so.
    roster = await client.get(
        "/agents/reservations", params={"activite": portal.activity["id"], "jour": WED_1}
    )
    roster_html = await roster.text()
    field = re.search(r'name="(presence-[^"]+)" value="present"', roster_html)
    assert field, roster_html
    marked = await client.post(
        "/agents/reservations/presences",
        data={
            "csrf_token": csrf(roster_html),
            "activite": portal.activity["id"],
            "jour": WED_1,
            field.group(1): "present",
        },
        headers={"Origin": base},
    )
    marked_text = text_of(await marked.text())
    assert marked.status == 200, marked_text
    assert "1 présence enregistrée." in marked_text, marked_text


async def test_the_planning_cells_and_legend_are_english_on_an_english_page(
    portal: Portal, signer: TestSigner
) -> None:
    """The cells' states and fixed reasons come from the service in French; an English page
    shows them in English (it showed « disponible », « fermé », « Pas d'accueil ce jour-là. »)."""
    await ready_child(portal, signer)
    client, base = portal.gateway, portal.base_url
    await sign_in(client, base, PARENT_EMAIL)
    query = {
        "famille": portal.family_id, "personne": portal.child_id, "semaine": WED_1,
        "lang": "en",
    }  # fmt: skip
    page = await client.get("/reservations", params=query)
    shown = text_of(await page.text())
    assert page.status == 200, shown
    assert "available (" in shown and "No care that day." in shown, shown
    legend = shown.split("Key")[1]
    assert "last places" in legend and "outside the period" in legend, legend
    for french in ("disponible", "dernières places", "hors période", "Pas d'accueil ce jour-là"):
        assert french not in shown, french


async def test_a_cells_spoken_label_says_its_day_in_words(
    portal: Portal, signer: TestSigner
) -> None:
    """Screen readers read each box's hidden label: it gave the service's ISO day
    (« Journée 2027-04-21 — réserver ») on French and English pages alike."""
    await ready_child(portal, signer)
    client, base = portal.gateway, portal.base_url
    await sign_in(client, base, PARENT_EMAIL)
    query = {"famille": portal.family_id, "personne": portal.child_id, "semaine": WED_1}
    for language, spoken in (
        ("fr", "Journée mercredi 21 avril 2027 — réserver"),
        ("en", "Journée Wednesday 21 April 2027 — book"),
    ):
        page = await (await client.get("/reservations", params={**query, "lang": language})).text()
        labels = [
            " ".join(label.split())
            for label in re.findall(r'<span class="visually-hidden">([^<]*)</span>', page)
        ]
        assert spoken in labels, labels
        assert not [label for label in labels if re.search(r"\d{4}-\d{2}-\d{2}", label)], labels


async def test_the_planning_writes_its_days_in_the_page_language(
    portal: Portal, signer: TestSigner
) -> None:
    """The day headers and the week heading follow the page's language (they stayed
    « mer. 21/04 » on an English page); the French page is unchanged."""
    await ready_child(portal, signer)
    client, base = portal.gateway, portal.base_url
    await sign_in(client, base, PARENT_EMAIL)
    query = {"famille": portal.family_id, "personne": portal.child_id, "semaine": WED_1}
    english = await (await client.get("/reservations", params={**query, "lang": "en"})).text()
    headers = re.findall(r'<th scope="col">([^<]*)</th>', english)
    assert headers[1:] == [
        "Mon 19 Apr", "Tue 20 Apr", "Wed 21 Apr", "Thu 22 Apr", "Fri 23 Apr", "Sat 24 Apr",
        "Sun 25 Apr",
    ], headers  # fmt: skip
    assert "From 19 April 2027 to 25 April 2027" in text_of(english)
    assert "mer. " not in english and "Du 19/04" not in english
    french = await (await client.get("/reservations", params={**query, "lang": "fr"})).text()
    headers = re.findall(r'<th scope="col">([^<]*)</th>', french)
    assert headers[1:] == [
        "lun. 19/04", "mar. 20/04", "mer. 21/04", "jeu. 22/04", "ven. 23/04", "sam. 24/04",
        "dim. 25/04",
    ], headers  # fmt: skip
    assert "Du 19/04/2027 au 25/04/2027" in text_of(french)


async def test_the_booking_pages_asked_for_another_family_are_not_found(
    portal: Portal, signer: TestSigner
) -> None:
    await ready_child(portal, signer)
    client: Any = portal.gateway
    await sign_in(client, portal.base_url, PARENT_EMAIL)
    other = str(uuid.uuid4())
    for path, query in (
        ("/reservations", {"famille": other, "personne": portal.child_id}),
        ("/inscriptions", {"famille": other}),
    ):
        own = await client.get(path, params={**query, "famille": portal.family_id})
        assert own.status == 200, (path, own.status)
        refused = await client.get(path, params=query)
        assert refused.status == 404, (path, refused.status)


async def test_a_calendar_link_for_a_child_not_of_the_family_is_not_found(
    portal: Portal, signer: TestSigner
) -> None:
    """Neither made (« Lien impossible pour le moment », 200, said the opposite of the truth)
    nor « révoqué » when nothing was."""
    await ready_child(portal, signer)
    client: Any = portal.gateway
    base = portal.base_url
    await sign_in(client, base, PARENT_EMAIL)
    page = await client.get("/reservations", params={"famille": portal.family_id})
    form = {"csrf_token": csrf(await page.text()), "famille": portal.family_id}
    stranger = str(uuid.uuid4())
    for action in ("creer", "revoquer"):
        answer = await client.post(
            "/reservations/calendrier",
            data={**form, "personne": stranger, "action": action},
            headers={"Origin": base},
            allow_redirects=False,
        )
        assert answer.status == 404, (action, answer.status)
    own = await client.post(
        "/reservations/calendrier",
        data={**form, "personne": portal.child_id, "action": "creer"},
        headers={"Origin": base},
    )
    assert own.status == 200 and "/api/bookings/calendar/" in await own.text()
