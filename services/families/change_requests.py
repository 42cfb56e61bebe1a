"""Change requests: a family's edit waits for staff, who accept (apply) or refuse it.

Nothing is ever overwritten silently:
- a request is made against the record's `version`: a form filled before a staff edit is
  refused (409) instead of undoing that edit;
- two pending requests may not touch the same field of the same record (409);
- on acceptance, each field must still hold the value the family saw (`old`); if staff or
  another request changed it meanwhile, acceptance is refused (409) and staff decide again;
- the request row and the record are locked, and both carry a version, so two staff
  accepting at once cannot both apply.
Each transition writes its event in the same transaction (outbox).
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.outbox import utcnow
from services.kit.problems import ValidationFailed

from . import events
from .errors import (
    ChangedSinceRequest,
    ChangeRequestNotFound,
    PendingRequestConflict,
    RequestAlreadyDecided,
)
from .fields import CATALOGUE, WRITABLE, Entity, applies_to, is_protected, label_of
from .models import ChangeRequest, Family, Person
from .policy import load_policy
from .schemas import (
    ChangeRequestCreate,
    ChangeRequestRead,
    FamilyFields,
    FieldChange,
    PersonFields,
    StaffChangeRequestRead,
    StaffFieldChange,
)
from .service import (
    apply_values,
    check_applies,
    check_version,
    emit,
    get_family,
    get_person,
    json_value,
    not_for,
)
from .validation import parse

PENDING = "pending"
FIELDS_MODEL: dict[str, type[BaseModel]] = {"family": FamilyFields, "person": PersonFields}


async def submit(
    session: AsyncSession, *, family_id: str, data: ChangeRequestCreate, subject: str
) -> ChangeRequest:
    """Save a family's edit as a pending request, or refuse it whole (422/409)."""
    entity: Entity = data.target
    # Locking the family serialises the family's submissions: two concurrent requests on
    # the same field cannot both pass the overlap check below.
    family = await get_family(session, family_id=family_id, lock=True)
    record: Family | Person = family
    if entity == "person":
        assert data.person_id is not None  # checked by the schema
        record = await get_person(session, family_id=family_id, person_id=data.person_id)
    person_role = record.role if isinstance(record, Person) else None
    values = await _validated_values(session, entity, data.changes, person_role)
    check_version(record, data.version)

    changes = [
        {"field": name, "old": json_value(getattr(record, name)), "new": json_value(value)}
        for name, value in values.items()
        if json_value(getattr(record, name)) != json_value(value)
    ]
    if not changes:
        raise ValidationFailed(
            "Aucune modification : les valeurs sont déjà celles du dossier.",
            errors=[{"field": "changes", "message": "Aucune valeur ne change."}],
        )
    await _refuse_overlap(session, family_id, entity, data.person_id, {c["field"] for c in changes})

    request = ChangeRequest(
        id=str(uuid.uuid4()),
        family_id=family_id,
        target=entity,
        person_id=data.person_id,
        state=PENDING,
        base_version=record.version,
        changes=changes,
        submitted_by=subject,
        submitted_at=utcnow(),
    )
    session.add(request)
    emit(
        session,
        events.CHANGE_REQUESTED,
        family_id,
        request_id=request.id,
        target=entity,
        person_id=data.person_id,
        **_fields_named(request),
    )
    await session.flush()
    return request


async def _validated_values(
    session: AsyncSession, entity: Entity, changes: dict[str, Any], person_role: str | None
) -> dict[str, Any]:
    """The requested values, parsed; 422 listing every field a family may not write."""
    policy = await load_policy(session)
    errors = []
    for name in changes:
        if is_protected(entity, name):
            message = "Champ protégé : seule la structure peut le modifier."
        elif name not in CATALOGUE[entity]:
            message = "Champ inconnu."
        elif not applies_to(entity, name, person_role):
            message = not_for(person_role)
        elif policy.access(entity, name, "family") not in WRITABLE:
            message = "Ce champ n'est pas modifiable en ligne."
        else:
            continue
        errors.append({"field": f"changes.{name}", "message": message})
    if errors:
        # Refused whole: nothing of the request is kept when any field is not allowed.
        raise ValidationFailed("Cette demande contient des champs non modifiables.", errors=errors)
    parsed: BaseModel = parse(FIELDS_MODEL[entity], changes, prefix="changes.")
    values: dict[str, Any] = parsed.model_dump(include=set(changes))
    missing = [
        {"field": f"changes.{name}", "message": "Ce champ est obligatoire."}
        for name, value in values.items()
        if value is None and policy.access(entity, name, "family") == "mandatory"
    ]
    if missing:
        raise ValidationFailed("Certains champs obligatoires sont vides.", errors=missing)
    return values


