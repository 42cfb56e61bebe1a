""" "Ma famille" and the staff pages, through the real gateway and the real families service."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from .conftest import Portal
from .pages import PARENT_EMAIL, STAFF_EMAIL, post_form, text_of

SAVED = "Votre demande a été correctement enregistrée."


async def test_a_parent_sees_the_household_and_the_mandatory_fields_starred(
    portal: Portal,
) -> None:
    parent = await portal.visitor(PARENT_EMAIL)
    page = await parent.get("/famille")
    assert page.status == 200
    text = text_of(await page.text())
    assert "Maïa Etcheverry" in text and "Enfant TEST" in text
    assert "Les champs marqués d'un * sont obligatoires." in text

    form = await (await parent.get("/famille/modifier")).text()
    assert re.search(r'<label for="address">Adresse <span class="required"[^>]*>\*</span>', form)
    assert re.search(r'<label for="phone">Téléphone du domicile</label>', form)  # no star
    assert 'name="quotient"' not in form  # read-only for families: shown, not an input


async def test_a_parent_edits_a_phone_and_staff_accept_it(portal: Portal) -> None:
    parent = await portal.visitor(PARENT_EMAIL)
    saved = await post_form(
        parent, "/famille/modifier", "/famille/modifier",
        {"version": "1", "famille": portal.family["id"], "address": "1 rue des Écoles",
         "postal_code": "64240", "city": "Hasparren", "email": portal.family["email"],
         "phone": "06.11.22.33.44"},
    )  # fmt: skip
    assert saved.status == 303, await saved.text()
    after = await parent.get(saved.headers["Location"])
    text = text_of(await after.text())
    assert SAVED in text
    assert "En attente de validation" in text
    assert "05 59 29 00 00 → 06 11 22 33 44" in text

    agent = await portal.visitor(STAFF_EMAIL)
    queue = text_of(
        await (await agent.get(f"/agents/demandes?famille={portal.family['id']}")).text()
    )
    assert "Téléphone du domicile 05 59 29 00 00 06 11 22 33 44 05 59 29 00 00" in queue
    [request_id] = [r["id"] for r in await portal_requests(portal)]
    accepted = await post_form(
        agent, "/agents/demandes", f"/agents/demandes/{request_id}", {"decision": "accepter"}
    )
    assert accepted.status == 303
    assert "La demande a été acceptée." in text_of(
        await (await agent.get(accepted.headers["Location"])).text()
    )

    family = text_of(await (await parent.get("/famille")).text())
    assert "06 11 22 33 44" in family and "Acceptée" in family
    events = await portal.api.events(request_id=request_id)
    assert [e["type"] for e in events] == ["family.change_requested", "family.change_accepted"]


async def portal_requests(portal: Portal) -> list[dict]:
    response = await portal.api.client.get(
        f"/families/{portal.family['id']}/requests", headers=portal.api.staff()
    )
    return await response.json()


async def test_a_wrong_phone_gets_a_french_message_next_to_the_field(portal: Portal) -> None:
    parent = await portal.visitor(PARENT_EMAIL)
    response = await post_form(
        parent, "/famille/modifier", "/famille/modifier",
        {"version": "1", "famille": portal.family["id"], "address": "1 rue des Écoles",
         "postal_code": "642", "city": "Hasparren", "email": portal.family["email"],
         "phone": "12"},
    )  # fmt: skip
    assert response.status == 422
    html = await response.text()
    assert '<p class="field__error" id="phone-erreur">Numéro de téléphone invalide' in html
    assert 'id="postal_code-erreur">Code postal invalide' in html
    assert 'value="12"' in html  # what was typed is kept
    assert await portal_requests(portal) == []


async def test_a_forged_version_is_a_french_400_and_nothing_is_asked(portal: Portal) -> None:
    parent, agent = await portal.visitor(PARENT_EMAIL), await portal.visitor(STAFF_EMAIL)
    family_fields = {"famille": portal.family["id"], "address": "1 rue des Écoles",
                     "postal_code": "64240", "city": "Hasparren", "email": portal.family["email"],
                     "phone": "06 11 22 33 44"}  # fmt: skip
    staff_page = f"/agents/familles/{portal.family['id']}/modifier"
    staff_fields = {"name": portal.family["name"], "address": "1 rue des Écoles",
                    "postal_code": "64240", "city": "Anglet", "email": portal.family["email"],
                    "phone": "05 59 29 00 00", "status": "active"}  # fmt: skip

    answers = [
        await post_form(parent, "/famille/modifier", "/famille/modifier",
                        {**family_fields, "version": forged})
        for forged in ("x", "1e999", "NaN", "٣")
    ]  # fmt: skip
    answers.append(await post_form(agent, staff_page, staff_page, {**staff_fields, "version": "x"}))

    for answer in answers:
        assert answer.status == 400
        assert "La demande envoyée n'a pas pu être comprise." in text_of(await answer.text())
    assert await portal_requests(portal) == []
    assert (await portal.api.read_family(portal.family["id"]))["city"] == "Hasparren"


async def test_the_error_summary_names_each_field_it_links_to(portal: Portal) -> None:
    parent = await portal.visitor(PARENT_EMAIL)
    response = await post_form(
        parent, "/famille/modifier", "/famille/modifier",
        {"version": "1", "famille": portal.family["id"], "address": "1 rue des Écoles",
         "postal_code": "642", "city": "Hasparren", "email": portal.family["email"],
         "phone": "12"},
    )  # fmt: skip
    assert response.status == 422
    html = await response.text()
    start = html.index('id="erreurs"')
    summary = text_of(html[start : html.index("</ul>", start)])
    # In the form's order, each message after its field's name, not « Ce champ est … » alone.
    assert re.search(r"Code postal : Code postal invalide.*Téléphone du domicile : Numéro", summary)
    assert '<a href="#postal_code">' in html and '<a href="#phone">' in html


async def test_the_edit_form_names_the_billing_contact_and_dates_in_the_page_language(
    portal: Portal,
) -> None:
    family_id = portal.family["id"]
    staff = portal.api.staff()
    persons = await (
        await portal.api.client.get(f"/families/{family_id}/persons", headers=staff)
    ).json()
    maia = next(p for p in persons if p["first_name"] == "Maïa")
    patched = await portal.api.client.patch(
        f"/families/{family_id}",
        json={"version": portal.family["version"], "billing_person_id": maia["id"]},
        headers=staff,
    )
    assert patched.status == 200, await patched.text()
    quotient = await portal.api.client.put(
        f"/families/{family_id}/quotient",
        json={"version": (await patched.json())["version"], "quotient": 850,
              "quotient_date": "2026-01-15", "quotient_source": "CAF"},
        headers=staff,
    )  # fmt: skip
    assert quotient.status == 200, await quotient.text()

    parent = await portal.visitor(PARENT_EMAIL)
    form = text_of(await (await parent.get("/famille/modifier")).text())
    assert "Contact de facturation Maïa Etcheverry" in form  # read-only: a name, not its id
    assert maia["id"] not in form
    assert "Date du quotient 15/01/2026" in form
    english = text_of(await (await parent.get("/famille/modifier?lang=en")).text())
    assert "Quotient date 15 January 2026" in english
    assert "Billing contact Maïa Etcheverry" in english
    refused = await post_form(
        parent, "/famille/modifier", "/famille/modifier",
        {"version": "3", "famille": family_id, "address": "1 rue des Écoles",
         "postal_code": "642", "city": "Hasparren", "email": portal.family["email"]},
    )  # fmt: skip
    assert refused.status == 422  # the form sent back with its errors keeps the name too
    assert "Billing contact Maïa Etcheverry" in text_of(await refused.text())


async def test_a_parent_withdraws_a_pending_request_from_the_page(portal: Portal) -> None:
    request = await portal.api.requested(portal.family["id"], {"city": "Bayonne"}, version=1)
    parent = await portal.visitor(PARENT_EMAIL)
    response = await post_form(
        parent, "/famille", f"/famille/demandes/{request['id']}/retirer",
        {"famille": portal.family["id"]},
    )  # fmt: skip
    assert response.status == 303
    page = text_of(await (await parent.get(response.headers["Location"])).text())
    assert "Votre demande a été retirée." in page and "Retirée" in page


async def test_a_parent_edits_a_child_from_its_page(portal: Portal) -> None:
    parent = await portal.visitor(PARENT_EMAIL)
    persons = await (
        await portal.api.client.get(
            f"/families/{portal.family['id']}/persons", headers=portal.api.staff()
        )
    ).json()
    child = next(p for p in persons if p["role"] == "child")
    page = f"/famille/personnes/{child['id']}/modifier"
    response = await post_form(
        parent, page, page,
        {"version": str(child["version"]), "famille": portal.family["id"],
         "allergies": "Arachide", "photo_authorised": "oui"},
    )  # fmt: skip
    assert response.status == 303, await response.text()
    detail = text_of(await (await parent.get(response.headers["Location"])).text())
    assert SAVED in detail
    [request] = await portal_requests(portal)
    assert {c["field"]: c["new"] for c in request["changes"]} == {
        "allergies": "Arachide",
        "photo_authorised": True,
    }


ADULT_FIELDS = {
    "phone_work": "Téléphone professionnel",
    "email": "Courriel",
    "relationship": "Lien avec l'enfant",
    "emergency_contact": "À prévenir en cas d'urgence",
    "authorised_pickup": "Autorisé(e) à venir chercher l'enfant",
}


def field_labels(html: str) -> set[str]:
    """The labels of a form's fields (« Courriel » is also in the page's footer)."""
    found = re.findall(r'<(?:label for="[^"]+"|legend)>([^<]*)', html)
    return {unescape(label).strip() for label in found}


async def child_adult_and_visitors(
    portal: Portal,
) -> tuple[dict[str, Any], dict[str, Any], Any, Any]:
    """The household's child and responsable, and a signed-in parent and agent."""
    persons = await (
        await portal.api.client.get(
            f"/families/{portal.family['id']}/persons", headers=portal.api.staff()
        )
    ).json()
    child = next(p for p in persons if p["role"] == "child")
    adult = next(p for p in persons if p["role"] == "responsable")
    return child, adult, await portal.visitor(PARENT_EMAIL), await portal.visitor(STAFF_EMAIL)


