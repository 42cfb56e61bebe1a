"""The proof of issue #4 in a real (headless) Chromium, with every real part (real_portal.py).

A parent, invited by e-mail, creates a password and asks for two changes from a 360 px phone:
the home phone, and a child's school and allergies. An agent, invited by e-mail too, creates
a password, enrols an authenticator (TOTP, the code computed from the secret the page shows),
signs in with the code and, on a desktop, accepts the first request and refuses the second
with a reason. The parent sees the new phone and the reason, and the worker's two e-mails
arrive at the SMTP server, each naming the fields and the decision.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pyotp
import pytest

from services.kit.typography import french_spacing
from tests.browser import SCREENSHOTS, chromium, requires_chromium

from .real_portal import (
    PASSWORD,
    PUBLIC_BASE_URL,
    STAFF_PASSWORD,
    RealPortal,
    html_of,
    link_in,
    text_of,
)

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]

SMALL_PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}
INVITATION = "Créez votre mot de passe pour l'Espace Famille"
STAFF_INVITATION = "Créez votre mot de passe pour l'espace des agents"
ACCEPTED = "Votre demande de modification a été acceptée"
REFUSED = "Votre demande de modification a été refusée"
REASON = "Merci de joindre le certificat du médecin dans Mes documents."


async def first_sign_in(page: Any, base: str, link: str, password: str) -> None:
    """Follow an invitation link and create the account's password."""
    await page.goto(f"{base}{link}")
    await page.get_by_label("Mot de passe", exact=True).fill(password)
    await page.get_by_label("Confirmez le mot de passe").fill(password)
    await page.get_by_role("button", name="Créer mon mot de passe et me connecter").click()
    await page.wait_for_load_state()


async def landed_on(page: Any, title: str) -> None:
    """The page a click led to has loaded and is `title`; else say which page came instead.

    A click returns once the next page has started to arrive, not once it is there; and a
    page the gateway could not build (a service too slow on a loaded machine, a session
    lost) has none of the links the next step looks for, which then only times out.
    """
    await page.wait_for_load_state()
    shown = await page.title()
    main = (
        (await page.locator("main").inner_text())[:500]
        if await page.locator("main").count()
        else ""
    )
    assert shown == f"{title} — Mairie de Hasparren", f"{page.url}: « {shown} »\n{main}"


async def fits(page: Any, width: int) -> None:
    """Nothing on the page overflows sideways."""
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url}: {scroll} px wide in a {width} px window"


async def shoot(page: Any, name: str) -> None:
    await page.screenshot(path=str(SCREENSHOTS / f"families-{name}.png"), full_page=True)


