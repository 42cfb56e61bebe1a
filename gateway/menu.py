"""The "Menu" of the manual: the family pages, in its order (French labels, translated)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MenuEntry:
    """One entry of the navigation."""

    label: str
    href: str


MENU: tuple[MenuEntry, ...] = (
    MenuEntry("Mon tableau de bord", "/"),
    MenuEntry("Ma famille", "/famille"),
    MenuEntry("Mes inscriptions", "/inscriptions"),
    MenuEntry("Mes réservations", "/reservations"),
    MenuEntry("Mes factures", "/factures"),
    MenuEntry("Mes documents", "/documents"),
    MenuEntry("Historique de mes actions", "/historique"),
    MenuEntry("Documentation structure", "/documentation"),
    MenuEntry("Contacter la structure", "/contact"),
    MenuEntry("Mot de passe", "/mot-de-passe"),
)


def is_current(entry: MenuEntry, path: str) -> bool:
    """Is this entry the page being shown (for `aria-current`)?"""
    if entry.href == "/":
        return path == "/"
    return path == entry.href or path.startswith(entry.href + "/")