async def record_sections(agent: Any, family_id: str) -> dict[str, str]:
    """The staff family record's person sections (their HTML), by « First Last »."""
    record = await (await agent.get(f"/agents/familles/{family_id}")).text()
    return dict(re.findall(r"<summary>([^<]*?) — [^<]*</summary>(.*?)</details>", record, re.S))


async def test_a_childs_pages_offer_no_adult_field_and_an_adults_do(portal: Portal) -> None:
    """« Ma famille » → a child → Modifier: no e-mail, « Lien avec l'enfant », pick-up…; the
    mobile stays (a teenager's). The parent's own form, and the staff's pages, keep adults'."""
    child, adult, parent, agent = await child_adult_and_visitors(portal)
    family_id = portal.family["id"]
    pages = (
        (parent, "/famille/personnes/{}/modifier"),
        (agent, f"/agents/familles/{family_id}/personnes/{{}}/modifier"),
    )
    for visitor, page in pages:
        child_form = await (await visitor.get(page.format(child["id"]))).text()
        adult_form = await (await visitor.get(page.format(adult["id"]))).text()
        assert 'name="phone_mobile"' in child_form and 'name="allergies"' in child_form
        for name, label in ADULT_FIELDS.items():
            assert f'name="{name}"' not in child_form, (page, name)
            assert label not in field_labels(child_form), (page, label)
            assert label in field_labels(adult_form), (page, label)
            assert f'name="{name}"' in adult_form, (page, name)
    child_page = text_of(await (await parent.get(f"/famille/personnes/{child['id']}")).text())
    assert "Lien avec l'enfant" not in child_page and "Allergies" in child_page

    sections = await record_sections(agent, family_id)
    assert "Lien avec l&#39;enfant" not in sections["Enfant TEST"]
    assert "Lien avec l&#39;enfant" in sections["Maïa Etcheverry"]
    rules = text_of(await (await agent.get("/agents/champs")).text())
    assert "Lien avec l'enfant (adultes seulement)" in rules
    assert "Téléphone portable (adultes seulement)" not in rules