async def _refuse_overlap(
    session: AsyncSession, family_id: str, entity: str, person_id: str | None, fields: set[str]
) -> None:
    pending = (
        await session.scalars(
            select(ChangeRequest).where(
                ChangeRequest.family_id == family_id,
                ChangeRequest.state == PENDING,
                ChangeRequest.target == entity,
                ChangeRequest.person_id.is_(None)
                if person_id is None
                else ChangeRequest.person_id == person_id,
            )
        )
    ).all()
    taken = sorted(fields & {c["field"] for r in pending for c in r.changes})
    if taken:
        raise PendingRequestConflict(
            "Une demande en attente porte déjà sur ces champs : retirez-la ou attendez sa réponse.",
            errors=[
                {
                    "field": f"changes.{name}",
                    "message": "Une demande en attente porte déjà sur ce champ.",
                }
                for name in taken
            ],
        )


async def get_request(
    session: AsyncSession, *, request_id: str, family_id: str | None = None, lock: bool = False
) -> ChangeRequest:
    """A request (of `family_id` when given: another family's answers like a missing one)."""
    request = await session.get(ChangeRequest, request_id, with_for_update=lock)
    if request is None or (family_id is not None and request.family_id != family_id):
        raise ChangeRequestNotFound("No such change request.")
    return request


async def list_for_family(
    session: AsyncSession, *, family_id: str, state: str | None = None
) -> list[ChangeRequest]:
    """The family's requests, newest first."""
    statement = select(ChangeRequest).where(ChangeRequest.family_id == family_id)
    if state:
        statement = statement.where(ChangeRequest.state == state)
    statement = statement.order_by(ChangeRequest.submitted_at.desc(), ChangeRequest.id)
    return list((await session.scalars(statement)).all())


async def withdraw(
    session: AsyncSession, *, family_id: str, request_id: str, subject: str
) -> ChangeRequest:
    """The family takes back a request that staff have not decided yet."""
    request = await get_request(session, request_id=request_id, family_id=family_id, lock=True)
    _require_pending(request)
    request.state = "withdrawn"
    request.decided_at = utcnow()
    request.decided_by = subject
    emit(
        session, events.CHANGE_WITHDRAWN, family_id, request_id=request.id, **_fields_named(request)
    )
    await session.flush()
    return request


def _require_pending(request: ChangeRequest) -> None:
    if request.state != PENDING:
        raise RequestAlreadyDecided(
            f"Cette demande n'est plus en attente (état : {request.state}).", state=request.state
        )


async def decide(
    session: AsyncSession, *, request_id: str, accept: bool, reason: str | None, subject: str
) -> ChangeRequest:
    """Accept (apply the change) or refuse a pending request, with its event."""
    request = await get_request(session, request_id=request_id, lock=True)
    _require_pending(request)
    if not accept and not reason:
        raise ValidationFailed(
            "Indiquez le motif du refus : la famille le recevra.",
            errors=[{"field": "reason", "message": "Le motif est obligatoire pour un refus."}],
        )
    if accept:
        record = await _target(session, request, lock=True)
        changed = [
            c["field"]
            for c in request.changes
            if json_value(getattr(record, c["field"])) != c["old"]
        ]
        if changed:
            raise ChangedSinceRequest(
                "Ces champs ont été modifiés depuis la demande : refusez-la ou demandez à la "
                "famille d'en faire une nouvelle.",
                errors=[
                    {"field": name, "message": "Modifié depuis la demande."} for name in changed
                ],
            )
        model = FIELDS_MODEL[request.target]
        values = model.model_validate({c["field"]: c["new"] for c in request.changes})
        new_values = values.model_dump(include={c["field"] for c in request.changes})
        # A request filed before the person's role changed cannot apply fields that no
        # longer concern it (an adult's on a child, a child's on an adult).
        if isinstance(record, Person) and (errors := check_applies(record.role, new_values)):
            message = "Ces champs ne concernent pas un adulte : refusez la demande."
            if record.role == "child":
                message = "Ces champs ne concernent pas un enfant : refusez la demande."
            raise ValidationFailed(message, errors=errors)
        apply_values(record, new_values)
    request.state = "accepted" if accept else "refused"
    request.decided_at = utcnow()
    request.decided_by = subject
    request.reason = reason
    emit(
        session,
        events.CHANGE_ACCEPTED if accept else events.CHANGE_REFUSED,
        request.family_id,
        request_id=request.id,
        target=request.target,
        person_id=request.person_id,
        **_fields_named(request),
        reason=reason,
    )
    await session.flush()
    return request