@pytest.mark.timeout(300)
async def test_a_parent_asks_staff_decide_and_the_parent_reads_both_emails(
    real_portal: RealPortal,
) -> None:
    portal = real_portal
    base = portal.base_url
    family_id = portal.family["id"]
    violations: list[str] = []

    def watch(page: Any) -> None:
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security" in m.text else None,
        )

    async with chromium() as browser:
        # --- the parent, on a small phone, from the invitation e-mail ---------------
        parent = await (
            await browser.new_context(viewport=SMALL_PHONE, device_scale_factor=2, is_mobile=True)
        ).new_page()
        watch(parent)
        invitation = await portal.mail(portal.parent_email, INVITATION)
        await first_sign_in(parent, base, link_in(invitation, "/premiere-connexion"), PASSWORD)
        assert parent.url == f"{base}/"
        await parent.get_by_role("link", name="Afficher ma famille").click()
        await landed_on(parent, "Ma famille")

        await parent.get_by_role("link", name="Modifier les coordonnées").click()
        await landed_on(parent, "Modifier les coordonnées de la famille")
        assert await parent.get_by_label("Adresse *").is_visible()  # the manual's star
        await parent.get_by_label("Téléphone du domicile").fill("06.11.22.33.44")
        await fits(parent, SMALL_PHONE["width"])
        await shoot(parent, "edit-360")
        await parent.get_by_role("button", name="Valider mes modifications").click()
        await parent.wait_for_load_state()
        notice = await parent.get_by_role("status").inner_text()
        assert "Votre demande a été correctement enregistrée." in notice

        await parent.goto(f"{base}/famille")
        await parent.get_by_role("link", name="Peio Etcheverry").click()
        await landed_on(parent, "Peio Etcheverry")
        await parent.get_by_role("link", name="Modifier", exact=True).click()
        await landed_on(parent, "Modifier Peio Etcheverry")
        await parent.get_by_label("École").fill("École Saint-Joseph")
        await parent.get_by_label("Allergies").fill("Arachide")
        await parent.get_by_role("button", name="Valider mes modifications").click()
        await parent.wait_for_load_state()
        assert "correctement enregistrée" in await parent.get_by_role("status").inner_text()

        await parent.goto(f"{base}/famille")
        requests = parent.locator(".requests")
        assert (await requests.inner_text()).count("En attente de validation") == 2
        await fits(parent, SMALL_PHONE["width"])
        await shoot(parent, "parent-pending-360")

        # --- the agent, on a desktop: invitation, password, TOTP, sign-in ----------
        agent = await (await browser.new_context(viewport=DESKTOP)).new_page()
        watch(agent)
        invitation = await portal.mail(portal.staff_email, STAFF_INVITATION)
        await first_sign_in(agent, base, link_in(invitation, "/premiere-connexion"), STAFF_PASSWORD)
        assert await agent.get_by_role(
            "heading", name="Activer la double authentification"
        ).is_visible()
        secret = "".join((await agent.locator("main code").inner_text()).split())
        totp, enrolled_at = pyotp.TOTP(secret), time.time()
        # This step's code now, the next step's at sign-in: a code is never spent twice,
        # and both stay within the one step of drift auth allows whenever the step turns.
        await agent.get_by_label("Code affiché par l'application").fill(totp.at(enrolled_at))
        await agent.get_by_role("button", name="Activer").click()
        await agent.wait_for_load_state()
        assert "codes de secours" in await agent.get_by_role("status").inner_text()
        await agent.get_by_role("link", name="Se connecter").click()
        await agent.get_by_label("Adresse électronique").fill(portal.staff_email)
        await agent.get_by_label("Mot de passe").fill(STAFF_PASSWORD)
        await agent.get_by_label("Code de vérification").fill(totp.at(enrolled_at + 30))
        await agent.get_by_role("button", name="Se connecter").click()
        await agent.wait_for_load_state()
        assert agent.url == f"{base}/", await agent.content()

        await agent.goto(f"{base}/agents/familles/{family_id}")
        await agent.get_by_role("link", name="Traiter").first.click()
        await agent.wait_for_load_state()
        phone_request = agent.locator(".queue__item", has_text="Téléphone du domicile")
        allergy_request = agent.locator(".queue__item", has_text="Allergies")
        assert "06 11 22 33 44" in await phone_request.inner_text()  # stored normalised
        assert "Arachide" in await allergy_request.inner_text()
        await fits(agent, DESKTOP["width"])
        await shoot(agent, "queue-desktop")
        await agent.set_viewport_size(SMALL_PHONE)
        await fits(agent, SMALL_PHONE["width"])
        await shoot(agent, "queue-360")
        await agent.set_viewport_size(DESKTOP)

        await phone_request.get_by_role("button", name="Accepter", exact=True).click()
        await agent.wait_for_load_state()
        assert "La demande a été acceptée." in await agent.get_by_role("status").inner_text()
        assert f"famille={family_id}" in agent.url  # still this family's queue
        await allergy_request.get_by_label("Motif").fill(REASON)
        await allergy_request.get_by_role("button", name="Refuser", exact=True).click()
        await agent.wait_for_load_state()
        assert "La demande a été refusée." in await agent.get_by_role("status").inner_text()

        await agent.set_viewport_size(SMALL_PHONE)
        for path in (
            "/agents/champs",
            f"/agents/familles/{family_id}",
            "/agents/familles?q=Etcheverry",
            f"/agents/demandes?etat=refused&famille={family_id}",
        ):
            await agent.goto(f"{base}{path}")
            await fits(agent, SMALL_PHONE["width"])  # the back office works on a phone too
        await shoot(agent, "refused-360")

        # --- the e-mails, from the SMTP server, and the page they link to ----------
        accepted = await portal.mail(portal.parent_email, ACCEPTED)
        assert "famille (téléphone du domicile) a été acceptée" in text_of(accepted)
        assert "<strong>acceptée</strong>" in html_of(accepted)
        refused = await portal.mail(portal.parent_email, REFUSED)
        assert "famille (école, allergies) a été refusée" in text_of(refused)
        assert french_spacing(f"Motif : {REASON}", narrow=False) in text_of(refused)
        assert link_in(accepted, "/famille") == "/famille"

        await parent.goto(f"{base}{link_in(accepted, '/famille')}")
        details = await parent.locator("#coordonnees").locator("..").inner_text()
        assert "06 11 22 33 44" in details and "05 59 29 00 00" not in details
        decided = await requests.inner_text()
        assert "Acceptée" in decided and "Refusée" in decided
        assert french_spacing(f"Motif : {REASON}") in decided
        await fits(parent, SMALL_PHONE["width"])
        await shoot(parent, "parent-decided-360")
        await parent.set_viewport_size(DESKTOP)
        await shoot(parent, "parent-decided-desktop")

    assert violations == []
    # Exactly one e-mail per decision (and the invitation): none lost, none twice.
    subjects = Counter(str(m["Subject"]) for m in portal.smtp.inbox.to(portal.parent_email))
    assert subjects == {INVITATION: 1, ACCEPTED: 1, REFUSED: 1}
    assert all(PUBLIC_BASE_URL in text_of(m) for m in portal.smtp.inbox.to(portal.parent_email))
