"""The catalogue's back office through the real gateway and the real bookings service
(PostgreSQL): activities, periods, bulk openings, one opening edited; who may; bad input.

Only auth is a stand-in (the session contract, `FakeAuth`), signing a staff token for the
agent and a family token for the parent.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import jinja2
import pytest
from jinja2 import nodes

from services.kit.testing import TestSigner
from services.kit.typography import french_spacing
from tests.services.bookings.test_pages import csrf, text_of

from .conftest import same_origin
from .fakes import PASSWORD, FakeAuth
from .test_i18n_coverage import (
    GATEWAY,
    _is_text,
    _module_msgids,
    _template_msgids,
    english,
    french_left,
)

AGENT, PARENT = "agent@example.org", "parent@example.org"
# Lundi 26 avril → vendredi 7 mai 2027: ten weekdays, Ascension (jeudi 6 mai) among them.
PERIOD_FORM = {
    "nom": "Vacances de printemps 2027",
    "annee": "2026-2027",
    "debut": "2027-04-26",
    "fin": "2027-05-07",
    "ouverture": "2027-03-29T00:00",
    "fermeture": "2027-04-09T00:00",
}


@dataclass
class CatalogueAuth(FakeAuth):
    """The session contract: staff tokens for `staff`, family tokens for the others."""

    staff: set[str] = field(default_factory=set)

    def token(self, email: str) -> str:
        if email in self.staff:
            return self.signer.token(subject=email, role="staff", ttl=self.expires_in)
        return super().token(email)


@dataclass
class BackOffice:
    """The gateway signed in as someone, and the bookings service to check what was saved."""

    client: Any
    bookings: Any
    staff_headers: dict[str, str]

    async def page(self, path: str, status: int = 200) -> str:
        response = await self.client.get(path)
        html = await response.text()
        assert response.status == status, (path, text_of(html)[:400])
        return html

    async def post(self, path: str, data: dict[str, Any], *, token_from: str = "") -> Any:
        """Submit a form of `token_from` (default: `path`) as the browser would."""
        html = await self.page(token_from or path.split("?")[0])
        return await self.client.post(
            path,
            data={"csrf_token": csrf(html), **data},
            headers=same_origin(self.client),
            allow_redirects=False,
        )

    async def api(self, path: str, **params: str) -> Any:
        response = await self.bookings.get(path, params=params, headers=self.staff_headers)
        assert response.status == 200, await response.text()
        return await response.json()


async def _sign_in(client: Any, email: str) -> None:
    client.session.cookie_jar.clear()
    signed = await client.post(
        "/connexion",
        data={"email": email, "password": PASSWORD},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert signed.status == 303, await signed.text()


async def start_office(gateway, upstream, service_client, signer: TestSigner) -> BackOffice:  # type: ignore[no-untyped-def]
    """The gateway in front of the real bookings service, an agent signed in."""
    bookings = await service_client("bookings")
    auth = CatalogueAuth(signer, accounts={AGENT: [], PARENT: ["family-1"]}, staff={AGENT})
    auth_server = await upstream(auth.app())
    bookings_url = str(bookings.make_url("")).rstrip("/")
    # A loaded 2-core machine: the page's chained calls get room (the limits are not tested).
    client = await gateway(
        {"auth": auth_server.url, "bookings": bookings_url}, upstream_deadline_seconds=10.0
    )
    await _sign_in(client, AGENT)
    return BackOffice(client, bookings, signer.headers(role="staff", subject="agent-check"))


@pytest.fixture
async def office(gateway, upstream, service_client, signer: TestSigner) -> BackOffice:  # type: ignore[no-untyped-def]
    """The back office, an agent signed in."""
    return await start_office(gateway, upstream, service_client, signer)


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


async def _new_activity(office: BackOffice, name: str, **fields: str) -> str:
    form = {"nom": name, "validation": "manual", "ajout_type": "aucun", "annulation_type": "aucun"}
    form.update(fields)
    created = await office.post("/agents/activites/nouvelle", form)
    assert created.status == 303, text_of(await created.text())[:400]
    match = re.fullmatch(
        r"/agents/activites/([0-9a-f-]{36})\?ok=activite", created.headers["Location"]
    )
    assert match, created.headers["Location"]
    return match.group(1)


async def _activity_with_units(office: BackOffice) -> tuple[str, str]:
    """An activity with groups maternelle and primaire, units journée and repas, one period."""
    activity_id = await _new_activity(office, _unique("ALSH"))
    here = f"/agents/activites/{activity_id}"
    groups = (
        {"nom": "maternelle", "age_min": "3", "age_max": "5", "capacite": "16"},
        {"nom": "primaire", "age_min": "6", "age_max": "11", "capacite": ""},
    )
    for group in groups:
        assert (await office.post(f"{here}/groupes", group, token_from=here)).status == 303
    for unit in ({"code": "journee", "libelle": "Journée", "heure_debut": "08:30",
                  "heure_fin": "17:30"},
                 {"code": "repas", "libelle": "Repas", "heure_debut": "12:00",
                  "heure_fin": "13:30"}):  # fmt: skip
        assert (await office.post(f"{here}/unites", unit, token_from=here)).status == 303
    created = await office.post(
        "/agents/periodes", {"activite": activity_id, **PERIOD_FORM, "nom": _unique("Printemps")}
    )
    assert created.status == 303, text_of(await created.text())[:400]
    period_id = created.headers["Location"].split("/")[4]
    return activity_id, period_id


async def test_an_agent_builds_an_activity_a_period_and_its_openings(office: BackOffice) -> None:
    home = await office.page("/")
    assert 'href="/agents/activites"' in home and 'href="/agents/periodes"' in home

    name = _unique("ALSH Josta Leku")
    activity_id = await _new_activity(
        office, name, description="Accueil de loisirs", validation="automatic",
        liste_attente="oui", ajout_type="jours", ajout_jours="2", ajout_heure="10:00",
        ajout_ouvres="oui", annulation_type="semaine", annulation_jour="2",
        annulation_heure="12:00",
    )  # fmt: skip
    page = text_of(await office.page(f"/agents/activites/{activity_id}?ok=activite"))
    assert "L'activité est créée : ajoutez maintenant ses groupes et ses unités." in page
    saved = await office.api(f"/activities/{activity_id}")
    assert saved["name"] == name and saved["validation"] == "automatic"
    assert saved["waiting_list"] is True and saved["documents_required"] is False
    assert saved["add_notice"] == {
        "kind": "days_before", "days": 2, "at": "10:00:00", "skip_weekends_and_holidays": True,
    }  # fmt: skip
    assert saved["cancel_notice"] == {"kind": "weekday_before", "weekday": 2, "at": "12:00:00"}

    # Groups with ages and a capacity; units with times; an incompatibility, read both ways.
    here = f"/agents/activites/{activity_id}"
    added = await office.post(
        f"{here}/groupes",
        {"nom": "maternelle", "age_min": "3", "age_max": "5", "capacite": "16"},
        token_from=here,
    )
    assert added.status == 303 and added.headers["Location"] == f"{here}?ok=groupe"
    for unit in ({"code": "journee", "libelle": "Journée", "heure_debut": "08:30",
                  "heure_fin": "17:30"},
                 {"code": "matin", "libelle": "Matin", "heure_debut": "08:30",
                  "heure_fin": "12:00", "incompatibles": "journee"}):  # fmt: skip
        assert (await office.post(f"{here}/unites", unit, token_from=here)).status == 303
    saved = await office.api(f"/activities/{activity_id}")
    assert [(g["name"], g["min_age"], g["max_age"], g["capacity"]) for g in saved["groups"]] == [
        ("maternelle", 3, 5, 16)
    ]
    units = {u["code"]: u for u in saved["units"]}
    assert units["journee"]["starts_at"] == "08:30:00" and units["matin"]["excludes"] == ["journee"]
    page = await office.page(here)
    journee_form = page.split(f'/unites/{units["journee"]["id"]}"')[1].split("</form>")[0]
    assert re.search(r'value="matin" checked', journee_form)  # shown from journée's side too

    # Edit the group (capacity emptied: no limit) and the unit (times, incompatibility removed).
    group_id = saved["groups"][0]["id"]
    edited = await office.post(
        f"{here}/groupes/{group_id}",
        {"nom": "petits", "age_min": "2", "age_max": "5", "capacite": ""},
        token_from=here,
    )
    assert edited.status == 303
    edited = await office.post(
        f"{here}/unites/{units['matin']['id']}",
        {"libelle": "Matinée", "heure_debut": "08:00", "heure_fin": "12:15"},
        token_from=here,
    )
    assert edited.status == 303
    saved = await office.api(f"/activities/{activity_id}")
    assert (saved["groups"][0]["name"], saved["groups"][0]["capacity"]) == ("petits", None)
    matin = next(u for u in saved["units"] if u["code"] == "matin")
    assert (matin["label"], matin["ends_at"], matin["excludes"]) == ("Matinée", "12:15:00", [])
    assert next(u for u in saved["units"] if u["code"] == "journee")["excludes"] == []

    # A period with its window, then its openings in bulk: the weekdays minus Ascension.
    created = await office.post("/agents/periodes", {"activite": activity_id, **PERIOD_FORM})
    assert created.status == 303, text_of(await created.text())[:400]
    openings_path = created.headers["Location"].split("?")[0]
    period_id = openings_path.split("/")[4]
    assert openings_path == f"/agents/periodes/{activity_id}/{period_id}/ouvertures"
    period = next(p for p in (await office.api(f"/activities/{activity_id}/periods"))["items"])
    assert period["registration_opens_at"] == "2027-03-28T22:00:00Z"  # Paris midnight, in UTC
    listing = text_of(await office.page("/agents/periodes"))
    assert name in listing and "Vacances de printemps 2027" in listing

    bulk = {"jours": ["0", "1", "2", "3", "4"], "unites": "journee", "groupes": "petits",
            "debut": "2027-04-26", "fin": "2027-05-07", "places": "12"}  # fmt: skip
    made = await office.post(openings_path, bulk)
    assert made.status == 200
    result = text_of(await made.text())
    assert "9 ouvertures créées." in result
    assert "jeudi 06/05/2027 — Jour férié : Ascension" in result
    openings = (await office.api("/openings", period_id=period_id))["items"]
    assert len(openings) == 9 and {o["capacity"] for o in openings} == {12}
    assert "2027-05-06" not in {o["day"] for o in openings}
    again = text_of(await (await office.post(openings_path, bulk)).text())
    assert "0 ouverture créée." in again and "9 existaient déjà (inchangées)." in again

    may = await office.page(f"{openings_path}?mois=2027-05")
    assert may.count("data-opening=") == 4  # 3, 4, 5 and 7 May
    first = next(o for o in openings if o["day"] == "2027-05-07")
    edit_path = f"{openings_path}/{first['id']}"
    assert "vendredi 07/05/2027" in text_of(await office.page(edit_path))
    saved_opening = await office.post(edit_path, {"places": "5", "fermee": "oui"})
    assert saved_opening.status == 303
    assert saved_opening.headers["Location"] == f"{openings_path}?mois=2027-05&ok=ouverture"
    after = await office.api(f"/openings/{first['id']}")
    assert (after["capacity"], after["closed"]) == (5, True)
    row = (await office.page(f"{openings_path}?mois=2027-05")).split(
        f'data-opening="{first["id"]}"'
    )
    assert "fermée" in row[1].split("</tr>")[0]

    # The registration window moves (only its fields sent: the rest is kept).
    window = await office.post(
        f"/agents/periodes/{activity_id}/{period_id}",
        {"ouverture": "2027-03-22T08:00", "fermeture": "2027-04-12T00:00"},
    )
    assert window.status == 303
    assert window.headers["Location"] == "/agents/periodes?ok=periode-enregistree"
    period = (await office.api(f"/activities/{activity_id}/periods"))["items"][0]
    assert period["registration_opens_at"] == "2027-03-22T07:00:00Z"


async def test_families_and_visitors_are_refused_and_nothing_is_made(
    office: BackOffice,
) -> None:
    activity_id, period_id = await _activity_with_units(office)
    token = csrf(await office.page("/agents/activites/nouvelle"))
    paths = [
        "/agents/activites",
        "/agents/activites/nouvelle",
        f"/agents/activites/{activity_id}",
        "/agents/periodes",
        f"/agents/periodes/{activity_id}/{period_id}",
        f"/agents/periodes/{activity_id}/{period_id}/ouvertures",
    ]
    client = office.client
    await _sign_in(client, PARENT)
    for path in paths:
        response = await client.get(path)
        assert response.status == 403, path
        assert "Accès refusé" in await response.text()
    name = _unique("Intrus")
    parent_token = csrf(await (await client.get("/")).text())
    refused = await client.post(
        "/agents/activites/nouvelle",
        data={"csrf_token": parent_token, "nom": name, "validation": "manual"},
        headers=same_origin(client),
    )
    assert refused.status == 403
    bulk = await client.post(
        f"/agents/periodes/{activity_id}/{period_id}/ouvertures",
        data={
            "csrf_token": parent_token,
            "jours": "0",
            "unites": "repas",
            "groupes": "primaire",
            "places": "3",
        },
        headers=same_origin(client),
    )
    assert bulk.status == 403
    client.session.cookie_jar.clear()
    anonymous = await client.get("/agents/activites", allow_redirects=False)
    assert anonymous.status in (302, 303) and "/connexion" in anonymous.headers["Location"]
    await _sign_in(client, AGENT)
    stale = await client.post(  # the agent's own form, but another session's token
        "/agents/activites/nouvelle",
        data={"csrf_token": token, "nom": name, "validation": "manual"},
        headers=same_origin(client),
    )
    assert stale.status == 403
    names = {a["name"] for a in (await office.api("/activities"))["items"]}
    assert name not in names
    assert (await office.api("/openings", period_id=period_id))["items"] == []


async def test_bad_input_gets_french_messages_beside_the_fields_and_saves_nothing(
    office: BackOffice,
) -> None:
    activity_id, period_id = await _activity_with_units(office)
    here = f"/agents/activites/{activity_id}"
    marker = _unique("description")

    refused = await office.post(
        "/agents/activites/nouvelle",
        {
            "nom": "",
            "description": marker,
            "validation": "manual",
            "ajout_type": "jours",
            "ajout_jours": "deux",
            "annulation_type": "aucun",
        },
    )
    assert refused.status == 422
    html = await refused.text()
    page = text_of(html)
    assert "Indiquez un nom (120 caractères au plus)." in page
    assert "Délai pour réserver incomplet" in page
    assert 'id="regles-nom"' in html and 'aria-invalid="true"' in html
    assert 'value="deux"' in html and marker in html  # what was typed stays
    assert marker not in {a["description"] for a in (await office.api("/activities"))["items"]}

    # The service's 400 for a NUL character is English, for API clients: the page says its own.
    nul = await office.post("/agents/activites/nouvelle", {"nom": "A\x00B", "validation": "x"})
    assert nul.status == 400
    page = text_of(await nul.text())
    assert "L'activité n'a pas pu être créée." in page and "NUL" not in page

    existing = (await office.api(f"/activities/{activity_id}"))["name"]
    twice = await office.post("/agents/activites/nouvelle", {"nom": existing,
                                                             "validation": "manual"})  # fmt: skip
    assert twice.status == 409
    assert f"Une activité nommée « {existing} » existe déjà." in text_of(await twice.text())

    before = await office.api(f"/activities/{activity_id}")
    inverted = await office.post(
        f"{here}/groupes", {"nom": "grands", "age_min": "12", "age_max": "9"}, token_from=here
    )
    assert inverted.status == 422
    page = text_of(await inverted.text())
    assert "Âge maximum : un nombre entier de 0 à 25, au moins égal à l'âge minimum." in page
    assert "Rien n'a été enregistré : voir « Groupes d'âge »." in page
    repas = next(u for u in before["units"] if u["code"] == "repas")
    late = await office.post(
        f"{here}/unites/{repas['id']}",
        {"libelle": "Repas", "heure_debut": "14:00", "heure_fin": "13:30"},
        token_from=here,
    )
    assert late.status == 422
    assert "Heure de fin : HH:MM, après l'heure de début, ou vide." in text_of(await late.text())
    bad_code = await office.post(
        f"{here}/unites", {"code": "Goûter", "libelle": "Goûter"}, token_from=here
    )
    assert bad_code.status == 422
    assert "Code : lettres minuscules sans accent" in text_of(await bad_code.text())
    assert await office.api(f"/activities/{activity_id}") == before

    backwards = await office.post(
        "/agents/periodes",
        {"activite": activity_id, **PERIOD_FORM, "nom": "À l'envers", "fin": "2027-04-01"},
    )
    assert backwards.status == 422
    page = text_of(await backwards.text())
    assert "Dernier jour : une date valide, pas avant le premier jour" in page
    assert "À l'envers" not in {
        p["name"] for p in (await office.api(f"/activities/{activity_id}/periods"))["items"]
    }

    openings = f"/agents/periodes/{activity_id}/{period_id}/ouvertures"
    nothing = await office.post(openings, {"jours": "2", "groupes": "primaire", "places": "8"})
    assert nothing.status == 422
    assert "Cochez au moins une unité." in text_of(await nothing.text())
    no_day = await office.post(openings, {"unites": "repas", "groupes": "primaire", "places": "8"})
    assert no_day.status == 422
    assert "Cochez au moins un jour de la semaine." in text_of(await no_day.text())
    too_many = await office.post(
        openings, {"jours": "2", "unites": "repas", "groupes": "primaire", "places": "beaucoup"}
    )
    assert too_many.status == 422
    assert "Nombre de places : un nombre entier de 0 à 10 000." in text_of(await too_many.text())
    assert (await office.api("/openings", period_id=period_id))["items"] == []

    made = await office.post(openings, {"jours": "2", "unites": "repas", "groupes": "primaire",
                                        "places": "8"})  # fmt: skip
    assert "2 ouvertures créées." in text_of(await made.text())
    opening = (await office.api("/openings", period_id=period_id))["items"][0]
    negative = await office.post(f"{openings}/{opening['id']}", {"places": "-1", "fermee": "oui"})
    assert negative.status == 422
    assert "Nombre de places : un nombre entier de 0 à 10 000." in text_of(await negative.text())
    assert await office.api(f"/openings/{opening['id']}") == opening


async def test_a_count_in_the_address_that_is_not_ascii_digits_is_left_out(
    office: BackOffice,
) -> None:
    # « ² » passes str.isdigit() but not int(): the notices' counts answered 500.
    for path in ("/agents/periodes?ok=periode-supprimee&n=%C2%B2",
                 "/agents/activites?ok=groupe-supprime&n=%C2%B2",
                 "/agents/inscriptions?ok=acceptees&n=%C2%B2"):  # fmt: skip
        await office.page(path)
        # Nor do 5,000 ASCII digits: int() refuses more than 4,300.
        await office.page(path.replace("%C2%B2", "9" * 5000))
    said = text_of(await office.page("/agents/inscriptions?ok=acceptees&n=%C2%B2"))
    assert "Demande acceptée." in said


async def test_ids_of_another_activity_or_period_answer_404(office: BackOffice) -> None:
    first_activity, first_period = await _activity_with_units(office)
    other_activity, other_period = await _activity_with_units(office)
    openings = f"/agents/periodes/{other_activity}/{other_period}/ouvertures"
    made = await office.post(openings, {"jours": "2", "unites": "repas", "groupes": "primaire",
                                        "places": "8"})  # fmt: skip
    assert made.status == 200
    opening = (await office.api("/openings", period_id=other_period))["items"][0]
    other = await office.api(f"/activities/{other_activity}")
    await office.page(f"/agents/periodes/{first_activity}/{other_period}", status=404)
    await office.page(f"/agents/periodes/{first_activity}/{other_period}/ouvertures", status=404)
    await office.page(
        f"/agents/periodes/{first_activity}/{first_period}/ouvertures/{opening['id']}", status=404
    )
    await office.page("/agents/activites/00000000-0000-0000-0000-000000000000", status=404)
    await office.page("/agents/activites/..%2F..%2Fregistrations", status=404)
    here = f"/agents/activites/{first_activity}"
    foreign_group = await office.post(
        f"{here}/groupes/{other['groups'][0]['id']}", {"nom": "volé", "age_min": "1",
                                                        "age_max": "2"}, token_from=here,
    )  # fmt: skip
    assert foreign_group.status == 404
    assert (await office.api(f"/activities/{other_activity}"))["groups"] == other["groups"]


# ---- English --------------------------------------------------------------------------


def _macro_labels(path: Path) -> set[str]:
    """Labels and hints handed to the form macros (`f.input(…, "Âge minimum", …)`), which
    translate them inside: text, not field names or HTML attributes."""
    tree = jinja2.Environment().parse(path.read_text(encoding="utf-8"))
    found = set()
    for call in tree.find_all(nodes.Call):
        callee = call.node
        if isinstance(callee, nodes.Getattr) and getattr(callee.node, "name", "") == "f":
            values = [*call.args, *(keyword.value for keyword in call.kwargs)]
            found |= {
                value.value
                for value in values
                if isinstance(value, nodes.Const)
                and isinstance(value.value, str)
                and _is_text(value.value)
                and '="' not in value.value
            }
    return found


def test_every_french_text_of_the_catalogue_pages_has_an_english_entry() -> None:
    msgids = _module_msgids(GATEWAY / "pages" / "catalogue.py")
    for template in sorted((GATEWAY / "templates" / "catalogue").glob("*.html")):
        msgids |= _template_msgids(template) | _macro_labels(template)
    assert {"Âge minimum", "Nombre de places par ouverture", "Du"} <= msgids
    assert len(msgids) > 80, "the extraction found (almost) nothing: it is broken"
    catalog = english()
    missing = sorted(m for m in msgids if m not in catalog)
    assert not missing, f"{len(missing)} texts without English:\n" + "\n".join(missing)
    fields = re.compile(r"\{(\w*)\}")
    assert [m for m in msgids if set(fields.findall(m)) != set(fields.findall(catalog[m]))] == []


async def test_the_pages_read_in_english(office: BackOffice) -> None:
    activity_id, period_id = await _activity_with_units(office)
    # The lists show every activity of the run's database: all their names are data.
    data = ("Mairie de Hasparren",)
    for activity in (await office.api("/activities"))["items"]:
        data += (activity["name"], *(g["name"] for g in activity["groups"]))
        data += tuple(u["label"] for u in activity["units"])
        periods = await office.api(f"/activities/{activity['id']}/periods")
        data += tuple(p["name"] for p in periods["items"])
    # Longest first: « Matinée » (an edited unit of another test) must go before « Matin ».
    data = tuple(sorted(set(data), key=len, reverse=True))
    openings = f"/agents/periodes/{activity_id}/{period_id}/ouvertures"
    closed = await office.post(
        f"/agents/periodes/{activity_id}/{period_id}/fermetures",
        {"ferme_du": "2027-04-28", "motif": ""},
        token_from=openings,
    )
    assert closed.status == 303  # its « Supprimer » button is on the openings page
    for path in (
        "/agents/activites",
        "/agents/activites/nouvelle",
        f"/agents/activites/{activity_id}",
        "/agents/periodes",
        f"/agents/periodes/{activity_id}/{period_id}",
        openings,
    ):
        html = await office.page(f"{path}?lang=en")
        assert '<html lang="en">' in html
        assert french_left(html, data) == [], path
    # The confirmation pages, and the notices after a deletion.
    group = (await office.api(f"/activities/{activity_id}"))["groups"][0]
    here = f"/agents/activites/{activity_id}"
    for path, back in (
        (f"{here}/groupes/{group['id']}/supprimer", here),
        (f"/agents/periodes/{activity_id}/{period_id}/supprimer", openings),
    ):
        asked = await office.post(f"{path}?lang=en", {}, token_from=back)
        html = await asked.text()
        assert asked.status == 200 and "Yes, delete" in html
        assert french_left(html, data) == [], path
    deleted = await office.post(
        f"{here}/groupes/{group['id']}/supprimer?lang=en", {"confirme": "oui"}, token_from=here
    )
    assert deleted.status == 303
    html = await office.page(deleted.headers["Location"] + "&lang=en")
    assert "Group deleted." in html and french_left(html, data) == []


async def test_a_units_code_reads_code_colon_in_english(office: BackOffice) -> None:
    """« Code : journee » kept the French space before the colon on the English page."""
    activity_id, _ = await _activity_with_units(office)
    english = await office.page(f"/agents/activites/{activity_id}?lang=en")
    french = await office.page(f"/agents/activites/{activity_id}?lang=fr")
    assert 'class="unit-code">Code: <code>' in english and "Code :" not in english
    assert re.search(r'class="unit-code">Code[\u00a0\u202f ]: <code>', french), french


async def test_closed_days_are_listed_and_skipped_by_the_bulk_creation(
    office: BackOffice,
) -> None:
    activity_id, period_id = await _activity_with_units(office)
    openings = f"/agents/periodes/{activity_id}/{period_id}/ouvertures"
    closures = f"/agents/periodes/{activity_id}/{period_id}/fermetures"

    outside = await office.post(closures, {"ferme_du": "2027-06-01"}, token_from=openings)
    assert outside.status == 422
    assert "Premier jour fermé : une date de la période." in text_of(await outside.text())
    backwards = await office.post(
        closures, {"ferme_du": "2027-04-28", "ferme_au": "2027-04-27"}, token_from=openings
    )
    assert backwards.status == 422
    assert "pas avant le premier" in text_of(await backwards.text())
    assert (await office.api(f"/activities/{activity_id}/closures"))["items"] == []

    closed = await office.post(
        closures,
        {"ferme_du": "2027-04-28", "ferme_au": "2027-04-29", "motif": "Sortie au lac"},
        token_from=openings,
    )
    assert closed.status == 303
    assert closed.headers["Location"] == f"{openings}?mois=2027-04&ok=fermeture"
    page = text_of(await office.page(f"{openings}?mois=2027-04&ok=fermeture"))
    assert "Jours de fermeture enregistrés." in page
    assert "mercredi 28/04/2027 — Sortie au lac" in page and "jeudi 29/04/2027" in page
    made = await office.post(
        openings, {"jours": ["2", "3"], "unites": "repas", "groupes": "primaire", "places": "8"}
    )
    result = text_of(await made.text())
    assert "1 ouverture créée." in result  # mercredi 5 mai; jeudi 6 mai is Ascension
    assert "mercredi 28/04/2027 — Fermeture : Sortie au lac" in result
    days = [o["day"] for o in (await office.api("/openings", period_id=period_id))["items"]]
    assert days == ["2027-05-05"]


# --- a period's name and dates; deletions ----------------------------------------------------


async def _wednesday_meals(office: BackOffice, activity_id: str, period_id: str) -> None:
    """The period's two Wednesdays (28 April, 5 May) opened for lunch, primaire."""
    openings = f"/agents/periodes/{activity_id}/{period_id}/ouvertures"
    made = await office.post(
        openings, {"jours": "2", "unites": "repas", "groupes": "primaire", "places": "8"}
    )
    assert "2 ouvertures créées." in text_of(await made.text())