async def _target(
    session: AsyncSession, request: ChangeRequest, lock: bool = False
) -> Family | Person:
    if request.target == "family":
        return await get_family(session, family_id=request.family_id, lock=lock)
    assert request.person_id is not None
    return await get_person(
        session, family_id=request.family_id, person_id=request.person_id, lock=lock
    )


async def queue(
    session: AsyncSession, *, state: str, family_id: str | None, page: int, size: int
) -> tuple[list[StaffChangeRequestRead], int]:
    """A page of requests for staff, oldest first, beside today's values."""
    where = [ChangeRequest.state == state]
    if family_id:
        where.append(ChangeRequest.family_id == family_id)
    total = int(
        await session.scalar(select(func.count()).select_from(ChangeRequest).where(*where)) or 0
    )
    requests = (
        await session.scalars(
            select(ChangeRequest)
            .where(*where)
            .order_by(ChangeRequest.submitted_at, ChangeRequest.id)
            .offset((page - 1) * size)
            .limit(size)
        )
    ).all()
    return [await staff_view(session, r) for r in requests], total


async def staff_view(session: AsyncSession, request: ChangeRequest) -> StaffChangeRequestRead:
    """A request with its family, its person and today's value of each field."""
    family = await session.get(Family, request.family_id)
    person = await session.get(Person, request.person_id) if request.person_id else None
    record = person if request.target == "person" else family
    changes = []
    for change in request.changes:
        current = json_value(getattr(record, change["field"])) if record is not None else None
        changes.append(
            StaffFieldChange(
                **change,
                label=_label(request.target, change["field"]),
                current=current,
                changed_since=current != change["old"],
            )
        )
    base = family_view(request, person)
    return StaffChangeRequestRead(
        **base.model_dump(exclude={"changes"}),
        changes=changes,
        family_name=family.name if family else "",
        submitted_by=request.submitted_by,
        decided_by=request.decided_by,
        conflict=request.state == PENDING and any(c.changed_since for c in changes),
    )


def _fields_named(request: ChangeRequest) -> dict[str, list[str]]:
    """The request's fields, and their French labels: the family's e-mail and « Historique de
    mes actions » name them as its screens do."""
    return {
        "fields": [c["field"] for c in request.changes],
        "labels": [_label(request.target, c["field"]) for c in request.changes],
    }


def _label(target: str, field: str) -> str:
    return label_of("person" if target == "person" else "family", field)


def family_view(request: ChangeRequest, person: Person | None = None) -> ChangeRequestRead:
    """A request as its family sees it."""
    return ChangeRequestRead(
        id=request.id,
        family_id=request.family_id,
        target=request.target,
        person_id=request.person_id,
        person_name=f"{person.first_name} {person.last_name}" if person else None,
        state=request.state,
        base_version=request.base_version,
        changes=[
            FieldChange(**c, label=_label(request.target, c["field"])) for c in request.changes
        ],
        submitted_at=request.submitted_at,
        decided_at=request.decided_at,
        reason=request.reason,
    )


async def family_views(
    session: AsyncSession, requests: list[ChangeRequest]
) -> list[ChangeRequestRead]:
    """Requests as their family sees them, with the persons' names."""
    person_ids = {r.person_id for r in requests if r.person_id}
    persons = (
        {
            p.id: p
            for p in (await session.scalars(select(Person).where(Person.id.in_(person_ids)))).all()
        }
        if person_ids
        else {}
    )
    return [family_view(r, persons.get(r.person_id or "")) for r in requests]


def pending_fields(requests: list[ChangeRequest], target: str, person_id: str | None) -> list[str]:
    """The fields of one record that wait for staff."""
    return sorted(
        {
            c["field"]
            for r in requests
            if r.state == PENDING and r.target == target and r.person_id == person_id
            for c in r.changes
        }
    )
