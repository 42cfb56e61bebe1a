"""« Inviter un membre du personnel » when auth does not invite: the page says why in words
(the accounts service does not answer / refused), in French and English, with what the
administrator typed kept, instead of the « Accès refusé » page.

Auth down: the real auth service, stopped after the administrator signed in. Auth refusing:
the real auth service cannot refuse an administrator whose session the gateway holds (both
read the same token), so a small service keeping auth's contract answers the 403 auth gives
anyone but an administrator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from tests.browser import PHONE, SCREENSHOTS, accessibility_violations, chromium, requires_chromium
from tests.gateway.conftest import same_origin, upstream  # noqa: F401 (its fixture)
from tests.gateway.fakes import FakeAuth
from tests.services.families.pages import sign_in

from .test_pages import body, csrf_of, portal
from .test_staff_members_page import signed_in_staff

UNAVAILABLE = "Le service des comptes ne répond pas pour le moment"
REFUSED = "Le service des comptes a refusé l'invitation"
DESKTOP = {"width": 1280, "height": 900}


def typed_email(html: str) -> str:
    """The e-mail field's value as the form shows it again."""
    return html.split('id="email"', 1)[1].split('value="', 1)[1].split('"', 1)[0]


async def test_auth_down_says_so_and_keeps_the_form(gateway, auth_client, signer) -> None:
    client, auth = await portal(gateway, auth_client)
    _me, csrf = await signed_in_staff(client, auth, signer, "administrator")
    await auth.close()  # the auth service stops: its address answers nothing

    for lang, said in (("fr", UNAVAILABLE), ("en", "The accounts service is not answering")):
        sent = await client.post(
            f"/agents/comptes/inviter-agent?lang={lang}",
            data={"csrf_token": csrf, "email": "nouvel.agent@example.org", "role": "administrator"},
            headers=same_origin(client),
        )
        html = await body(sent)
        assert sent.status == 503, html
        assert said in html and "Accès refusé" not in html and "Access denied" not in html
        assert typed_email(html) == "nouvel.agent@example.org"
        assert 'value="administrator" checked' in html


@dataclass
class AuthRefusingInvitations(FakeAuth):
    """Auth's session contract for one administrator; POST /staff refused (403) as auth
    refuses a caller who is not an administrator."""

    def token(self, email: str) -> str:
        return self.signer.token(
            subject=email, role="staff", staff_roles=["administrator"], ttl=self.expires_in
        )

    def app(self) -> web.Application:
        app = super().app()
        app.router.add_post("/staff", self._refuse)
        return app

    async def _refuse(self, _request: web.Request) -> web.Response:
        problem = {
            "type": "https://portail-famille.fr/problems/forbidden",
            "title": "Forbidden",
            "status": 403,
            "detail": "This operation is reserved to administrators.",
        }
        return web.json_response(problem, status=403, content_type="application/problem+json")


async def test_auth_refusing_says_so_and_keeps_the_form(
    gateway,
    upstream,  # noqa: F811 (the fixture imported above)
    signer,
) -> None:
    email = "admin@exemple.fr"
    auth = await upstream(AuthRefusingInvitations(signer, accounts={email: []}).app())
    client = await gateway({"auth": auth.url})
    await sign_in(client, email)
    csrf = csrf_of(await body(await client.get("/agents/comptes/inviter-agent")))

    for lang, said in (("fr", REFUSED), ("en", "The accounts service refused the invitation")):
        sent = await client.post(
            f"/agents/comptes/inviter-agent?lang={lang}",
            data={"csrf_token": csrf, "email": "nouvel.agent@example.org", "role": "agent"},
            headers=same_origin(client),
        )
        html = await body(sent)
        assert sent.status == 403, html
        assert said in html and "Accès refusé" not in html and "Access denied" not in html
        assert typed_email(html) == "nouvel.agent@example.org"
        assert 'value="agent" checked' in html


@requires_chromium
@pytest.mark.browser
@pytest.mark.parametrize(
    ("name", "options"),
    [("phone", {"viewport": PHONE, "is_mobile": True}), ("desktop", {"viewport": DESKTOP})],
)
async def test_the_refusals_read_well_on_a_phone_and_a_desktop(
    gateway,
    upstream,  # noqa: F811 (the fixture imported above)
    signer,
    name: str,
    options: dict[str, Any],
) -> None:
    email = "admin@exemple.fr"
    auth = await upstream(AuthRefusingInvitations(signer, accounts={email: []}).app())
    client = await gateway({"auth": auth.url})
    await sign_in(client, email)
    base = str(client.make_url("")).rstrip("/")
    async with chromium() as browser:
        context = await browser.new_context(locale="fr-FR", **options)
        await context.add_cookies(
            [{"name": c.key, "value": c.value, "url": base} for c in client.session.cookie_jar]
        )
        page = await context.new_page()
        for said, shot in ((REFUSED, "refused"), (UNAVAILABLE, "unavailable")):
            if shot == "unavailable":
                await auth.server.close()  # now the service answers nothing at all
            await page.goto(f"{base}/agents/comptes/inviter-agent")
            await page.get_by_label("Adresse électronique professionnelle").fill(
                "nouvel.agent@example.org"
            )
            await page.get_by_label("Administrateur").check()
            await page.get_by_role("button", name="Envoyer l'invitation").click()
            await page.wait_for_load_state()
            assert said in await page.get_by_role("alert").inner_text()
            field = page.get_by_label("Adresse électronique professionnelle")
            assert await field.input_value() == "nouvel.agent@example.org"
            assert await page.get_by_label("Administrateur").is_checked()
            scroll = await page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= options["viewport"]["width"]
            assert await accessibility_violations(page) == []
            await page.screenshot(
                path=str(SCREENSHOTS / f"staff-invite-{shot}-{name}.png"), full_page=True
            )
