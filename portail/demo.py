"""Ids and names of the demo data (the manual's family TEST), shared by every service's seed.

Fixed ids let each service seed its own part of the demo independently and still agree:
the account of the parent in auth belongs to the family that families creates, the child
that bookings registers is the one families created, and so on.
"""

from __future__ import annotations

from datetime import date, timedelta

DEMO_FAMILY_ID = "00000000-0000-4000-8000-00000000f001"
DEMO_FAMILY_NAME = "TEST"
DEMO_PARENT_ID = "00000000-0000-4000-8000-00000000a001"
DEMO_CHILD_ID = "00000000-0000-4000-8000-00000000c001"
DEMO_CHILD_FIRST_NAME = "Enfant"
DEMO_PARENT_FIRST_NAME = "Parent"
DEMO_PARENT_EMAIL = "famille.test@example.org"
DEMO_PARENT_PASSWORD = "Portail-Famille-2026!"  # noqa: S105 (dev profile demo account only)
DEMO_STAFF_EMAIL = "agent@example.org"
DEMO_STAFF_PASSWORD = "Agent-Portail-2026!"  # noqa: S105 (dev profile demo account only)
DEMO_ADMIN_EMAIL = "admin@example.org"
DEMO_ADMIN_PASSWORD = "Admin-Portail-2026!"  # noqa: S105 (dev profile demo account only)
DEMO_ACTIVITY_ALSH = "ALSH Josta Leku"
DEMO_ACTIVITY_PERISCOLAIRE = "Périscolaire Jean Verdun"
DEMO_ACTIVITY_CANTINE = "Restauration scolaire"
DEMO_CONTACT_RECIPIENTS = (
    ("Guichet unique inscriptions", "guichet@example.org"),
    ("Jean Verdun, péri extra scolaire", "jean-verdun@example.org"),
)
# Fixed activity ids, so that documents can require its documents for the same activities.
DEMO_ACTIVITY_ALSH_ID = "00000000-0000-4000-8000-0000000ac001"
DEMO_ACTIVITY_PERISCOLAIRE_ID = "00000000-0000-4000-8000-0000000ac002"
DEMO_ACTIVITY_CANTINE_ID = "00000000-0000-4000-8000-0000000ac003"


def school_year_of(today: date) -> int:
    """The first calendar year of the school year `today` falls in (September to August)."""
    return today.year if today.month >= 8 else today.year - 1


def spring_holidays(today: date) -> date:
    """The Monday the demo's spring holidays start: on or after 12 April of the school year."""
    spring = date(school_year_of(today) + 1, 4, 12)
    return spring + timedelta(days=(7 - spring.weekday()) % 7)


def spring_registration_window(today: date) -> tuple[date, date]:
    """The first and last days of registration to the demo's spring holidays at the ALSH.

    Both seeds read it: bookings opens and closes the period on these days, notifications'
    news announces them. From the Monday of `today`'s week (open now) to a Thursday, as in
    the manual's « du lundi 27 mars au jeudi 6 avril »: the one eleven days before the
    holidays, as there, or, when that is near, the first one a month on at least, so that a
    demo tried weeks after it was seeded can still register.
    """
    opens = today - timedelta(days=today.weekday())
    month_on = today + timedelta(days=30)
    thursday_a_month_on = month_on + timedelta(days=(3 - month_on.weekday()) % 7)
    return opens, max(spring_holidays(today) - timedelta(days=11), thursday_a_month_on)