async def test_an_agent_renames_a_period_and_moves_its_dates_but_not_past_its_openings(
    office: BackOffice,
) -> None:
    activity_id, period_id = await _activity_with_units(office)
    await _wednesday_meals(office, activity_id, period_id)
    here = f"/agents/periodes/{activity_id}/{period_id}"
    form = {k: PERIOD_FORM[k] for k in ("ouverture", "fermeture")}
    name = _unique("Printemps renommé")

    saved = await office.post(here, {**form, "nom": name, "debut": "2027-04-27",
                                     "fin": "2027-05-06"})  # fmt: skip
    assert saved.status == 303, text_of(await saved.text())[:400]
    assert saved.headers["Location"] == "/agents/periodes?ok=periode-enregistree"
    assert "Période enregistrée." in text_of(await office.page(saved.headers["Location"]))
    period = next(
        p for p in (await office.api(f"/activities/{activity_id}/periods"))["items"]
        if p["id"] == period_id
    )  # fmt: skip
    assert (period["name"], period["starts_on"], period["ends_on"]) == (
        name, "2027-04-27", "2027-05-06",
    )  # fmt: skip

    # The first Wednesday would fall outside: refused, said in French, the form as typed.
    late = await office.post(here, {**form, "nom": name, "debut": "2027-04-29",
                                    "fin": "2027-05-06"})  # fmt: skip
    assert late.status == 409
    html = await late.text()
    page = text_of(html)
    assert "Ces dates laisseraient 1 ouverture en dehors de la période." in page
    assert "du 28/04/2027 au 05/05/2027" in page
    assert 'value="2027-04-29"' in html
    backwards = await office.post(here, {**form, "nom": name, "debut": "2027-05-06",
                                         "fin": "2027-05-01"})  # fmt: skip
    assert backwards.status == 422
    assert "Dernier jour : une date valide, pas avant le premier jour" in text_of(
        await backwards.text()
    )
    nameless = await office.post(here, {**form, "nom": "", "debut": "2027-04-27",
                                        "fin": "2027-05-06"})  # fmt: skip
    assert nameless.status == 422
    assert "Indiquez un nom (120 caractères au plus)." in text_of(await nameless.text())
    unchanged = next(
        p for p in (await office.api(f"/activities/{activity_id}/periods"))["items"]
        if p["id"] == period_id
    )  # fmt: skip
    assert unchanged == period


