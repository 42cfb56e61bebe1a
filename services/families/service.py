"""The families rules, with no HTTP in them: households, persons, direct edits, search, feeds."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.outbox import record_event, utcnow
from services.kit.problems import ValidationFailed

from . import events
from .config import FamiliesSettings
from .errors import FamilyNotFound, PersonNotFound, StaleVersion
from .fields import ADULTS_ONLY, CHILDREN_ONLY, WRITABLE, Entity, PolicyRole, applies_to
from .models import ChangeRequest, Family, FamilyMember, OutboxMessage, Person
from .policy import Policy, load_policy
from .schemas import (
    QUOTIENT_FIELDS,
    FamilyContact,
    FamilyCreate,
    FamilyName,
    FamilySummary,
    FamilyUpdate,
    MyFamily,
    PersonCreate,
    PersonUpdate,
    QuotientUpdate,
)
from .validation import field_errors

ROLE_ORDER = {"responsable": 0, "child": 1, "contact": 2}
NOT_FOR_A_CHILD = "Ce champ ne concerne pas un enfant."
NOT_FOR_AN_ADULT = "Ce champ ne concerne pas un adulte."


def not_for(person_role: str | None) -> str:
    """The message for a field written on a person it does not concern."""
    return NOT_FOR_A_CHILD if person_role == "child" else NOT_FOR_AN_ADULT


def json_value(value: Any) -> Any:
    """A column value as JSON keeps it (dates as ISO strings), to compare and to store."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def emit(session: AsyncSession, event_type: str, family_id: str, **data: Any) -> None:
    """Write an event of this service in the caller's transaction."""
    record_event(
        session,
        OutboxMessage,
        source=FamiliesSettings.service_name,
        event_type=event_type,
        data={"family_id": family_id, **data},
        family_id=family_id,
    )


def check_writes(
    policy: Policy, entity: Entity, role: PolicyRole, values: dict[str, Any]
) -> list[dict[str, str]]:
    """Field errors for values `role` may not write, or may not leave empty."""
    errors = []
    for name, value in values.items():
        access = policy.access(entity, name, role)
        if access not in WRITABLE:
            errors.append({"field": name, "message": "Ce champ n'est pas modifiable."})
        elif access == "mandatory" and value is None:
            errors.append({"field": name, "message": "Ce champ est obligatoire."})
    return errors


def check_applies(person_role: str | None, values: dict[str, Any]) -> list[dict[str, str]]:
    """Field errors for values given to a person's fields that are not for its role (an
    adult's field on a child, a child's on an adult). Emptying one is allowed: a record whose
    role changes is cleaned so."""
    return [
        {"field": name, "message": not_for(person_role)}
        for name, value in values.items()
        if value is not None and not applies_to("person", name, person_role)
    ]


def check_version(record: Family | Person, version: int) -> None:
    """409 when the caller's copy of the record is older than the stored one."""
    if record.version != version:
        raise StaleVersion(
            "Ce dossier a été modifié entre-temps : rechargez-le avant de le modifier.",
            current_version=record.version,
        )


async def create_family(session: AsyncSession, *, data: FamilyCreate) -> Family:
    """Create a family and its `family.created` event in the caller's transaction."""
    values = data.model_dump(exclude_unset=True)
    if values.get("billing_person_id"):
        raise ValidationFailed(
            "Une nouvelle famille n'a pas encore de membres.",
            errors=[{"field": "billing_person_id", "message": "Ajoutez d'abord la personne."}],
        )
    now = utcnow()
    family = Family(id=str(uuid.uuid4()), created_at=now, updated_at=now, status="active")
    for name, value in values.items():
        setattr(family, name, value)
    if family.status is None:
        family.status = "active"
    session.add(family)
    emit(session, events.FAMILY_CREATED, family.id, name=family.name)
    await session.flush()
    return family


