"""What the families API accepts and returns; responses carry these fields and no others."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from . import formats
from .fields import Access, Entity, PolicyRole

# Reusable field types: French formats checked and normalised once, here.
Name = Annotated[str, Field(max_length=80), AfterValidator(formats.clean_text)]
Text120 = Annotated[str, Field(max_length=120), AfterValidator(formats.clean_text)]
Text200 = Annotated[str, Field(max_length=200), AfterValidator(formats.clean_text)]
LongText = Annotated[str, Field(max_length=500), AfterValidator(formats.clean_text)]
Short = Annotated[str, Field(max_length=40), AfterValidator(formats.clean_text)]
Phone = Annotated[str, Field(max_length=30), AfterValidator(formats.phone)]
PostalCode = Annotated[str, Field(max_length=10), AfterValidator(formats.postal_code)]
Email = Annotated[str, Field(max_length=254), AfterValidator(formats.email)]
Allocataire = Annotated[str, Field(max_length=20), AfterValidator(formats.allocataire_number)]
BirthDate = Annotated[date, AfterValidator(formats.birth_date)]
PastDate = Annotated[date, AfterValidator(formats.past_date)]
Id = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[^\x00-\x1f]+$")]

PersonRole = Literal["responsable", "child", "contact"]
Diet = Literal["standard", "sans_porc", "sans_viande", "vegetarien"]
Regime = Literal["CAF", "MSA", "autre"]
QuotientSource = Literal["CAF", "MSA", "avis_imposition", "autre"]
FamilyStatus = Literal["active", "archived"]
RequestState = Literal["pending", "accepted", "refused", "withdrawn"]


class _Input(BaseModel):
    """Inputs refuse unknown fields and read a blank string as "no value"."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _blank_is_none(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {
                k: (None if isinstance(v, str) and not v.strip() else v) for k, v in data.items()
            }
        return data


class FamilyFields(_Input):
    """The family's fields that staff, imports and (by policy) the family itself may write."""

    name: Text120 | None = Field(None, description="Nom de la famille, e.g. TEST")
    address: Text200 | None = None
    address_complement: Text200 | None = None
    postal_code: PostalCode | None = Field(None, description="5 chiffres, e.g. 64240")
    city: Name | None = None
    phone: Phone | None = Field(None, description="normalised to 05 59 00 00 00")
    phone_other: Phone | None = None
    email: Email | None = None
    email_other: Email | None = None
    allocataire_regime: Regime | None = None
    allocataire_number: Allocataire | None = None
    billing_person_id: Id | None = None
    status: FamilyStatus | None = None


class FamilyCreate(FamilyFields):
    """A new family, as staff or a municipal system create it."""

    name: Text120 = Field(description="Nom de la famille, e.g. TEST")


class FamilyUpdate(FamilyFields):
    """A direct edit by staff or an import, against the version it was read at.

    The quotient may come with it, always with its date and source (the three checked as
    `PUT …/quotient` checks them): the fields and the quotient are saved together or not at
    all."""

    quotient: int | None = Field(
        None, ge=0, le=100_000, description="en euros; with `quotient_date` and `quotient_source`"
    )
    quotient_date: PastDate | None = None
    quotient_source: QuotientSource | None = None
    version: int = Field(ge=1, description="the `version` the caller read; 409 when stale")


# The quotient familial and its evidence: written together, never one without the others.
QUOTIENT_FIELDS = ("quotient", "quotient_date", "quotient_source")


class QuotientUpdate(_Input):
    """A new quotient familial with its evidence (staff or the structure's software only)."""

    quotient: int = Field(ge=0, le=100_000, description="en euros")
    quotient_date: PastDate
    quotient_source: QuotientSource
    version: int = Field(ge=1)


class PersonFields(_Input):
    """A person's writable fields (identity, contacts, school, health, authorisations)."""

    role: PersonRole | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    sex: Literal["F", "M"] | None = None
    birth_date: BirthDate | None = None
    phone_mobile: Phone | None = None
    phone_work: Phone | None = None
    email: Email | None = None
    relationship: Short | None = Field(None, description="e.g. mère, grand-père")
    emergency_contact: bool | None = None
    authorised_pickup: bool | None = None
    school: Text120 | None = None
    school_class: Short | None = None
    doctor_name: Text120 | None = None
    doctor_phone: Phone | None = None
    diet: Diet | None = None
    allergies: LongText | None = None
    pai: bool | None = None
    pai_end_date: date | None = None
    vaccination_dtp_date: PastDate | None = None
    vaccination_ror_date: PastDate | None = None
    photo_authorised: bool | None = None
    may_leave_alone: bool | None = None
    insurance_company: Text120 | None = None
    insurance_number: Short | None = None


