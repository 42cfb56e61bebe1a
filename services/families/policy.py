"""The field policy: defaults from the catalogue, overridden by staff decisions stored in the DB."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.outbox import utcnow
from services.kit.problems import ValidationFailed

from .fields import (
    ADULTS_ONLY,
    CATALOGUE,
    CHILDREN_ONLY,
    WRITABLE,
    Access,
    Entity,
    PolicyRole,
    applies_to,
    default_access,
    is_protected,
)
from .models import FieldPolicy
from .schemas import FieldRule, PolicyChange, PolicyEntry

ROLES: tuple[PolicyRole, ...] = ("family", "staff")


class Policy:
    """The effective access of every field for every role, read once per request."""

    def __init__(self, stored: dict[tuple[str, str, str], str]) -> None:
        self._stored = stored

    def access(self, entity: Entity, field: str, role: PolicyRole) -> Access:
        """The access of `field` for `role` (stored decision, else the default)."""
        stored = self._stored.get((entity, field, role))
        access: Access = stored if stored is not None else default_access(entity, field, role)  # type: ignore[assignment]
        # Defence in depth: a protected field never becomes writable by a family, even if a
        # row was written by hand in the table.
        if role == "family" and is_protected(entity, field) and access in WRITABLE:
            return "read"
        return access

    def rules(
        self, entity: Entity, role: PolicyRole, person_role: str | None = None
    ) -> list[FieldRule]:
        """What a caller of `role` sees of `entity`: every visible field with its access;
        of a person of `person_role`, only the fields that apply to it (no adult's on a child,
        no child's on an adult)."""
        rules = []
        for name, spec in CATALOGUE[entity].items():
            if not applies_to(entity, name, person_role):
                continue
            access = self.access(entity, name, role)
            if access != "hidden":
                rules.append(
                    FieldRule(
                        field=name, label=spec.label, access=access, mandatory=access == "mandatory"
                    )
                )
        return rules

    def hidden(self, entity: Entity, role: PolicyRole) -> set[str]:
        """The fields of `entity` a caller of `role` must not see."""
        return {n for n in CATALOGUE[entity] if self.access(entity, n, role) == "hidden"}


async def load_policy(session: AsyncSession) -> Policy:
    """The policy as stored now."""
    rows = (await session.scalars(select(FieldPolicy))).all()
    return Policy({(r.entity, r.field, r.role): r.access for r in rows})


async def read_policy(session: AsyncSession) -> list[PolicyEntry]:
    """Every field, for every role, with its access and its default."""
    policy = await load_policy(session)
    entries = []
    for entity, specs in CATALOGUE.items():
        for name, spec in specs.items():
            for role in ROLES:
                entries.append(
                    PolicyEntry(
                        entity=entity,
                        field=name,
                        label=spec.label,
                        role=role,
                        access=policy.access(entity, name, role),
                        default=default_access(entity, name, role),
                        protected=spec.protected,
                        adults_only=entity == "person" and name in ADULTS_ONLY,
                        children_only=entity == "person" and name in CHILDREN_ONLY,
                    )
                )
    return entries


async def update_policy(
    session: AsyncSession, *, changes: list[PolicyChange], actor: str
) -> list[PolicyEntry]:
    """Store staff decisions, all or none; a protected field stays read-only for families."""
    errors = []
    for index, change in enumerate(changes):
        where = f"rules.{index}"
        if change.field not in CATALOGUE[change.entity]:
            errors.append({"field": f"{where}.field", "message": "Champ inconnu."})
        elif (
            change.role == "family"
            and is_protected(change.entity, change.field)
            and change.access in WRITABLE
        ):
            errors.append(
                {
                    "field": f"{where}.access",
                    "message": "Champ protégé : une famille ne peut pas le modifier.",
                }
            )
    if errors:
        raise ValidationFailed("Certaines règles sont invalides.", errors=errors)
    now = utcnow()
    for change in changes:
        key = (change.entity, change.field, change.role)
        row = await session.get(FieldPolicy, key)
        if row is None:
            row = FieldPolicy(entity=change.entity, field=change.field, role=change.role)
            session.add(row)
        row.access = change.access
        row.updated_at = now
        row.updated_by = actor
    await session.flush()
    return await read_policy(session)