async def get_family(session: AsyncSession, *, family_id: str, lock: bool = False) -> Family:
    """The family with this id, or `FamilyNotFound`."""
    family = await session.get(Family, family_id, with_for_update=lock)
    if family is None:
        raise FamilyNotFound("No such family.")
    return family


async def update_family(
    session: AsyncSession, *, family_id: str, data: FamilyUpdate, role: PolicyRole, actor: str
) -> Family:
    """A direct edit (staff or import) against the version the caller read; a quotient in it
    is saved with the other fields or not at all."""
    family = await get_family(session, family_id=family_id, lock=True)
    check_version(family, data.version)
    values = data.model_dump(exclude_unset=True, exclude={"version"})
    quotient = {name: values.pop(name) for name in QUOTIENT_FIELDS if name in values}
    policy = await load_policy(session)
    errors = check_writes(policy, "family", role, {**values, **quotient})
    if values.get("billing_person_id") and not await is_member(
        session, family_id=family_id, person_id=values["billing_person_id"]
    ):
        errors.append(
            {"field": "billing_person_id", "message": "Cette personne n'est pas de la famille."}
        )
    if quotient:
        errors += quotient_errors(quotient, version=data.version)
    if errors:
        raise ValidationFailed("Certains champs ne peuvent pas être écrits.", errors=errors)
    # The events the two calls (PATCH, then PUT …/quotient) wrote before they were one: the
    # journal reads the same lines whichever way staff saved.
    if values or not quotient:
        apply_values(family, values)
        emit(session, events.FAMILY_UPDATED, family.id, fields=sorted(values), by=actor)
    if quotient:
        record_quotient(session, family, quotient, actor=actor)
    await session.flush()
    return family


def quotient_errors(quotient: dict[str, Any], *, version: int) -> list[dict[str, str]]:
    """Field errors of a quotient given in an edit, as `PUT …/quotient` reports them: the
    three fields together, none of them empty."""
    try:
        QuotientUpdate.model_validate({"version": version, **quotient})
    except ValidationError as exc:
        return field_errors(exc)
    return []


async def set_quotient(
    session: AsyncSession, *, family_id: str, data: QuotientUpdate, actor: str
) -> Family:
    """Record a new quotient familial with its date and source."""
    family = await get_family(session, family_id=family_id, lock=True)
    check_version(family, data.version)
    record_quotient(session, family, data.model_dump(exclude={"version"}), actor=actor)
    await session.flush()
    return family


def record_quotient(
    session: AsyncSession, family: Family, quotient: dict[str, Any], *, actor: str
) -> None:
    """Write the quotient, its date and source, and its own `family.updated` event."""
    apply_values(family, quotient)
    emit(session, events.FAMILY_UPDATED, family.id, fields=["quotient"], by=actor)


def apply_values(record: Family | Person, values: dict[str, Any]) -> None:
    """Write validated values and mark the record changed (its version bumps on flush)."""
    for name, value in values.items():
        setattr(record, name, value)
    record.updated_at = utcnow()


async def is_member(session: AsyncSession, *, family_id: str, person_id: str) -> bool:
    """Whether the person belongs to the family."""
    link = await session.get(FamilyMember, (family_id, person_id))
    return link is not None


async def list_persons(session: AsyncSession, *, family_id: str) -> list[Person]:
    """The family's persons: responsables, then children, then other contacts."""
    persons = (
        await session.scalars(
            select(Person)
            .join(FamilyMember, FamilyMember.person_id == Person.id)
            .where(FamilyMember.family_id == family_id)
        )
    ).all()
    return sorted(persons, key=lambda p: (ROLE_ORDER.get(p.role, 9), p.first_name, p.id))


async def get_person(
    session: AsyncSession, *, family_id: str, person_id: str, lock: bool = False
) -> Person:
    """A person of this family; another family's person answers exactly like a missing one."""
    if not await is_member(session, family_id=family_id, person_id=person_id):
        raise PersonNotFound("No such person in this family.")
    person = await session.get(Person, person_id, with_for_update=lock)
    if person is None:
        raise PersonNotFound("No such person in this family.")
    return person