CHILD_FIELDS = {
    "school": "École",
    "school_class": "Classe",
    "doctor_name": "Médecin traitant",
    "doctor_phone": "Téléphone du médecin",
    "diet": "Régime alimentaire",
    "allergies": "Allergies",
    "pai": "PAI (projet d'accueil individualisé)",
    "pai_end_date": "Fin du PAI",
    "vaccination_dtp_date": "Dernier rappel DTP",
    "vaccination_ror_date": "Vaccin ROR",
    "photo_authorised": "Autorisation photo",
    "may_leave_alone": "Autorisé(e) à partir seul(e)",
}
# The PAI is the structure's to record: a parent's form shows it, not as an input.
READ_BY_FAMILIES = {"pai", "pai_end_date"}


async def test_an_adults_pages_offer_no_child_field_and_a_childs_do(portal: Portal) -> None:
    """« Ma famille » → the parent's own record → Modifier: no school, allergies, PAI, photo
    authorisation…; the insurance stays. The child's forms, parent's and staff's, keep them."""
    child, adult, parent, agent = await child_adult_and_visitors(portal)
    family_id = portal.family["id"]
    pages = (
        (parent, "/famille/personnes/{}/modifier", set(CHILD_FIELDS) - READ_BY_FAMILIES),
        (agent, f"/agents/familles/{family_id}/personnes/{{}}/modifier", set(CHILD_FIELDS)),
    )
    for visitor, page, inputs in pages:
        adult_form = await (await visitor.get(page.format(adult["id"]))).text()
        child_form = await (await visitor.get(page.format(child["id"]))).text()
        assert 'name="insurance_company"' in adult_form and 'name="email"' in adult_form
        for name, label in CHILD_FIELDS.items():
            assert f'name="{name}"' not in adult_form, (page, name)
            assert label not in field_labels(adult_form), (page, label)
            if name in inputs:
                assert label in field_labels(child_form), (page, label)
                assert f'name="{name}"' in child_form, (page, name)
    adult_page = text_of(await (await parent.get(f"/famille/personnes/{adult['id']}")).text())
    assert "Autorisation photo" not in adult_page and "Assurance" in adult_page
    child_page = text_of(await (await parent.get(f"/famille/personnes/{child['id']}")).text())
    assert "Fin du PAI" in child_page

    sections = await record_sections(agent, family_id)
    assert "Autorisation photo" in sections["Enfant TEST"]
    assert "Autorisation photo" not in sections["Maïa Etcheverry"]
    assert "Assurance" in sections["Maïa Etcheverry"]
    rules = text_of(await (await agent.get("/agents/champs")).text())
    assert "Autorisation photo (enfants seulement)" in rules
    assert "PAI (projet d'accueil individualisé) (enfants seulement)" in rules
    assert "Assurance (enfants seulement)" not in rules
    assert "Lien avec l'enfant (adultes seulement)" in rules


