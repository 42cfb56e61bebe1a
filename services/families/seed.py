"""The demo household of the manual: the family TEST, its parent and "Enfant TEST" (idempotent)."""

from __future__ import annotations

from datetime import date

from portail.demo import (
    DEMO_CHILD_FIRST_NAME,
    DEMO_CHILD_ID,
    DEMO_FAMILY_ID,
    DEMO_FAMILY_NAME,
    DEMO_PARENT_EMAIL,
    DEMO_PARENT_FIRST_NAME,
    DEMO_PARENT_ID,
)
from services.kit.database import Database
from services.kit.outbox import utcnow

from .models import Family, FamilyMember, Person

DEMO_CHILD_BIRTH_DATE = date(2017, 5, 12)


async def seed_demo(database: Database) -> None:
    """Create what is missing of the demo family; running it again changes nothing."""
    # No events: demo data is a starting point, not something that happened, and the
    # other services seed their part from the same ids.
    now = utcnow()
    async with database.transaction() as session:
        if await session.get(Family, DEMO_FAMILY_ID) is None:
            session.add(
                Family(
                    id=DEMO_FAMILY_ID,
                    name=DEMO_FAMILY_NAME,
                    address="1 place de la Mairie",
                    postal_code="64240",
                    city="Hasparren",
                    phone="05 59 00 00 00",
                    email=DEMO_PARENT_EMAIL,
                    allocataire_regime="CAF",
                    allocataire_number="1234567",
                    quotient=850,
                    quotient_date=date(2026, 1, 15),
                    quotient_source="CAF",
                    status="active",
                    created_at=now,
                    updated_at=now,
                )
            )
        people = (
            Person(
                id=DEMO_PARENT_ID,
                role="responsable",
                first_name=DEMO_PARENT_FIRST_NAME,
                last_name=DEMO_FAMILY_NAME,
                sex="F",
                birth_date=date(1985, 3, 2),
                phone_mobile="06 12 34 56 78",
                email=DEMO_PARENT_EMAIL,
                relationship="mère",
                emergency_contact=True,
                authorised_pickup=True,
                created_at=now,
                updated_at=now,
            ),
            Person(
                id=DEMO_CHILD_ID,
                role="child",
                first_name=DEMO_CHILD_FIRST_NAME,
                last_name=DEMO_FAMILY_NAME,
                sex="M",
                birth_date=DEMO_CHILD_BIRTH_DATE,
                school="École Jean Verdun",
                school_class="CE2",
                diet="standard",
                pai=False,
                photo_authorised=True,
                may_leave_alone=False,
                created_at=now,
                updated_at=now,
            ),
        )
        await session.flush()
        for person in people:
            if await session.get(Person, person.id) is None:
                session.add(person)
                await session.flush()
            if await session.get(FamilyMember, (DEMO_FAMILY_ID, person.id)) is None:
                session.add(
                    FamilyMember(family_id=DEMO_FAMILY_ID, person_id=person.id, created_at=now)
                )
        await session.flush()
        family = await session.get(Family, DEMO_FAMILY_ID)
        if family is not None and family.billing_person_id is None:
            family.billing_person_id = DEMO_PARENT_ID
            family.updated_at = now
