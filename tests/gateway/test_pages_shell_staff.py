"""Staff land on the back office: its menu and its home list every queue and register."""

from __future__ import annotations

from gateway.menu import MENU, STAFF_MENU, menu_for

from .conftest import same_origin
from .fakes import PASSWORD, FakeAuth


def test_staff_get_the_back_office_menu_and_families_the_manual_s() -> None:
    assert menu_for("staff", {"administrator"}) == STAFF_MENU
    assert menu_for("family") is MENU
    assert menu_for(None) is MENU
    assert all(entry.href == "/" or entry.href.startswith("/agents/") for entry in STAFF_MENU)


def test_an_agent_is_not_shown_the_administrators_pages() -> None:
    shown = {entry.href for entry in menu_for("staff", {"agent"})}
    assert "/agents/clients-api" not in shown
    assert "/agents/clients-api" in {entry.href for entry in menu_for("staff", {"administrator"})}
    assert "/agents/demandes" in shown


def test_every_back_office_entry_is_a_page_of_the_gateway() -> None:
    from gateway.app import create_app
    from gateway.config import GatewaySettings

    app = create_app(GatewaySettings(profile="test"))
    paths = {
        resource.canonical for resource in app.router.resources() if hasattr(resource, "canonical")
    }
    missing = [entry.href for entry in STAFF_MENU if entry.href not in paths]
    assert missing == []


class StaffAuth(FakeAuth):
    """The auth contract, signing staff tokens (no family)."""

    def token(self, email: str) -> str:
        return self.signer.token(subject=email, role="staff", ttl=self.expires_in)


async def test_a_signed_in_agent_lands_on_the_back_office_with_its_menu(
    gateway, upstream, signer
) -> None:
    auth = await upstream(StaffAuth(signer, accounts={"agent@example.org": []}).app())
    client = await gateway({"auth": auth.url})
    signed = await client.post(
        "/connexion",
        data={"email": "agent@example.org", "password": PASSWORD},
        headers=same_origin(client),
        allow_redirects=False,
    )
    assert signed.status == 303

    home = await client.get("/")
    page = await home.text()
    assert home.status == 200
    assert "Espace des agents" in page
    assert 'href="/agents/demandes"' in page
    assert 'href="/reservations"' not in page  # the families' menu is not the staff's


async def test_the_back_office_shell_is_named_for_staff_and_the_portal_for_families(
    gateway, upstream, signer
) -> None:
    """The header and the footer said « Espace Famille » on every staff page."""
    auth = await upstream(StaffAuth(signer, accounts={"agent@example.org": []}).app())
    client = await gateway({"auth": auth.url})
    await client.post(
        "/connexion",
        data={"email": "agent@example.org", "password": PASSWORD},
        headers=same_origin(client),
        allow_redirects=False,
    )
    for path in ("/agents/demandes?lang=fr", "/agents/demandes?lang=en"):
        page = await (await client.get(path)).text()
        brand = page.split('class="site-header__portal">', 1)[1].split("<", 1)[0]
        footer = page.split("<footer", 1)[1]
        assert brand in ("Espace des agents", "Staff area"), brand
        assert "Espace Famille" not in page and "Family portal" not in page
        assert brand in footer

    visitor = await gateway({"auth": auth.url})
    sign_in_page = await (await visitor.get("/connexion")).text()
    assert 'class="site-header__portal">Espace Famille<' in sign_in_page