class PersonCreate(PersonFields):
    """A new person of a family."""

    role: PersonRole
    first_name: Name
    last_name: Name


class PersonUpdate(PersonFields):
    """A direct edit of a person by staff or an import."""

    version: int = Field(ge=1)


class MemberLink(_Input):
    """Link an existing person to another household (a child of separated parents)."""

    person_id: Id


class FieldRule(BaseModel):
    """How the caller may use one field; `mandatory` fields are shown with `*`."""

    field: str
    label: str
    access: Access
    mandatory: bool


class FamilyRead(BaseModel):
    """A family as the API shows it (fields hidden from the caller are left out)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    address: str | None = None
    address_complement: str | None = None
    postal_code: str | None = None
    city: str | None = None
    phone: str | None = None
    phone_other: str | None = None
    email: str | None = None
    email_other: str | None = None
    allocataire_regime: str | None = None
    allocataire_number: str | None = None
    quotient: int | None = None
    quotient_date: date | None = None
    quotient_source: str | None = None
    billing_person_id: str | None = None
    status: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int


class FamilyDetail(FamilyRead):
    """A family with the caller's field rules and the fields waiting for staff."""

    fields: list[FieldRule] = []
    pending_fields: list[str] = []


class PersonRead(BaseModel):
    """A person as the API shows it (fields hidden from the caller are left out)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    role: str
    first_name: str
    last_name: str
    sex: str | None = None
    birth_date: date | None = None
    phone_mobile: str | None = None
    phone_work: str | None = None
    email: str | None = None
    relationship: str | None = None
    emergency_contact: bool | None = None
    authorised_pickup: bool | None = None
    school: str | None = None
    school_class: str | None = None
    doctor_name: str | None = None
    doctor_phone: str | None = None
    diet: str | None = None
    allergies: str | None = None
    pai: bool | None = None
    pai_end_date: date | None = None
    vaccination_dtp_date: date | None = None
    vaccination_ror_date: date | None = None
    photo_authorised: bool | None = None
    may_leave_alone: bool | None = None
    insurance_company: str | None = None
    insurance_number: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int


class PersonDetail(PersonRead):
    """A person with the caller's field rules and the fields waiting for staff."""

    fields: list[FieldRule] = []
    pending_fields: list[str] = []


class PersonChange(PersonRead):
    """A person in the municipal changes feed, with its households."""

    family_ids: list[str]


class ChangeRequestCreate(_Input):
    """A family's edit of its household or of one of its persons."""

    target: Literal["family", "person"]
    person_id: Id | None = Field(None, description="required when target is person")
    version: int = Field(ge=1, description="the record's `version` the form was filled from")
    changes: dict[str, Any] = Field(min_length=1, max_length=40)

    @model_validator(mode="after")
    def _person_matches_target(self) -> ChangeRequestCreate:
        if self.target == "person" and not self.person_id:
            raise ValueError("person_id est obligatoire pour modifier une personne.")
        if self.target == "family" and self.person_id:
            raise ValueError("person_id n'a pas de sens pour modifier la famille.")
        return self


class FieldChange(BaseModel):
    """One field of a request: its value when asked and the value asked for."""

    field: str
    label: str
    old: Any = None
    new: Any = None


class StaffFieldChange(FieldChange):
    """A field of a request beside today's value, for the side-by-side review."""

    current: Any = None
    changed_since: bool = False


class ChangeRequestRead(BaseModel):
    """A change request as its family sees it."""

    id: str
    family_id: str
    target: str
    person_id: str | None
    person_name: str | None = None
    state: RequestState
    base_version: int
    changes: list[FieldChange]
    submitted_at: datetime
    decided_at: datetime | None = None
    reason: str | None = None


class StaffChangeRequestRead(ChangeRequestRead):
    """A change request in the staff queue, with the family and today's values."""

    family_name: str
    changes: list[StaffFieldChange]  # type: ignore[assignment]
    submitted_by: str
    decided_by: str | None = None
    conflict: bool = False


class RequestPage(BaseModel):
    """A page of the staff queue."""

    items: list[StaffChangeRequestRead]
    page: int
    size: int
    total: int


class Decision(_Input):
    """A staff decision on one request; refusing needs a reason the family will read."""

    reason: LongText | None = None