async def test_staff_pages_are_refused_to_parents_and_anonymous_visitors(portal: Portal) -> None:
    parent = await portal.visitor(PARENT_EMAIL)
    for path in ("/agents/demandes", "/agents/familles", "/agents/champs"):
        response = await parent.get(path)
        assert response.status == 403, path
        assert "text/html" in response.headers["Content-Type"]
    anonymous = await portal.visitor()
    response = await anonymous.get("/famille", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/connexion")


async def test_staff_search_open_a_record_and_create_a_family(portal: Portal) -> None:
    agent = await portal.visitor(STAFF_EMAIL)
    found = text_of(await (await agent.get("/agents/familles?q=Etcheverry")).text())
    assert portal.family["name"] in found
    record = text_of(await (await agent.get(f"/agents/familles/{portal.family['id']}")).text())
    assert "Maïa Etcheverry" in record and "05 59 29 00 00" in record

    created = await post_form(
        agent, "/agents/familles/nouvelle", "/agents/familles/nouvelle",
        {"name": "NOUVELLE", "postal_code": "64100", "city": "Bayonne"},
    )  # fmt: skip
    assert created.status == 303
    assert "La famille a été créée." in text_of(
        await (await agent.get(created.headers["Location"])).text()
    )
    refused = await post_form(
        agent, "/agents/familles/nouvelle", "/agents/familles/nouvelle",
        {"name": "", "postal_code": "1"},
    )  # fmt: skip
    assert refused.status == 422
    assert "Code postal invalide" in await refused.text()


async def test_staff_change_the_field_policy_from_the_editor(portal: Portal) -> None:
    agent = await portal.visitor(STAFF_EMAIL)
    editor = await agent.get("/agents/champs")
    assert editor.status == 200
    html = await editor.text()
    assert 'name="family.quotient.family"' in html
    quotient_select = re.search(r'name="family\.quotient\.family".*?</select>', html, re.S)
    assert quotient_select and 'value="edit"' not in quotient_select.group(0)

    saved = await post_form(
        agent, "/agents/champs", "/agents/champs", {"family.phone.family": "read"}
    )
    assert saved.status == 303
    parent = await portal.visitor(PARENT_EMAIL)
    form = await (await parent.get("/famille/modifier")).text()
    assert 'name="phone"' not in form
    assert "Téléphone du domicile" in form


async def test_staff_edit_a_record_directly_and_a_stale_form_is_refused(portal: Portal) -> None:
    agent = await portal.visitor(STAFF_EMAIL)
    page = f"/agents/familles/{portal.family['id']}/modifier"
    form = await (await agent.get(page)).text()
    assert 'name="quotient"' in form and 'name="status"' in form  # staff write them
    fields = {"version": "1", "name": portal.family["name"], "address": "1 rue des Écoles",
              "postal_code": "64240", "city": "Hasparren", "email": portal.family["email"],
              "phone": "05 59 29 00 00", "status": "active"}  # fmt: skip
    saved = await post_form(agent, page, page, {**fields, "city": "Anglet", "quotient": "640",
                                                  "quotient_date": "2026-01-05",
                                                  "quotient_source": "CAF"})  # fmt: skip
    assert saved.status == 303, await saved.text()
    record = await portal.api.read_family(portal.family["id"])
    assert (record["city"], record["quotient"]) == ("Anglet", 640)

    stale = await post_form(agent, page, page, {**fields, "phone": "05 59 11 11 11"})
    assert stale.status == 303  # post/redirect/get: a reload does not post it again
    assert stale.headers["Location"] == f"{page}?refus=1"
    again = text_of(await (await agent.get(stale.headers["Location"])).text())
    assert "modifié entre-temps" in again
    assert "Téléphone du domicile : 05 59 11 11 11" in again  # what was typed, not saved
    assert (await portal.api.read_family(portal.family["id"]))["phone"] == "05 59 29 00 00"


async def test_a_refused_quotient_leaves_the_rest_of_the_staff_form_unsaved(
    portal: Portal,
) -> None:
    # The form used to be saved by two calls (the record, then the quotient): the city was
    # saved while the page said the form was refused. Now one call, refused whole.
    agent = await portal.visitor(STAFF_EMAIL)
    page = f"/agents/familles/{portal.family['id']}/modifier"
    fields = {"version": "1", "name": portal.family["name"], "address": "1 rue des Écoles",
              "postal_code": "64240", "city": "Anglet", "email": portal.family["email"],
              "phone": "05 59 29 00 00", "status": "active", "quotient_date": "2026-01-05",
              "quotient_source": "CAF"}  # fmt: skip

    answers = [
        await post_form(agent, page, page, {**fields, "quotient": quotient})
        for quotient in ("-5", "²", "deux cents")
    ]

    for answer in answers:
        assert answer.status == 422
        assert "Certains champs sont à corriger" in text_of(await answer.text())
    record = await portal.api.read_family(portal.family["id"])
    assert (record["city"], record["version"]) == ("Hasparren", 1)


async def test_a_parent_downloads_the_familys_data_from_the_page(portal: Portal) -> None:
    parent = await portal.visitor(PARENT_EMAIL)
    page = await (await parent.get("/famille")).text()
    link = f"/api/families/families/{portal.family['id']}/export"
    assert f'href="{link}"' in page
    export = await parent.get(link)
    assert export.status == 200
    assert "attachment" in export.headers["Content-Disposition"]
    assert (await export.json())["family"]["id"] == portal.family["id"]


async def test_the_queue_pages_and_filters_by_state(portal: Portal) -> None:
    for city in ("Bayonne", "Anglet"):
        request = await portal.api.requested(portal.family["id"], {"city": city}, version=1)
        await portal.api.client.post(
            f"/families/{portal.family['id']}/requests/{request['id']}/withdraw",
            headers=portal.api.parent(portal.family["id"]),
        )
    agent = await portal.visitor(STAFF_EMAIL)
    withdrawn = text_of(
        await (
            await agent.get(f"/agents/demandes?etat=withdrawn&famille={portal.family['id']}")
        ).text()
    )
    assert "2 demandes" in withdrawn and "Bayonne" in withdrawn and "Anglet" in withdrawn
    assert "Accepter" not in withdrawn  # decided requests offer no decision
    one = text_of(
        await (await agent.get(f"/agents/demandes?famille={portal.family['id']}&lang=en")).text()
    )
    assert "0 requests" in one  # a plural in each language, not « demande(s) »