async def create_person(
    session: AsyncSession, *, family_id: str, data: PersonCreate, actor: str
) -> Person:
    """Add a person to a family."""
    await get_family(session, family_id=family_id)
    values = data.model_dump(exclude_unset=True)
    policy = await load_policy(session)
    errors = [
        {"field": name, "message": "Ce champ est obligatoire."}
        for name, _ in _mandatory_fields(policy, "person", "staff", values["role"])
        if values.get(name) is None
    ]
    if errors:
        raise ValidationFailed("Certains champs obligatoires manquent.", errors=errors)
    errors = check_applies(values["role"], values)
    if errors:
        message = "Certains champs ne concernent pas un adulte."
        if values["role"] == "child":
            message = "Certains champs ne concernent pas un enfant."
        raise ValidationFailed(message, errors=errors)
    now = utcnow()
    person = Person(id=str(uuid.uuid4()), created_at=now, updated_at=now, **values)
    session.add(person)
    await session.flush()
    session.add(FamilyMember(family_id=family_id, person_id=person.id, created_at=now))
    emit(session, events.PERSON_CREATED, family_id, person_id=person.id, by=actor)
    await session.flush()
    return person


def _mandatory_fields(
    policy: Policy, entity: Entity, role: PolicyRole, person_role: str | None = None
) -> list[tuple[str, str]]:
    # A child is never asked for an adult's field, nor an adult for a child's, even one staff
    # made mandatory.
    return [
        (rule.field, rule.label)
        for rule in policy.rules(entity, role, person_role)
        if rule.access == "mandatory"
    ]


async def update_person(
    session: AsyncSession,
    *,
    family_id: str,
    person_id: str,
    data: PersonUpdate,
    role: PolicyRole,
    actor: str,
) -> Person:
    """A direct edit of a person (staff or import) against the version the caller read."""
    person = await get_person(session, family_id=family_id, person_id=person_id, lock=True)
    check_version(person, data.version)
    values = data.model_dump(exclude_unset=True, exclude={"version"})
    errors = check_writes(await load_policy(session), "person", role, values)
    person_role = values.get("role") or person.role
    errors += check_applies(person_role, values)
    # A person made a child keeps no adult's value it had (nor one made an adult a child's):
    # the edit must empty them too. Other edits leave alone a value stored before these
    # rules, which no form shows (docs/families.md).
    stored: dict[str, Any] = {}
    if person_role != person.role:
        stored = {n: getattr(person, n) for n in ADULTS_ONLY | CHILDREN_ONLY if n not in values}
    empty_it = "Videz ce champ : il ne concerne pas un adulte."
    if person_role == "child":
        empty_it = "Videz ce champ : il ne concerne pas un enfant."
    errors += [
        {"field": e["field"], "message": empty_it} for e in check_applies(person_role, stored)
    ]
    if errors:
        raise ValidationFailed("Certains champs ne peuvent pas être écrits.", errors=errors)
    apply_values(person, values)
    emit(session, events.PERSON_UPDATED, family_id, person_id=person.id, fields=sorted(values))
    await session.flush()
    return person


async def link_person(
    session: AsyncSession, *, family_id: str, person_id: str, actor: str
) -> Person:
    """Make an existing person a member of another household too (idempotent)."""
    await get_family(session, family_id=family_id)
    person = await session.get(Person, person_id, with_for_update=True)
    if person is None:
        raise PersonNotFound("No such person.")
    if not await is_member(session, family_id=family_id, person_id=person_id):
        session.add(FamilyMember(family_id=family_id, person_id=person_id, created_at=utcnow()))
        person.updated_at = utcnow()  # so that the municipal feed sees the new household
        emit(session, events.PERSON_UPDATED, family_id, person_id=person_id, fields=["family"])
        await session.flush()
    return person