class BatchDecision(_Input):
    """The same decision on several requests, each applied on its own."""

    request_ids: list[Id] = Field(min_length=1, max_length=100)
    decision: Literal["accept", "refuse"]
    reason: LongText | None = None


class BatchOutcome(BaseModel):
    """What happened to one request of a batch."""

    request_id: str
    status: int
    state: str | None = None
    detail: str | None = None


class BatchResult(BaseModel):
    """Every request of a batch with its outcome."""

    results: list[BatchOutcome]


class PolicyEntry(BaseModel):
    """The access of one field for one role, as stored (or by default)."""

    entity: Entity
    field: str
    label: str
    role: PolicyRole
    access: Access
    default: Access
    protected: bool
    adults_only: bool = Field(
        False, description="a person's field a child's record never offers, whatever its access"
    )
    children_only: bool = Field(
        False, description="a person's field an adult's record never offers, whatever its access"
    )


class PolicyRead(BaseModel):
    """The whole field policy."""

    rules: list[PolicyEntry]


class PolicyChange(_Input):
    """Staff set the access of one field for one role."""

    entity: Entity
    field: Annotated[str, Field(max_length=40)]
    role: PolicyRole
    access: Access


class PolicyUpdate(_Input):
    """Several policy changes, applied together or not at all."""

    rules: list[PolicyChange] = Field(min_length=1, max_length=200)


class SearchQuery(_Input):
    """Staff search by family name, person name or e-mail."""

    q: Annotated[str, Field(min_length=2, max_length=100), AfterValidator(formats.clean_text)]
    page: int = Field(1, ge=1, le=10_000)
    size: int = Field(20, ge=1)


class RequestFilter(_Input):
    """The family's requests, all or in one state."""

    state: RequestState | None = None


class QueueQuery(_Input):
    """Filters of the staff queue."""

    state: RequestState = "pending"
    family_id: Id | None = None
    page: int = Field(1, ge=1, le=10_000)
    size: int = Field(50, ge=1)


class FamilySummary(BaseModel):
    """A line of the staff search."""

    id: str
    name: str
    city: str | None
    email: str | None
    children: list[str]
    persons_count: int


class SearchResult(BaseModel):
    """A page of families found."""

    items: list[FamilySummary]
    page: int
    size: int
    total: int


class MyFamily(BaseModel):
    """A household the signed-in account belongs to."""

    id: str
    name: str
    persons_count: int


MAX_FAMILY_NAMES = 200


class FamilyNamesQuery(_Input):
    """The families whose names a staff list shows (one call for a whole page)."""

    ids: list[Id] = Field(max_length=MAX_FAMILY_NAMES, description="Family ids, 200 at most")


class FamilyName(BaseModel):
    """A family's id and name, nothing else."""

    id: str
    name: str


class FamilyNames(BaseModel):
    """The names of the families asked for that exist; unknown ids are simply absent."""

    families: list[FamilyName]


class FamilyContact(FamilyName):
    """A family's id, name and the phone to call it on: its main one, else its other one."""

    phone: str | None = Field(
        None, description="the main phone, else the other one; null when neither is known"
    )


class FamilyContacts(BaseModel):
    """The contacts of the families asked for that exist; unknown ids are simply absent."""

    families: list[FamilyContact]


CHANGES_PAGE = 200
MAX_CHANGES = 500


class ChangesQuery(_Input):
    """The municipal feed: from a date (first call), then from the cursor it returned."""

    since: datetime | None = None
    cursor: Annotated[str, Field(max_length=200)] | None = None
    # One page is one read held in memory and one answer: beyond, follow the cursor.
    limit: int = Field(CHANGES_PAGE, ge=1, le=MAX_CHANGES)

    @model_validator(mode="after")
    def _one_start(self) -> ChangesQuery:
        if (self.since is None) == (self.cursor is None):
            raise ValueError("Donnez soit since (une date ISO 8601), soit cursor.")
        if self.since is not None and self.since.tzinfo is None:
            raise ValueError("since doit porter un fuseau, par exemple 2026-01-01T00:00:00Z.")
        return self


class ChangesRead(BaseModel):
    """Families and persons changed, oldest first; call again with `next_cursor` until null."""

    families: list[FamilyRead]
    persons: list[PersonChange]
    next_cursor: str | None


class FamilyExport(BaseModel):
    """This service's part of a family's RGPD access export."""

    service: Literal["families"] = "families"
    exported_at: datetime
    family: FamilyRead
    persons: list[PersonRead]
    change_requests: list[ChangeRequestRead]
