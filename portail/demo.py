"""Ids and names of the demo data (the manual's family TEST), shared by every service's seed.

Fixed ids let each service seed its own part of the demo independently and still agree:
the account of the parent in auth belongs to the family that families creates, the child
that bookings registers is the one families created, and so on.
"""

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
