"""The "Menu" of the manual: the family pages, in its order (French labels, translated)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class MenuEntry:
    """One entry of the navigation."""

    label: str
    href: str
    # The staff role the page requires (its handler refuses the others); None: every agent.
    staff_role: str | None = None
    # The queue of notifications' `GET /staff/waiting` whose count the staff home shows.
    queue: str | None = None


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


# The back office, for the structure's staff: every queue and register, in the order of a
# working day (what waits for a decision first, then the registers, then the settings).
STAFF_MENU: tuple[MenuEntry, ...] = (
    MenuEntry("Accueil des agents", "/"),
    MenuEntry("Demandes de modification", "/agents/demandes", queue="famille"),
    MenuEntry("Demandes d'inscription", "/agents/inscriptions", queue="inscription"),
    MenuEntry("Réservations et présences", "/agents/reservations", queue="reservation"),
    MenuEntry("Documents à valider", "/agents/documents", queue="document"),
    MenuEntry("Messages des familles", "/agents/messages", queue="messages"),
    MenuEntry("Familles", "/agents/familles"),
    MenuEntry("Facturation mensuelle", "/agents/facturation"),
    MenuEntry("Factures", "/agents/factures"),
    MenuEntry("Activités", "/agents/activites"),
    MenuEntry("Périodes et ouvertures", "/agents/periodes"),
    MenuEntry("Documentation structure", "/agents/documentation"),
    MenuEntry("Types de documents", "/agents/types-documents"),
    MenuEntry("Actualités", "/agents/actualites"),
    MenuEntry("Destinataires des messages", "/agents/destinataires"),
    MenuEntry("Courriels envoyés", "/agents/courriels"),
    MenuEntry("Comptes", "/agents/comptes"),
    MenuEntry("Clients API (systèmes municipaux)", "/agents/clients-api", "administrator"),
    MenuEntry("Règles des champs", "/agents/champs"),
    MenuEntry("Événements non traités", "/agents/lettres-mortes"),
)


def menu_for(role: str | None, staff_roles: Iterable[str] = ()) -> tuple[MenuEntry, ...]:
    """The navigation of a visitor: the back office for staff, the manual's menu otherwise.

    An agent is not shown the pages of a role it lacks: each would only answer « Accès refusé ».
    """
    if role != "staff":
        return MENU
    held = frozenset(staff_roles)
    return tuple(e for e in STAFF_MENU if e.staff_role is None or e.staff_role in held)


def is_current(entry: MenuEntry, path: str) -> bool:
    """Is this entry the page being shown (for `aria-current`)?"""
    if entry.href == "/":
        return path == "/"
    return path == entry.href or path.startswith(entry.href + "/")
