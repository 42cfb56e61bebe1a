"""Staff land on the back office: its menu and its home list every queue and register."""

from __future__ import annotations

from gateway.menu import MENU, STAFF_MENU, menu_for


def test_staff_get_the_back_office_menu_and_families_the_manual_s() -> None:
    assert menu_for("staff") is STAFF_MENU
    assert menu_for("family") is MENU
    assert menu_for(None) is MENU
    assert all(entry.href == "/" or entry.href.startswith("/agents/") for entry in STAFF_MENU)


def test_every_back_office_entry_is_a_page_of_the_gateway() -> None:
    from gateway.app import create_app
    from gateway.config import GatewaySettings

    app = create_app(GatewaySettings(profile="test"))
    paths = {
        resource.canonical for resource in app.router.resources() if hasattr(resource, "canonical")
    }
    missing = [entry.href for entry in STAFF_MENU if entry.href not in paths]
    assert missing == []
