"""Values a person kept from before a field stopped applying to their role, found and emptied.

Since fields.ADULTS_ONLY and fields.CHILDREN_ONLY, no form shows an adult's field on a child
nor a child's on an adult, yet a value stored earlier (an allergy on a parent, an e-mail on a
child) stays in the record and in the RGPD export. Data minimisation (CNIL NS-058) asks that
it go: `portail families-inapplicable-fields` lists them, `--apply` empties them here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from . import events
from .fields import ADULTS_ONLY, CHILDREN_ONLY, applies_to, label_of
from .models import Person
from .service import apply_values, emit, households_of

# Who the journal names for these removals: no agent typed them.
MAINTENANCE = "maintenance"


@dataclass(frozen=True)
class InapplicableValues:
    """One person and the fields holding a value that does not concern their role."""

    person_id: str
    role: str
    first_name: str
    last_name: str
    family_ids: tuple[str, ...]
    fields: tuple[str, ...]

    @classmethod
    def of(
        cls, person: Person, family_ids: tuple[str, ...], fields: tuple[str, ...]
    ) -> InapplicableValues:
        """The person's entry, with their households and the fields concerned."""
        return cls(person.id, person.role, person.first_name, person.last_name, family_ids, fields)


def inapplicable_fields(person: Person) -> tuple[str, ...]:
    """The person's fields that hold a value and do not apply to their role, sorted."""
    return tuple(
        sorted(
            name
            for name in ADULTS_ONLY | CHILDREN_ONLY
            if getattr(person, name) is not None and not applies_to("person", name, person.role)
        )
    )


def _holds_any(names: frozenset[str]) -> ColumnElement[bool]:
    return or_(*(getattr(Person, name).is_not(None) for name in sorted(names)))


async def find_inapplicable(session: AsyncSession) -> list[InapplicableValues]:
    """Every person holding a value that does not concern their role, by name."""
    persons = (
        await session.scalars(
            select(Person)
            .where(
                or_(
                    and_(Person.role == "child", _holds_any(ADULTS_ONLY)),
                    and_(Person.role != "child", _holds_any(CHILDREN_ONLY)),
                )
            )
            .order_by(Person.last_name, Person.first_name, Person.id)
        )
    ).all()
    households = await households_of(session, [p.id for p in persons])
    return [
        InapplicableValues.of(p, tuple(households.get(p.id, [])), inapplicable_fields(p))
        for p in persons
    ]


async def clear_inapplicable(
    session: AsyncSession, *, person_id: str, actor: str = MAINTENANCE
) -> InapplicableValues | None:
    """Empty the person's values that do not concern their role, in the caller's transaction,
    with a `person.updated` event per household marked `maintenance` (the journal: which
    fields, that the town emptied them, when).

    The row is locked and read again, so a staff edit or a second run in between is seen:
    None when nothing (or no one) is left to clear.
    """
    person = await session.get(Person, person_id, with_for_update=True, populate_existing=True)
    if person is None:
        return None
    fields = inapplicable_fields(person)
    if not fields:
        return None
    apply_values(person, dict.fromkeys(fields))
    family_ids = tuple((await households_of(session, [person.id])).get(person.id, []))
    for family_id in family_ids:
        emit(
            session,
            events.PERSON_UPDATED,
            family_id,
            person_id=person.id,
            fields=list(fields),
            # The family's journal names the fields as its screens do.
            labels=[label_of("person", name) for name in fields],
            by=actor,
            # Says the line is the town's maintenance, not an edit by the family or an agent.
            maintenance=True,
        )
    await session.flush()
    return InapplicableValues.of(person, family_ids, fields)