async def _registration_in(
    service_databases: dict[str, str], activity_id: str, period_id: str, group_id: str
) -> None:
    """A registration row written straight into bookings' database.

    Registering goes through families and documents, which this back office does not run;
    the rules of deletion are tested with real registrations in
    tests/services/bookings/test_catalogue_removals.py. Here only the page's refusal matters.
    """
    connection = await asyncpg.connect(
        service_databases["bookings"].replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        await connection.execute(
            "INSERT INTO registrations (id, family_id, person_id, activity_id, state, "
            "created_at, period_id, group_id, person_name, updated_at, holds_place) "
            "VALUES ($1, $2, $3, $4, 'accepted', now(), $5, $6, 'Enfant TEST', now(), false)",
            str(uuid.uuid4()), "family-1", str(uuid.uuid4()), activity_id, period_id, group_id,
        )  # fmt: skip
    finally:
        await connection.close()


async def test_supprimer_asks_first_then_deletes_what_is_unused_and_explains_what_is_not(
    office: BackOffice, service_databases: dict[str, str]
) -> None:
    activity_id, period_id = await _activity_with_units(office)
    await _wednesday_meals(office, activity_id, period_id)
    here = f"/agents/activites/{activity_id}"
    activity = await office.api(here.replace("/agents/activites", "/activities"))
    maternelle, primaire = activity["groups"]
    journee = next(u for u in activity["units"] if u["code"] == "journee")
    html = await office.page(here)
    assert f'action="{here}/groupes/{maternelle["id"]}/supprimer"' in html
    assert french_spacing('aria-label="Supprimer le groupe « maternelle »"') in html

    # The button only asks; the confirmation deletes.
    asked = await office.post(f"{here}/groupes/{maternelle['id']}/supprimer", {}, token_from=here)
    assert asked.status == 200
    page = text_of(await asked.text())
    assert "Supprimer le groupe « maternelle » ?" in page and "Oui, supprimer" in page
    assert len((await office.api(f"/activities/{activity_id}"))["groups"]) == 2
    deleted = await office.post(
        f"{here}/groupes/{maternelle['id']}/supprimer", {"confirme": "oui"}, token_from=here
    )
    assert deleted.status == 303
    assert deleted.headers["Location"] == f"{here}?ok=groupe-supprime&n=0"
    assert "Groupe supprimé." in text_of(await office.page(deleted.headers["Location"]))
    unit = await office.post(
        f"{here}/unites/{journee['id']}/supprimer", {"confirme": "oui"}, token_from=here
    )
    assert unit.status == 303
    read = await office.api(f"/activities/{activity_id}")
    assert [g["name"] for g in read["groups"]] == ["primaire"]
    assert [u["code"] for u in read["units"]] == ["repas"]

    # Used: the service's reason, what to do instead, a way back, no confirmation button.
    await _registration_in(service_databases, activity_id, period_id, primaire["id"])
    refused = await office.post(
        f"{here}/groupes/{primaire['id']}/supprimer", {"confirme": "oui"}, token_from=here
    )
    assert refused.status == 409
    html = await refused.text()
    page = text_of(html)
    assert "Le groupe « primaire » ne peut pas être supprimé" in page
    assert "1 inscription (dont 1 en cours ou acceptée)" in page
    assert "fermez plutôt ses ouvertures" in page
    assert "Oui, supprimer" not in page and f'href="{here}"' in html
    period_page = f"/agents/periodes/{activity_id}/{period_id}"
    kept = await office.post(
        f"{period_page}/supprimer", {"confirme": "oui"}, token_from=period_page
    )
    assert kept.status == 409
    assert "La période « " in text_of(await kept.text())
    assert len((await office.api("/openings", period_id=period_id))["items"]) == 2

    # An unused period goes with its openings, and the notice counts them.
    other_activity, other_period = await _activity_with_units(office)
    await _wednesday_meals(office, other_activity, other_period)
    other_page = f"/agents/periodes/{other_activity}/{other_period}"
    gone = await office.post(f"{other_page}/supprimer", {"confirme": "oui"}, token_from=other_page)
    assert gone.status == 303
    assert gone.headers["Location"] == "/agents/periodes?ok=periode-supprimee&n=2"
    page = text_of(await office.page(gone.headers["Location"]))
    assert "Période supprimée. Ses 2 ouvertures sans réservation ont été supprimées aussi." in page
    assert (await office.api(f"/activities/{other_activity}/periods"))["items"] == []

    # Another activity's entries through this activity's path: 404, nothing deleted.
    other = await office.api(f"/activities/{other_activity}")
    for path in (
        f"{here}/groupes/{other['groups'][0]['id']}/supprimer",
        f"{here}/unites/{other['units'][0]['id']}/supprimer",
        f"/agents/periodes/{activity_id}/{other_period}/supprimer",
    ):
        wrong = await office.post(path, {"confirme": "oui"}, token_from=here)
        assert wrong.status == 404, path
    assert await office.api(f"/activities/{other_activity}") == other


async def test_a_mistaken_closed_day_is_deleted_after_confirmation(office: BackOffice) -> None:
    activity_id, period_id = await _activity_with_units(office)
    openings = f"/agents/periodes/{activity_id}/{period_id}/ouvertures"
    closed = await office.post(
        f"/agents/periodes/{activity_id}/{period_id}/fermetures",
        {"ferme_du": "2027-04-28", "ferme_au": "2027-04-29", "motif": "Grève"},
        token_from=openings,
    )
    assert closed.status == 303
    strike = (await office.api(f"/activities/{activity_id}/closures"))["items"][0]
    path = f"/agents/periodes/{activity_id}/{period_id}/fermetures/{strike['id']}/supprimer"
    assert f'action="{path}"' in await office.page(f"{openings}?mois=2027-04")

    asked = await office.post(path, {}, token_from=openings)
    assert "Supprimer le jour de fermeture du mercredi 28/04/2027 ?" in text_of(await asked.text())
    deleted = await office.post(path, {"confirme": "oui"}, token_from=openings)
    assert deleted.status == 303
    assert deleted.headers["Location"] == f"{openings}?mois=2027-04&ok=fermeture-supprimee&n=0"
    page = text_of(await office.page(deleted.headers["Location"]))
    assert "Jour de fermeture supprimé : la création en lot ne le saute plus." in page
    left = (await office.api(f"/activities/{activity_id}/closures"))["items"]
    assert [c["day"] for c in left] == ["2027-04-29"]
    again = await office.post(path, {"confirme": "oui"}, token_from=openings)
    assert again.status == 404  # already gone: the closure is no longer the activity's

    # Parents may not even ask.
    await _sign_in(office.client, PARENT)
    parent_token = csrf(await (await office.client.get("/")).text())
    refused = await office.client.post(
        path.replace(strike["id"], left[0]["id"]),
        data={"csrf_token": parent_token, "confirme": "oui"},
        headers=same_origin(office.client),
    )
    assert refused.status == 403
    assert len((await office.api(f"/activities/{activity_id}/closures"))["items"]) == 1
