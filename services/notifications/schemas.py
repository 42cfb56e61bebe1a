"""What the notifications API accepts and returns; responses carry these fields and no others."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from services.kit.bodies import MAX_PAGE_SIZE

DEFAULT_PAGE_SIZE = 20


class PageQuery(BaseModel):
    """`?page=&page_size=`; a larger page size is capped at 100 rather than refused."""

    model_config = ConfigDict(extra="forbid")

    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1)

    @field_validator("page_size")
    @classmethod
    def _cap(cls, value: int) -> int:
        return min(value, MAX_PAGE_SIZE)


class JournalQuery(PageQuery):
    """A page of the journal, optionally within [since, until) — the week or month filters."""

    since: AwareDatetime | None = None
    until: AwareDatetime | None = None


class JournalEntryRead(BaseModel):
    """One line of "Historique de mes actions"."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    event_type: str
    occurred_at: datetime
    account_id: str | None
    summary: dict[str, Any]


class JournalPage(BaseModel):
    """A page of a family's journal, newest first."""

    items: list[JournalEntryRead]
    page: int
    page_size: int
    total: int


class Tile(BaseModel):
    """A dashboard tile's figure."""

    count: int


class DashboardRead(BaseModel):
    """The tiles this service fills on "Mon tableau de bord"."""

    historique: Tile
    contact: Tile


class DeadLetterRead(BaseModel):
    """A message the consumer could not handle."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    received_at: datetime
    reason: str
    raw: Any


class DeadLetterPage(BaseModel):
    """A page of dead letters, newest first."""

    items: list[DeadLetterRead]
    page: int
    page_size: int
    total: int
