"""Ids and names of the demo data (the manual's family TEST), shared by every service's seed.

Fixed ids let each service seed its own part of the demo independently and still agree:
the account of the parent in auth belongs to the family that families creates, the child
that bookings registers is the one families created, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Holidays:
    """School holidays the demo's ALSH opens a period for, Monday to Friday."""

    name: str
    starts_on: date
    ends_on: date

    @property
    def school_year(self) -> str:
        """`2026-2027`: the school year they fall in (the periods' `school_year`)."""
        first = school_year_of(self.starts_on)
        return f"{first}-{first + 1}"


# The town's holidays, roughly those of zone A (Hasparren): (name, month, first possible
# Monday, weeks). Close enough for a demo; a town enters its own periods.
HOLIDAY_CALENDAR = (
    ("Vacances d'hiver", 2, 8, 2),
    ("Vacances de printemps", 4, 12, 2),
    ("Vacances d'été", 7, 4, 7),
    ("Vacances de la Toussaint", 10, 19, 2),
    ("Vacances de Noël", 12, 21, 2),
)
# Registration closes on the Thursday eleven days before the holidays, as in the manual's
# « du lundi 27 mars au jeudi 6 avril »; holidays at least six weeks ahead keep it open a
# month at least, so that a demo tried weeks after it was seeded can still register.
REGISTRATION_LEAD = timedelta(weeks=6)
CLOSES_BEFORE = timedelta(days=11)


def holidays_of(year: int) -> list[Holidays]:
    """The demo's holidays starting in `year`, in order."""
    found = []
    for name, month, day, weeks in HOLIDAY_CALENDAR:
        first = date(year, month, day)
        monday = first + timedelta(days=(7 - first.weekday()) % 7)
        found.append(Holidays(f"{name} {year}", monday, monday + timedelta(weeks=weeks, days=-3)))
    return found


def next_holidays(today: date) -> Holidays:
    """The demo's holidays: the first ones starting six weeks after `today` or later."""
    return next(
        h
        for year in (today.year, today.year + 1)
        for h in holidays_of(year)
        if h.starts_on >= today + REGISTRATION_LEAD
    )


def holidays_registration_window(today: date) -> tuple[date, date]:
    """The first and last days of registration to the demo's holidays at the ALSH.

    Both seeds read it: bookings opens and closes the holidays' period on these days,
    notifications' news announces them. From the Monday of `today`'s week (open now) to the
    Thursday eleven days before the holidays (a month on at least).
    """
    opens = today - timedelta(days=today.weekday())
    return opens, next_holidays(today).starts_on - CLOSES_BEFORE


def billing_month(today: date) -> date:
    """The first day of the month before `today`'s: the month the staff's « Facturation »
    page opens on. Bookings' seed marks days of it attended, billing's seed invoices the
    months before it, so that its preview has lines to show."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)
