"""What the documents API accepts and returns; responses carry these fields and no others."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Format = Literal["pdf", "jpeg", "png"]
Concerns = Literal["family", "child", "person"]
# What a family sees for one expected document (a submission's state, or its absence).
DisplayState = Literal[
    "missing", "scanning", "pending", "accepted", "expiring", "expired", "refused"
]

STATE_LABELS: dict[str, str] = {
    "missing": "Aucun document transmis",
    "scanning": "En cours d'analyse",
    "pending": "En attente de validation",
    "accepted": "Accepté",
    "expiring": "Expire bientôt",
    "expired": "Expiré",
    "refused": "Refusé",
    "replaced": "Remplacé",
}


def _all_formats() -> list[Format]:
    return ["pdf", "jpeg", "png"]


def _stripped(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


class DocumentTypeCreate(BaseModel):
    """A document type as staff define it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=160, description="e.g. Photocopie des vaccinations")
    help_text: str = Field("", max_length=2000)
    concerns: Concerns = "family"
    mandatory: bool = False
    validity_days: int | None = Field(None, ge=1, le=3650, description="None: never expires")
    accepted_formats: list[Format] = Field(default_factory=_all_formats, min_length=1, max_length=3)
    all_activities: bool = Field(False, description="Required for every activity")
    activity_ids: list[str] = Field(default_factory=list, max_length=200)
    active: bool = True
    position: int = Field(0, ge=0, le=10_000)

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        return _stripped(value)

    @field_validator("activity_ids")
    @classmethod
    def _short_ids(cls, value: list[str]) -> list[str]:
        if any(not 0 < len(v) <= 64 for v in value):
            raise ValueError("activity ids are 1 to 64 characters")
        return list(dict.fromkeys(value))


class DocumentTypeUpdate(BaseModel):
    """A partial change of a document type."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=160)
    help_text: str | None = Field(None, max_length=2000)
    concerns: Concerns | None = None
    mandatory: bool | None = None
    validity_days: int | None = Field(None, ge=1, le=3650)
    accepted_formats: list[Format] | None = Field(None, min_length=1, max_length=3)
    all_activities: bool | None = None
    activity_ids: list[str] | None = Field(None, max_length=200)
    active: bool | None = None
    position: int | None = Field(None, ge=0, le=10_000)


class DocumentTypeRead(BaseModel):
    """A document type as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    help_text: str
    concerns: Concerns
    mandatory: bool
    validity_days: int | None
    accepted_formats: list[Format]
    all_activities: bool
    activity_ids: list[str]
    active: bool
    position: int


class DocumentTypeList(BaseModel):
    """Document types, in display order."""

    items: list[DocumentTypeRead]


class FileRead(BaseModel):
    """One stored file: its display name and what we serve it as."""

    id: str
    name: str
    content_type: str
    size: int


class SubmissionRead(BaseModel):
    """A submission with its decision."""

    id: str
    family_id: str
    person_id: str | None
    person_name: str
    document_type_id: str
    document_type_name: str
    state: Literal["scanning", "pending", "accepted", "refused", "replaced"]
    state_label: str
    refusal_reason: str | None
    valid_until: date | None
    submitted_at: datetime
    decided_at: datetime | None
    files: list[FileRead]


class SubmissionList(BaseModel):
    """Submissions, oldest first (a review queue)."""

    items: list[SubmissionRead]


class ReplacedCopy(BaseModel):
    """An earlier copy the family sent again before staff decided: no file (it may be purged)."""

    submitted_at: datetime
    replaced_by_submitted_at: datetime = Field(description="When the copy replacing it was sent")


class ExpectedDocument(BaseModel):
    """One document the structure expects from the family, for the family or one person."""

    document_type_id: str
    name: str
    help_text: str
    mandatory: bool
    accepted_formats: list[Format]
    person_id: str | None
    state: DisplayState
    state_label: str
    refusal_reason: str | None
    valid_until: date | None
    submission: SubmissionRead | None
    replaced: list[ReplacedCopy] = Field(
        default_factory=list,
        description="Earlier copies replaced by a newer one before a decision, newest first"
        " (kept until purged, 30 days)",
    )


class MemberDocuments(BaseModel):
    """The documents expected for one member of the family."""

    person_id: str
    name: str
    is_child: bool
    documents: list[ExpectedDocument]


class FamilyDocuments(BaseModel):
    """Everything "Mes documents" shows: the family's own, then each member's."""

    family: list[ExpectedDocument]
    members: list[MemberDocuments]
    expected_count: int = Field(description="Expected documents not accepted (or expired)")
    partial: bool = Field(description="Members could not be read: only family documents listed")


class MissingDocument(BaseModel):
    """A mandatory document that blocks registration or booking."""

    document_type_id: str
    name: str
    state: DisplayState


class Completeness(BaseModel):
    """Whether a person's file is complete for an activity."""

    complete: bool
    missing: list[MissingDocument]


class CompletenessQuery(BaseModel):
    """The query of the completeness check."""

    model_config = ConfigDict(extra="forbid")

    person_id: str | None = Field(None, min_length=1, max_length=64)
    activity_id: str | None = Field(None, min_length=1, max_length=64)


class UploadQuery(BaseModel):
    """Which person an upload is for (none: a family document)."""

    model_config = ConfigDict(extra="forbid")

    person_id: str | None = Field(None, min_length=1, max_length=64)


class ReviewQuery(BaseModel):
    """Filters of the staff review queue."""

    model_config = ConfigDict(extra="forbid")

    # No "scanning": what the antivirus has not cleared stays out of staff's sight.
    state: Literal["pending", "accepted", "refused"] = "pending"
    family_id: str | None = Field(None, min_length=1, max_length=64)
    limit: int = Field(50, ge=1, le=100)


class AcceptBody(BaseModel):
    """Staff's acceptance; the validity defaults to the document type's duration."""

    model_config = ConfigDict(extra="forbid")

    valid_until: date | None = None


class RefuseBody(BaseModel):
    """Staff's refusal, with the reason the family will read."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=1000)

    @field_validator("reason")
    @classmethod
    def _strip_reason(cls, value: str) -> str:
        return _stripped(value)


class OrgDocumentCreate(BaseModel):
    """A document the structure publishes (its file is sent afterwards)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=80, description="e.g. Règlement, Menus")
    description: str = Field("", max_length=2000)
    published_at: datetime | None = Field(None, description="Default: now")
    published_until: datetime | None = None
    to_return: bool = Field(False, description="À retourner à la structure")
    document_type_id: str | None = Field(None, max_length=36)

    @field_validator("title", "category")
    @classmethod
    def _strip_title(cls, value: str) -> str:
        return _stripped(value)

    @model_validator(mode="after")
    def _dates_in_order(self) -> OrgDocumentCreate:
        if self.published_at and self.published_until and self.published_until <= self.published_at:
            raise ValueError("published_until must be after published_at")
        return self


class OrgDocumentUpdate(BaseModel):
    """A partial change of a published document."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=200)
    category: str | None = Field(None, min_length=1, max_length=80)
    description: str | None = Field(None, max_length=2000)
    published_at: datetime | None = None
    published_until: datetime | None = None
    to_return: bool | None = None
    document_type_id: str | None = Field(None, max_length=36)


class OrgDocumentRead(BaseModel):
    """A published document of the structure."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    category: str
    description: str
    published_at: datetime
    published_until: datetime | None
    to_return: bool
    document_type_id: str | None
    file_name: str | None = Field(None, validation_alias="display_name")
    content_type: str | None
    size: int | None


class OrgDocumentList(BaseModel):
    """The structure's published documents."""

    items: list[OrgDocumentRead]