async def count_persons(session: AsyncSession, *, family_id: str) -> int:
    """How many persons the family has."""
    statement = (
        select(func.count()).select_from(FamilyMember).where(FamilyMember.family_id == family_id)
    )
    return int(await session.scalar(statement) or 0)


async def my_families(session: AsyncSession, *, family_ids: frozenset[str]) -> list[MyFamily]:
    """The households of the signed-in account, with their sizes."""
    if not family_ids:
        return []
    counts = (
        select(FamilyMember.family_id, func.count().label("n"))
        .where(FamilyMember.family_id.in_(family_ids))
        .group_by(FamilyMember.family_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(Family.id, Family.name, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.family_id == Family.id)
            .where(Family.id.in_(family_ids))
            .order_by(Family.name)
        )
    ).all()
    return [MyFamily(id=r[0], name=r[1], persons_count=int(r[2])) for r in rows]


async def family_names(session: AsyncSession, *, family_ids: Sequence[str]) -> list[FamilyName]:
    """The id and name of each of these families that exists, by name (one query)."""
    if not family_ids:
        return []
    rows = (
        await session.execute(
            select(Family.id, Family.name)
            .where(Family.id.in_(set(family_ids)))
            .order_by(Family.name, Family.id)
        )
    ).all()
    return [FamilyName(id=r[0], name=r[1]) for r in rows]


async def family_contacts(
    session: AsyncSession, *, family_ids: Sequence[str], hidden: set[str]
) -> list[FamilyContact]:
    """The id, name and phone (main, else other) of each of these families that exists, by
    name, in one query; a phone field in `hidden` (the caller's field policy) is never read."""
    if not family_ids:
        return []
    phones = [getattr(Family, name) for name in ("phone", "phone_other") if name not in hidden]
    rows = (
        await session.execute(
            select(Family.id, Family.name, *phones)
            .where(Family.id.in_(set(family_ids)))
            .order_by(Family.name, Family.id)
        )
    ).all()
    return [
        FamilyContact(id=r[0], name=r[1], phone=next((p for p in r[2:] if p), None)) for r in rows
    ]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_families(
    session: AsyncSession, *, q: str, page: int, size: int
) -> tuple[list[FamilySummary], int]:
    """Families whose name or e-mail, or one of whose persons' name or e-mail, contains `q`."""
    pattern = _like(q.strip())
    by_family = select(Family.id.label("family_id")).where(
        or_(
            Family.name.ilike(pattern, escape="\\"),
            Family.email.ilike(pattern, escape="\\"),
            Family.email_other.ilike(pattern, escape="\\"),
        )
    )
    full_name = Person.first_name + " " + Person.last_name
    by_person = (
        select(FamilyMember.family_id.label("family_id"))
        .join(Person, Person.id == FamilyMember.person_id)
        .where(
            or_(
                full_name.ilike(pattern, escape="\\"),
                (Person.last_name + " " + Person.first_name).ilike(pattern, escape="\\"),
                Person.email.ilike(pattern, escape="\\"),
            )
        )
    )
    matches = union(by_family, by_person).subquery()
    total = int(await session.scalar(select(func.count()).select_from(matches)) or 0)
    families = (
        await session.scalars(
            select(Family)
            .where(Family.id.in_(select(matches.c.family_id)))
            .order_by(Family.name, Family.id)
            .offset((page - 1) * size)
            .limit(size)
        )
    ).all()
    members = await members_of(session, [f.id for f in families])
    return [
        FamilySummary(
            id=f.id,
            name=f.name,
            city=f.city,
            email=f.email,
            children=[
                f"{p.first_name} {p.last_name}" for p in members.get(f.id, []) if p.role == "child"
            ],
            persons_count=len(members.get(f.id, [])),
        )
        for f in families
    ], total


async def members_of(session: AsyncSession, family_ids: list[str]) -> dict[str, list[Person]]:
    """The persons of each family."""
    if not family_ids:
        return {}
    rows = (
        await session.execute(
            select(FamilyMember.family_id, Person)
            .join(Person, Person.id == FamilyMember.person_id)
            .where(FamilyMember.family_id.in_(family_ids))
            .order_by(Person.first_name)
        )
    ).all()
    found: dict[str, list[Person]] = {}
    for family_id, person in rows:
        found.setdefault(family_id, []).append(person)
    return found


async def households_of(session: AsyncSession, person_ids: list[str]) -> dict[str, list[str]]:
    """The families of each person."""
    if not person_ids:
        return {}
    rows = (
        await session.execute(
            select(FamilyMember.person_id, FamilyMember.family_id)
            .where(FamilyMember.person_id.in_(person_ids))
            .order_by(FamilyMember.family_id)
        )
    ).all()
    found: dict[str, list[str]] = {}
    for person_id, family_id in rows:
        found.setdefault(person_id, []).append(family_id)
    return found


@dataclass(frozen=True)
class FeedPosition:
    """Where the municipal feed stopped: (time, kind, id) of the last record sent.

    Records are ordered by that triple, so a position is exact even when many records
    share one timestamp (a seed, an import in one transaction).
    """

    at: datetime
    kind: str = ""  # "" sorts before "family" and "person": everything at `at` follows
    id: str = ""

    def encode(self) -> str:
        """An opaque cursor for the next call."""
        raw = f"{self.at.isoformat()}|{self.kind}|{self.id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> FeedPosition:
        """The position of a cursor, or 422."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            at, kind, id_ = raw.split("|", 2)
            return cls(datetime.fromisoformat(at), kind, id_)
        except ValueError:
            raise ValidationFailed(
                "Curseur invalide.",
                errors=[{"field": "cursor", "message": "Curseur invalide : reprenez celui reçu."}],
            ) from None


def _after(model: type[Family] | type[Person], kind: str, position: FeedPosition) -> Any:
    """Rows of one kind strictly after `position` in (updated_at, kind, id) order."""
    if kind < position.kind:
        return model.updated_at > position.at
    if kind > position.kind:
        return model.updated_at >= position.at
    return or_(
        model.updated_at > position.at,
        and_(model.updated_at == position.at, model.id > position.id),
    )


async def changes_after(
    session: AsyncSession, *, position: FeedPosition, limit: int
) -> tuple[list[Family], list[Person], FeedPosition | None]:
    """At most `limit` families and persons changed after `position`, and where to go on."""
    found: list[tuple[datetime, str, str, Family | Person]] = []
    full = False
    kinds: tuple[tuple[str, type[Family] | type[Person]], ...] = (
        ("family", Family),
        ("person", Person),
    )
    for kind, model in kinds:
        rows: Sequence[Family | Person] = (
            await session.scalars(  # type: ignore[assignment]
                select(model)
                .where(_after(model, kind, position))
                .order_by(model.updated_at, model.id)
                .limit(limit)
            )
        ).all()
        found += [(row.updated_at, kind, row.id, row) for row in rows]
        full = full or len(rows) == limit
    found.sort(key=lambda item: item[:3])
    page = found[:limit]
    families = [row for _, kind, _, row in page if isinstance(row, Family)]
    persons = [row for _, kind, _, row in page if isinstance(row, Person)]
    # A kind that filled its `limit` may have more rows beyond: continue after the page.
    last = page[-1] if full else None
    return families, persons, FeedPosition(last[0], last[1], last[2]) if last else None


async def requests_of_family(session: AsyncSession, *, family_id: str) -> list[ChangeRequest]:
    """Every change request of the family, newest first."""
    return list(
        (
            await session.scalars(
                select(ChangeRequest)
                .where(ChangeRequest.family_id == family_id)
                .order_by(ChangeRequest.submitted_at.desc(), ChangeRequest.id)
            )
        ).all()
    )
